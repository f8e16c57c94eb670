using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.LogService.CertificateTransparency;
using TransparencyLog.LogService.Tests.Infrastructure;

namespace TransparencyLog.LogService.Tests.CertificateTransparency;

public sealed class CtBadInputTests(CtFixture log) : IClassFixture<CtFixture>
{
    [Fact]
    public async Task AddPreChain_ChainToAnUnknownRoot_Returns400AndAppendsNothing()
    {
        using var other = new TestCa("unknown");
        await AssertRejectedAsync("add-pre-chain", other.Chain(other.IssueLeaf(poison: true)), "accepted root");
    }

    [Fact]
    public async Task AddChain_IntermediateOmittedButRootGiven_Returns400()
    {
        var leaf = log.Ca.IssueLeaf(poison: false);
        await AssertRejectedAsync("add-chain", [leaf, log.Ca.Root.RawData], "issuer name");
    }

    [Fact]
    public async Task AddChain_LeafNotSignedByTheNamedIssuer_Returns400()
    {
        // Same issuer name, another key: name chaining holds, the signature does not.
        using var impostor = log.Ca.ImpostorIntermediate();
        var leaf = log.Ca.IssueLeaf(poison: false);
        await AssertRejectedAsync("add-chain", [leaf, impostor.RawData, log.Ca.Root.RawData], "not signed by");
    }

    // Found by fuzzing (scripts/fuzz.sh ct-chain): the extension threw CryptographicException when read and the log
    // answered 500.
    [Fact]
    public async Task AddChain_IssuerWithMalformedBasicConstraints_Returns400()
    {
        using var malformed = log.Ca.IntermediateWithMalformedBasicConstraints();
        var leaf = log.Ca.IssueLeaf(poison: false);
        await AssertRejectedAsync("add-chain", [leaf, malformed.RawData, log.Ca.Root.RawData], "malformed extension");
    }

    [Fact]
    public async Task AddChain_Precertificate_Returns400()
    {
        await AssertRejectedAsync("add-chain", log.Ca.Chain(log.Ca.IssueLeaf(poison: true)), "poison");
    }

    [Fact]
    public async Task AddPreChain_CertificateWithoutPoison_Returns400()
    {
        await AssertRejectedAsync("add-pre-chain", log.Ca.Chain(log.Ca.IssueLeaf(poison: false)), "poison");
    }

    [Fact]
    public async Task AddChain_NotACertificate_Returns400()
    {
        await AssertRejectedAsync("add-chain", [RandomNumberGenerator.GetBytes(100), log.Ca.Root.RawData], "not a DER");
    }

    [Fact]
    public async Task AddPreChain_TrailingDataAfterThePrecertificate_Returns400()
    {
        var chain = log.Ca.Chain(log.Ca.IssueLeaf(poison: true)).ToList();
        chain[0] = [.. chain[0], 0x00];
        await AssertRejectedAsync("add-pre-chain", chain, "trailing data");
    }

    [Fact]
    public async Task AddPreChain_PrecertificateWithoutItsSignature_Returns400()
    {
        // A well-formed TBS wrapped without signatureAlgorithm and signature: the walk of chain[0] refuses it.
        var precertificate = log.Ca.IssueLeaf(poison: true);
        var tbs = new System.Formats.Asn1.AsnReader(precertificate, System.Formats.Asn1.AsnEncodingRules.DER).ReadSequence().ReadEncodedValue();
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteEncodedValue(tbs.Span);
        }

