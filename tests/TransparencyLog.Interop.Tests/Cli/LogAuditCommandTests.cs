using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TransparencyLog.Interop.Tests.Infrastructure;
using TransparencyLog.Merkle;

namespace TransparencyLog.Interop.Tests.Cli;

/// <summary>rekor-cli's audit commands in tlog (<c>log search|upload|verify|proof</c>) against the running log.</summary>
[Collection(SystemCollection.Name)]
public sealed class LogAuditCommandTests(LocalSystem system) : IDisposable
{
    private readonly TlogRunner _tlog = new(system);

    private string[] Rekor => ["--rekor-url", system["REKOR_URL"]];

    /// <summary>An artifact, its detached signature (base64, as cosign writes it) and the signer's public key.</summary>
    private (string Artifact, string Signature, string PublicKey) SignedArtifact(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var content = Encoding.UTF8.GetBytes($"{name} {Guid.NewGuid()}\n");
        var artifact = _tlog.Write(name, Encoding.UTF8.GetString(content));
        var signature = _tlog.Write(name + ".sig", Convert.ToBase64String(key.SignData(content, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)));
        var publicKey = _tlog.Write(name + ".pub", key.ExportSubjectPublicKeyInfoPem());
        return (artifact, signature, publicKey);
    }

    private async Task<JsonElement> UploadAsync(params string[] what) =>
        TlogRunner.Json(await _tlog.SucceedAsync(["log", "upload", .. Rekor, .. what, "-o", "json"]));

    [Fact]
    public async Task Upload_SignatureTwice_CreatesOneEntryThenReportsIt()
    {
        var (artifact, signature, publicKey) = SignedArtifact("upload.txt");

        var created = await UploadAsync("--artifact", artifact, "--signature", signature, "--public-key", publicKey);
        var again = await UploadAsync("--artifact", artifact, "--signature", signature, "--public-key", publicKey);

        Assert.False(created.GetProperty("alreadyExisted").GetBoolean());
        Assert.True(again.GetProperty("alreadyExisted").GetBoolean());
        Assert.Equal(created.GetProperty("uuid").GetString(), again.GetProperty("uuid").GetString());
        Assert.Equal(created.GetProperty("logIndex").GetInt64(), again.GetProperty("logIndex").GetInt64());
    }

    [Fact]
    public async Task Upload_BadSignature_ExitsOneWithTheLogsReason()
    {
        var (artifact, _, publicKey) = SignedArtifact("bad-signature.txt");
        var signature = _tlog.Write("bad.sig", Convert.ToBase64String(new byte[70]));

        var result = await _tlog.RunAsync(["log", "upload", .. Rekor, "--artifact", artifact, "--signature", signature, "--public-key", publicKey]);

        TlogRunner.AssertFailed(result, 1, "400");
    }

    [Fact]
    public async Task Upload_ExistingBundle_ReportsTheEntryItWasLoggedAs()
    {
        var file = _tlog.Write("bundle.txt", $"bundle {Guid.NewGuid()}\n");
        var bundle = await _tlog.SignBlobAsync(file, TlogRunner.Alice);
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(bundle));
        var logIndex = long.Parse(document.RootElement.GetProperty("verificationMaterial").GetProperty("tlogEntries")[0].GetProperty("logIndex").GetString()!, CultureInfo.InvariantCulture);

        var uploaded = await UploadAsync("--bundle", bundle);

