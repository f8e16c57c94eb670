using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.CertificateTransparency;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Tests.CertificateTransparency;

public sealed class CtApiTests(CtFixture log) : IClassFixture<CtFixture>
{
    [Fact]
    public async Task AddPreChain_Precertificate_ReturnsSctThatVerifiesAsTheCaChecksIt()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var precert = log.Ca.IssueLeaf(poison: true);

        var (sct, json) = await log.SubmitAsync("add-pre-chain", log.Ca.Chain(precert));

        // Exactly what CertificateIssuer does with the response: TBS without poison, issuer key hash of chain[1].
        var signedData = CtSignedData.ForPrecertificate(sct.TimestampMs, log.Ca.IntermediateKeyHash, Precertificate.TbsWithoutPoison(precert), sct.Extensions);
        Assert.True(SctSignatures.Verify(sct, signedData, log.LogSpki));
        Assert.InRange((long)sct.TimestampMs, before - 1000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1000);
        Assert.Empty(sct.Extensions);
        using var document = JsonDocument.Parse(json);
        Assert.Equal(0, document.RootElement.GetProperty("sct_version").GetInt32());
        Assert.Equal("", document.RootElement.GetProperty("extensions").GetString());
        Assert.Equal(Convert.ToBase64String(SHA256.HashData(log.LogSpki)), document.RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public async Task AddChain_FinalCertificate_ReturnsSctThatVerifies()
    {
        var leaf = log.Ca.IssueLeaf(poison: false);

        var (sct, _) = await log.SubmitAsync("add-chain", log.Ca.Chain(leaf));

        Assert.True(SctSignatures.Verify(sct, CtSignedData.ForCertificate(sct.TimestampMs, leaf, sct.Extensions), log.LogSpki));
    }

    [Fact]
    public async Task AddChain_WithoutTheRoot_IsAcceptedAndStoresTheRootInExtraData()
    {
        var leaf = log.Ca.IssueLeaf(poison: false);

        var (sct, _) = await log.SubmitAsync("add-chain", [leaf, log.Ca.Intermediate.RawData]);

        var (_, extraData) = await EntryOfAsync(CtSignedData.MerkleTreeLeafForCertificate(sct.TimestampMs, leaf, []));
        Assert.Equal(CertificateChain(log.Ca.Intermediate.RawData, log.Ca.Root.RawData), extraData);
    }

    [Fact]
    public async Task AddPreChain_Resubmitted_ReturnsTheSameSctAndDoesNotGrowTheTree()
    {
        var precert = log.Ca.IssueLeaf(poison: true);
        var (_, first) = await log.SubmitAsync("add-pre-chain", log.Ca.Chain(precert));
        var size = (await log.GetSthAsync()).TreeSize;

        var (_, second) = await log.SubmitAsync("add-pre-chain", log.Ca.Chain(precert));
        var (_, third) = await log.SubmitAsync("add-pre-chain", [precert, log.Ca.Intermediate.RawData]);

        Assert.Equal(first, second);
        Assert.Equal(first, third);
        Assert.Equal(size, (await log.GetSthAsync()).TreeSize);
    }

    [Fact]
    public async Task AddPreChain_ResubmittedConcurrentlyWithNewOnes_EachKnownGetsItsFirstSctAndOnlyNewOnesAreAppended()
    {
        // Resubmissions and new submissions share batches: each must still get its own answer.
        var known = Enumerable.Range(0, 8).Select(_ => log.Ca.IssueLeaf(poison: true)).ToArray();
        var first = new List<string>();
        foreach (var precert in known)
        {
            first.Add((await log.SubmitAsync("add-pre-chain", log.Ca.Chain(precert))).Json);
        }

        var size = (await log.GetSthAsync()).TreeSize;
        var fresh = Enumerable.Range(0, 8).Select(_ => log.Ca.IssueLeaf(poison: true)).ToArray();

        var answers = await Task.WhenAll(known.Concat(fresh).Select(precert => log.SubmitAsync("add-pre-chain", log.Ca.Chain(precert))));

        Assert.Equal(first, answers[..8].Select(a => a.Json));
        for (var i = 0; i < fresh.Length; i++)
        {
            var sct = answers[8 + i].Sct;
            var signedData = CtSignedData.ForPrecertificate(sct.TimestampMs, log.Ca.IntermediateKeyHash, Precertificate.TbsWithoutPoison(fresh[i]), sct.Extensions);
            Assert.True(SctSignatures.Verify(sct, signedData, log.LogSpki));
        }

        Assert.Equal(size + fresh.Length, (await log.GetSthAsync()).TreeSize);
    }

    [Fact]
    public async Task AddPreChain_SameCertificatesRacing_EachIsLoggedOnceAndEverySubmissionGetsTheSameSct()
    {
        // Identical submissions at once: they meet in one batch or in consecutive ones (the lookup under the head lock
        // and the batch's own assignment), never both appended, never two different SCTs. Half send the chain without
        // its root: the same certificate, another request.
        var precerts = Enumerable.Range(0, 3).Select(_ => log.Ca.IssueLeaf(poison: true)).ToArray();
        var final = log.Ca.IssueLeaf(poison: false);
        var size = (await log.GetSthAsync()).TreeSize;

        var submissions = Enumerable.Range(0, 12).SelectMany(i => precerts.Select(precert => (Endpoint: "add-pre-chain", Leaf: precert, Full: i % 2 == 0)))
            .Concat(Enumerable.Range(0, 12).Select(i => (Endpoint: "add-chain", Leaf: final, Full: i % 2 == 0)))
            .ToArray();
        var answers = await Task.WhenAll(submissions.Select(s =>
            log.SubmitAsync(s.Endpoint, s.Full ? log.Ca.Chain(s.Leaf) : [s.Leaf, log.Ca.Intermediate.RawData])));

        foreach (var group in submissions.Zip(answers).GroupBy(pair => Convert.ToHexString(pair.First.Leaf)))
        {
            Assert.Single(group.Select(pair => pair.Second.Json).Distinct());
            var (submission, (sct, _)) = group.First();
            var signedData = submission.Endpoint == "add-pre-chain"
                ? CtSignedData.ForPrecertificate(sct.TimestampMs, log.Ca.IntermediateKeyHash, Precertificate.TbsWithoutPoison(submission.Leaf), sct.Extensions)
                : CtSignedData.ForCertificate(sct.TimestampMs, submission.Leaf, sct.Extensions);
            Assert.True(SctSignatures.Verify(sct, signedData, log.LogSpki));
        }

        Assert.Equal(size + precerts.Length + 1, (await log.GetSthAsync()).TreeSize);

        // Later resubmissions get the same answer too.
        Assert.Equal(answers[0].Json, (await log.SubmitAsync("add-pre-chain", log.Ca.Chain(precerts[0]))).Json);
    }

    [Fact]
    public async Task GetSth_AfterAppends_SignatureVerifiesOverTheTreeHead()
    {
        await log.SubmitAsync("add-chain", log.Ca.Chain(log.Ca.IssueLeaf(poison: false)));

        var sth = await log.GetSthAsync();

        Assert.True(sth.TreeSize >= 1);
        Assert.True(TreeHeadSignatureVerifies(sth), "the STH signature does not verify");
        Assert.False(TreeHeadSignatureVerifies(sth with { TreeSize = sth.TreeSize + 1 }), "a changed STH verifies");
    }

    [Fact]
    public async Task GetProofByHash_SubmittedPrecertificate_ProofVerifiesAgainstTheSth()
    {
        var precert = log.Ca.IssueLeaf(poison: true);
        var (sct, _) = await log.SubmitAsync("add-pre-chain", log.Ca.Chain(precert));
        await log.SubmitAsync("add-chain", log.Ca.Chain(log.Ca.IssueLeaf(poison: false)));
        var sth = await log.GetSthAsync();
        Assert.True(TreeHeadSignatureVerifies(sth));

        // The verifier rebuilds the leaf from the precertificate and the SCT alone.
        var leaf = CtSignedData.MerkleTreeLeafForPrecertificate(sct.TimestampMs, log.Ca.IntermediateKeyHash, Precertificate.TbsWithoutPoison(precert), []);
        var leafHash = Rfc6962.HashLeaf(leaf);
        var (index, path) = await ProofByHashAsync(leafHash, sth.TreeSize);

        Assert.True(ProofVerifier.VerifyInclusion(index, sth.TreeSize, leafHash, path, sth.Root));
        Assert.True(sth.Timestamp >= sct.TimestampMs, "the STH is older than an SCT it includes");
    }

    [Fact]
    public async Task GetProofByHash_UnknownHash_Returns404()
    {
        var sth = await log.GetSthAsync();
        var hash = Uri.EscapeDataString(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));

        using var response = await log.Client.GetAsync($"/ct/v1/get-proof-by-hash?hash={hash}&tree_size={Math.Max(1, sth.TreeSize)}");

        Assert.Equal(sth.TreeSize == 0 ? HttpStatusCode.BadRequest : HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task GetSthConsistency_BetweenTwoSizes_ProofVerifies()
    {
        await log.SubmitAsync("add-chain", log.Ca.Chain(log.Ca.IssueLeaf(poison: false)));
        var first = await log.GetSthAsync();
        for (var i = 0; i < 3; i++)
        {
            await log.SubmitAsync("add-pre-chain", log.Ca.Chain(log.Ca.IssueLeaf(poison: true)));
        }

        var second = await log.GetSthAsync();

        using var document = JsonDocument.Parse(await log.Client.GetStringAsync($"/ct/v1/get-sth-consistency?first={first.TreeSize}&second={second.TreeSize}"));
        var proof = document.RootElement.GetProperty("consistency").EnumerateArray().Select(h => Hash.FromBytes(Convert.FromBase64String(h.GetString()!))).ToList();
        Assert.True(ProofVerifier.VerifyConsistency(first.TreeSize, second.TreeSize, proof, first.Root, second.Root));
        Assert.False(ProofVerifier.VerifyConsistency(first.TreeSize, second.TreeSize, proof, second.Root, first.Root));
    }

    [Fact]
    public async Task GetEntries_PrecertAndX509Entries_ReturnLeafInputAndRfc6962ExtraData()
    {
        var precert = log.Ca.IssueLeaf(poison: true);
        var (precertSct, _) = await log.SubmitAsync("add-pre-chain", log.Ca.Chain(precert));
        var leaf = log.Ca.IssueLeaf(poison: false);
        var (leafSct, _) = await log.SubmitAsync("add-chain", log.Ca.Chain(leaf));

        var precertLeaf = CtSignedData.MerkleTreeLeafForPrecertificate(precertSct.TimestampMs, log.Ca.IntermediateKeyHash, Precertificate.TbsWithoutPoison(precert), []);
        var (precertInput, precertExtra) = await EntryOfAsync(precertLeaf);
        Assert.Equal(precertLeaf, precertInput);
        // PrecertChainEntry: the precertificate, then the chain of its issuers up to the root.
        Assert.Equal([.. Opaque24(precert), .. CertificateChain(log.Ca.Intermediate.RawData, log.Ca.Root.RawData)], precertExtra);

        var x509Leaf = CtSignedData.MerkleTreeLeafForCertificate(leafSct.TimestampMs, leaf, []);
        var (x509Input, x509Extra) = await EntryOfAsync(x509Leaf);
        Assert.Equal(x509Leaf, x509Input);
        Assert.Equal(CertificateChain(log.Ca.Intermediate.RawData, log.Ca.Root.RawData), x509Extra);
    }

    [Fact]
    public async Task GetEntries_RangeBeyondTheTree_IsClippedOrRefused()
    {
        await log.SubmitAsync("add-chain", log.Ca.Chain(log.Ca.IssueLeaf(poison: false)));
        var size = (await log.GetSthAsync()).TreeSize;

        using var clipped = JsonDocument.Parse(await log.Client.GetStringAsync($"/ct/v1/get-entries?start={size - 1}&end={size + 10}"));
        using var beyond = await log.Client.GetAsync($"/ct/v1/get-entries?start={size}&end={size + 10}");
        using var reversed = await log.Client.GetAsync("/ct/v1/get-entries?start=1&end=0");

        Assert.Equal(1, clipped.RootElement.GetProperty("entries").GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, beyond.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, reversed.StatusCode);
    }

    [Fact]
    public async Task GetRoots_RootsFileWithAChain_ListsOnlyTheSelfIssuedRoot()
    {
        using var document = JsonDocument.Parse(await log.Client.GetStringAsync("/ct/v1/get-roots"));

        var roots = document.RootElement.GetProperty("certificates").EnumerateArray().Select(c => c.GetString()).ToList();
        Assert.Equal([Convert.ToBase64String(log.Ca.Root.RawData)], roots);
    }

    [Fact]
    public async Task Checkpoint_OfTheCtLog_IsSignedByItsKeyUnderItsName()
    {
        await log.SubmitAsync("add-chain", log.Ca.Chain(log.Ca.IssueLeaf(poison: false)));
        var sth = await log.GetSthAsync();

        var note = await log.Client.GetStringAsync("/ct/checkpoint");

        Assert.True(new NoteVerifier(CtFixture.LogName, log.PublicKey).TryVerifyCheckpoint(note, out var checkpoint));
        Assert.True(checkpoint!.Size >= sth.TreeSize);
        using var tile = await log.Client.GetAsync("/ct/tile/0/000.p/1");
        Assert.Equal(HttpStatusCode.OK, tile.StatusCode);
    }

    private bool TreeHeadSignatureVerifies(Sth sth)
    {
        // RFC 6962 §3.5 TreeHeadSignature, wrapped in a TLS DigitallySigned (sha256, ecdsa).
        var data = new byte[50];
        data[1] = 1;
        BinaryPrimitives.WriteUInt64BigEndian(data.AsSpan(2), sth.Timestamp);
        BinaryPrimitives.WriteUInt64BigEndian(data.AsSpan(10), (ulong)sth.TreeSize);
        sth.Root.CopyTo(data.AsSpan(18));
        Assert.Equal(SctSignatures.Sha256, sth.Signature[0]);
        Assert.Equal(SctSignatures.Ecdsa, sth.Signature[1]);
        Assert.Equal(sth.Signature.Length - 4, BinaryPrimitives.ReadUInt16BigEndian(sth.Signature.AsSpan(2)));
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(log.LogSpki, out _);
        return key.VerifyData(data, sth.Signature.AsSpan(4), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    private async Task<(long Index, List<Hash> Path)> ProofByHashAsync(Hash leafHash, long treeSize)
    {
        var hash = Uri.EscapeDataString(leafHash.ToBase64());
        using var response = await log.Client.GetAsync($"/ct/v1/get-proof-by-hash?hash={hash}&tree_size={treeSize}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var document = JsonDocument.Parse(body);
        return (
            document.RootElement.GetProperty("leaf_index").GetInt64(),
            document.RootElement.GetProperty("audit_path").EnumerateArray().Select(h => Hash.FromBytes(Convert.FromBase64String(h.GetString()!))).ToList());
    }

    /// <summary>Finds the entry by its leaf hash, then reads it with get-entries.</summary>
    private async Task<(byte[] LeafInput, byte[] ExtraData)> EntryOfAsync(byte[] leaf)
    {
        var sth = await log.GetSthAsync();
        var (index, _) = await ProofByHashAsync(Rfc6962.HashLeaf(leaf), sth.TreeSize);
        using var document = JsonDocument.Parse(await log.Client.GetStringAsync($"/ct/v1/get-entries?start={index}&end={index}"));
        var entry = document.RootElement.GetProperty("entries").EnumerateArray().Single();
        return (Convert.FromBase64String(entry.GetProperty("leaf_input").GetString()!), Convert.FromBase64String(entry.GetProperty("extra_data").GetString()!));
    }

    /// <summary>An independent writer of RFC 6962 <c>ASN.1Cert certificate_chain&lt;0..2^24-1&gt;</c>.</summary>
    private static byte[] CertificateChain(params byte[][] certificates)
    {
        var body = certificates.SelectMany(Opaque24).ToArray();
        return [.. Uint24(body.Length), .. body];
    }

    private static byte[] Opaque24(byte[] value) => [.. Uint24(value.Length), .. value];

    private static byte[] Uint24(int value) => [(byte)(value >> 16), (byte)(value >> 8), (byte)value];
}