        var chain = log.Ca.Chain(precertificate).ToList();
        chain[0] = writer.Encode();
        await AssertRejectedAsync("add-pre-chain", chain, "not a DER");
    }

    [Fact]
    public async Task AddChain_KnownIntermediateUnderAnImpostorRoot_Returns400()
    {
        // The log remembers that the intermediate verified under the real root; that must not vouch for the same
        // intermediate under a different certificate with the root's name and another key.
        using (var accepted = await log.PostChainAsync("add-chain", log.Ca.Chain(log.Ca.IssueLeaf(poison: false))))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        using var impostorKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(log.Ca.Root.SubjectName, impostorKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var impostorRoot = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var leaf = log.Ca.IssueLeaf(poison: false);
        await AssertRejectedAsync("add-chain", [leaf, log.Ca.Intermediate.RawData, impostorRoot.RawData], "not signed by");
    }

    [Fact]
    public async Task AddChain_OversizedCertificate_Returns400()
    {
        await AssertRejectedAsync("add-chain", [RandomNumberGenerator.GetBytes(CtFixture.MaxCertificateBytes + 1), log.Ca.Root.RawData], "bytes");
    }

    [Fact]
    public async Task AddChain_TooManyCertificates_Returns400()
    {
        var leaf = log.Ca.IssueLeaf(poison: false);
        var root = log.Ca.Root.RawData;
        await AssertRejectedAsync("add-chain", [leaf, log.Ca.Intermediate.RawData, root, root, root], "at most");
    }

    [Theory]
    [InlineData("{\"chain\": [\"not base64!\"]}", "base64")]
    [InlineData("{\"chain\": [42]}", "base64")]
    [InlineData("{\"chain\": []}", "empty")]
    [InlineData("{\"chain\": \"MII=\"}", "JSON object")]
    [InlineData("[]", "JSON object")]
    [InlineData("{\"chain\": [", "not valid JSON")]
    [InlineData("", "not valid JSON")]
    public async Task AddChain_MalformedBody_Returns400(string body, string expected)
    {
        var size = (await log.GetSthAsync()).TreeSize;

        using var response = await log.PostJsonAsync("add-chain", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(size, (await log.GetSthAsync()).TreeSize);
    }

    [Fact]
    public async Task AddChain_BodyOverTheLimit_Returns400()
    {
        var body = "{\"chain\": [\"" + new string('A', 1024 * 1024) + "\"]}";

        using var response = await log.PostJsonAsync("add-chain", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("add-chain", "{\"chain\":[\"#\"]}")]
    [InlineData("add-pre-chain", "{\"#\":[]}")]
    public async Task AddChain_InvalidUtf8InJson_Returns400(string endpoint, string template)
    {
        var size = (await log.GetSthAsync()).TreeSize;

        using var response = await Http.InvalidUtf8Tests.PostRawAsync(log.Client, "/ct/v1/" + endpoint, Http.InvalidUtf8Tests.WithInvalidUtf8(template));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(size, (await log.GetSthAsync()).TreeSize);
    }

    [Fact]
    public async Task AddPreChain_RootsFileMissingThenRestored_RefusesThenAccepts()
    {
        var moved = log.RootsPath + ".away";
        File.Move(log.RootsPath, moved);
        try
        {
            // A loaded set is used for up to RecheckInterval without looking at the file; then its removal is seen.
            await Task.Delay(AcceptedRoots.RecheckInterval + TimeSpan.FromMilliseconds(200));
            await AssertRejectedAsync("add-pre-chain", log.Ca.Chain(log.Ca.IssueLeaf(poison: true)), "no accepted roots configured");
        }
        finally
        {
            File.Move(moved, log.RootsPath);
        }

        // The file is re-read at once when it is back (no roots are cached): a CA that writes its root after the log
        // started is accepted.
        await log.SubmitAsync("add-pre-chain", log.Ca.Chain(log.Ca.IssueLeaf(poison: true)));
    }

    [Theory]
    [InlineData("/ct/v1/get-sth-consistency?first=2&second=1")]
    [InlineData("/ct/v1/get-sth-consistency?first=0&second=999999")]
    [InlineData("/ct/v1/get-sth-consistency?first=x&second=1")]
    [InlineData("/ct/v1/get-proof-by-hash?hash=AAAA&tree_size=1")]
    [InlineData("/ct/v1/get-proof-by-hash?tree_size=1")]
    [InlineData("/ct/v1/get-entries?start=-1&end=2")]
    [InlineData("/ct/v1/get-entries?start=0")]
    public async Task ReadEndpoints_BadParameters_Return400(string path)
    {
        using var response = await log.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private async Task AssertRejectedAsync(string endpoint, IEnumerable<byte[]> chain, string expected)
    {
        var size = (await log.GetSthAsync()).TreeSize;

        using var response = await log.PostChainAsync(endpoint, chain);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {(int)response.StatusCode}: {body}");
        Assert.Contains(expected, body, StringComparison.Ordinal);
        Assert.Equal(size, (await log.GetSthAsync()).TreeSize);
    }
}

public sealed class CtDisabledTests(LogFixture log) : IClassFixture<LogFixture>
{
    [Theory]
    [InlineData("/ct/v1/get-sth")]
    [InlineData("/ct/v1/public-key")]
    [InlineData("/ct/checkpoint")]
    public async Task CtEndpoints_WhenTheCtLogIsDisabled_Return404(string path)
    {
        using var response = await log.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