        Assert.True(uploaded.GetProperty("alreadyExisted").GetBoolean());
        Assert.Equal(logIndex, uploaded.GetProperty("logIndex").GetInt64());
    }

    [Fact]
    public async Task Search_ByArtifactKeyAndEmail_FindsTheEntriesAndNothingElse()
    {
        var (artifact, signature, publicKey) = SignedArtifact("search.txt");
        var uuid = (await UploadAsync("--artifact", artifact, "--signature", signature, "--public-key", publicKey)).GetProperty("uuid").GetString()!;
        var keyless = _tlog.Write("search-keyless.txt", $"keyless {Guid.NewGuid()}\n");
        var email = $"search-{Guid.NewGuid():N}@example.com";
        await _tlog.SignBlobAsync(keyless, email);

        var byArtifact = await SearchAsync("--artifact", artifact);
        var byKey = await SearchAsync("--public-key", publicKey);
        var both = await SearchAsync("--artifact", artifact, "--public-key", publicKey);
        var byEmail = await SearchAsync("--email", email);
        var byKeylessArtifact = await SearchAsync("--sha", "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(keyless))));
        var nothing = await SearchAsync("--sha", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));

        Assert.Equal([uuid], byArtifact);
        Assert.Equal([uuid], byKey);
        Assert.Equal([uuid], both);
        var keylessUuid = Assert.Single(byEmail);
        Assert.Equal([keylessUuid], byKeylessArtifact);
        Assert.Empty(nothing);
    }

    [Fact]
    public async Task Search_NoCriteria_ExitsTwo()
    {
        var result = await _tlog.RunAsync(["log", "search", .. Rekor]);

        TlogRunner.AssertFailed(result, 2, "--email");
    }

    [Fact]
    public async Task Search_RekorV2_ReturnsTheLoggedEntryWithItsProof()
    {
        var file = _tlog.Write("v2-search.txt", $"v2 search {Guid.NewGuid()}\n");
        var token = await system.DevTokenAsync(TlogRunner.Alice);
        await _tlog.SucceedAsync("sign-blob", file, "--identity-token", token, "--fulcio-url", system["FULCIO_URL"],
            "--rekor-version", "2", "--rekor-url", system["REKOR_V2_URL"], "--tsa-url", system["TSA_URL"]);
        using var bundle = JsonDocument.Parse(await File.ReadAllTextAsync(file + ".sigstore.json"));
        var logged = bundle.RootElement.GetProperty("verificationMaterial").GetProperty("tlogEntries")[0];

        var json = TlogRunner.Json(await _tlog.SucceedAsync("log", "search", "--rekor-version", "2", "--rekor-url", system["REKOR_V2_URL"], "--artifact", file, "-o", "json"));

        var found = Assert.Single(json.GetProperty("entries").EnumerateArray());
        Assert.Equal(logged.GetProperty("logIndex").GetString(), found.GetProperty("logIndex").GetString());
        Assert.Equal(logged.GetProperty("canonicalizedBody").GetString(), found.GetProperty("canonicalizedBody").GetString());
        Assert.True(found.GetProperty("inclusionProof").GetProperty("hashes").GetArrayLength() >= 0);
    }

    [Fact]
    public async Task Verify_ByUuidIndexAndSignature_VerifiesInclusionAgainstTheLatestCheckpoint()
    {
        var (artifact, signature, publicKey) = SignedArtifact("verify.txt");
        var created = await UploadAsync("--artifact", artifact, "--signature", signature, "--public-key", publicKey);
        var uuid = created.GetProperty("uuid").GetString()!;
        var index = created.GetProperty("logIndex").GetInt64().ToString(CultureInfo.InvariantCulture);
        await UploadAsync("--artifact", SignedArtifact("later.txt").Artifact, "--signature", _tlog.PathOf("later.txt.sig"), "--public-key", _tlog.PathOf("later.txt.pub"));

        var byUuid = TlogRunner.Json(await _tlog.SucceedAsync(["log", "verify", .. Rekor, "--uuid", uuid, "-o", "json"]));
        var byIndex = TlogRunner.Json(await _tlog.SucceedAsync(["log", "verify", .. Rekor, "--index", index, "--vkey", system["REKOR_NOTE_VKEY"], "-o", "json"]));
        var bySignature = TlogRunner.Json(await _tlog.SucceedAsync(["log", "verify", .. Rekor, "--artifact", artifact, "--signature", signature, "--public-key", publicKey, "-o", "json"]));

        Assert.All(new[] { byUuid, byIndex, bySignature }, r => Assert.Equal(uuid, r.GetProperty("uuid").GetString()));
        Assert.True(byUuid.GetProperty("signedEntryTimestampVerified").GetBoolean());
        Assert.True(byUuid.GetProperty("latestTreeSize").GetInt64() > created.GetProperty("logIndex").GetInt64());
    }

    [Fact]
    public async Task Verify_AnotherLogsKey_ExitsFour()
    {
        var (artifact, signature, publicKey) = SignedArtifact("verify-key.txt");
        var uuid = (await UploadAsync("--artifact", artifact, "--signature", signature, "--public-key", publicKey)).GetProperty("uuid").GetString()!;
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var otherKey = _tlog.Write("other-log.pub", other.ExportSubjectPublicKeyInfoPem());

        var result = await _tlog.RunAsync(["log", "verify", .. Rekor, "--uuid", uuid, "--log-public-key", otherKey]);

        TlogRunner.AssertFailed(result, 4, "CHECKPOINT_SIGNATURE_ERROR");
    }

    [Fact]
    public async Task Verify_SignatureNeverLogged_ExitsThree()
    {
        var (artifact, signature, publicKey) = SignedArtifact("never-logged.txt");

        var result = await _tlog.RunAsync(["log", "verify", .. Rekor, "--artifact", artifact, "--signature", signature, "--public-key", publicKey]);

        TlogRunner.AssertFailed(result, 3, "TLOG_INCLUSION_PROOF_ERROR");
    }

    [Fact]
    public async Task Proof_FirstToLast_IsAConsistencyProofBetweenTheTwoRoots()
    {
        var (artifact, signature, publicKey) = SignedArtifact("proof.txt");
        await UploadAsync("--artifact", artifact, "--signature", signature, "--public-key", publicKey);
        var entry0 = TlogRunner.Json(await _tlog.SucceedAsync(["log", "get", .. Rekor, "--index", "0", "-o", "json"]));
        var root1 = Rfc6962.HashLeaf(Convert.FromBase64String(entry0.GetProperty("tlogEntry").GetProperty("canonicalizedBody").GetString()!));
        var info = TlogRunner.Json(await _tlog.SucceedAsync(["log", "info", .. Rekor, "-o", "json"]));
        var size = info.GetProperty("treeSize").GetInt64();

        var proof = TlogRunner.Json(await _tlog.SucceedAsync(["log", "proof", .. Rekor, "--first", "1", "--last", size.ToString(CultureInfo.InvariantCulture), "-o", "json"]));
        var text = await _tlog.SucceedAsync(["log", "proof", .. Rekor, "--first-size", "1"]);

        var hashes = proof.GetProperty("hashes").EnumerateArray().Select(static h => Hash.FromHex(h.GetString()!)).ToList();
        var root = Hash.FromHex(proof.GetProperty("rootHash").GetString()!);
        Assert.True(size < 2 || ProofVerifier.VerifyConsistency(1, size, hashes, root1, root));
        Assert.Equal(info.GetProperty("rootHash").GetString(), root.ToString());
        Assert.Contains("Current root hash:", text.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proof_FirstAfterLast_ExitsTwo()
    {
        var result = await _tlog.RunAsync(["log", "proof", .. Rekor, "--first", "5", "--last", "2"]);

        TlogRunner.AssertFailed(result, 2, "--first");
    }

    private async Task<List<string>> SearchAsync(params string[] criteria)
    {
        var json = TlogRunner.Json(await _tlog.SucceedAsync(["log", "search", .. Rekor, .. criteria, "-o", "json"]));
        return [.. json.GetProperty("uuids").EnumerateArray().Select(static u => u.GetString()!)];
    }

    public void Dispose() => _tlog.Dispose();
}
