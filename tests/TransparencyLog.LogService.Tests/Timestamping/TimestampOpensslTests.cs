using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TransparencyLog.LogService.Tests.Timestamping;

/// <summary>`openssl ts` is the reference RFC 3161 client: its queries must be answered and its verifier satisfied.</summary>
public sealed class TimestampOpensslTests(TsaServerFixture fixture) : IClassFixture<TsaServerFixture>, IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData("-sha256", "-cert")]
    [InlineData("-sha256")]
    [InlineData("-sha256", "-no_nonce")]
    [InlineData("-sha256", "-cert", "-no_nonce")]
    [InlineData("-sha384", "-cert")]
    [InlineData("-sha512")]
    public async Task PostTimestamp_OpensslQuery_OpensslVerifies(params string[] queryOptions)
    {
        await WriteTrustFilesAsync();
        await File.WriteAllTextAsync(_directory.File("artifact.txt"), "hello, timestamp\n");
        await Openssl.RunCheckedAsync(_directory.Path, ["ts", "-query", "-data", "artifact.txt", .. queryOptions, "-out", "req.tsq"]);

        var response = await fixture.Server.TimestampAsync(await File.ReadAllBytesAsync(_directory.File("req.tsq")));
        await File.WriteAllBytesAsync(_directory.File("resp.tsr"), response);

        var output = await Openssl.RunCheckedAsync(_directory.Path,
            "ts", "-verify", "-in", "resp.tsr", "-queryfile", "req.tsq", "-CAfile", "root.pem", "-untrusted", "tsa.pem");
        Assert.Contains("Verification: OK", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostTimestamp_OtherArtifact_OpensslRejects()
    {
        await WriteTrustFilesAsync();
        await File.WriteAllTextAsync(_directory.File("artifact.txt"), "signed\n");
        await File.WriteAllTextAsync(_directory.File("other.txt"), "not signed\n");
        await Openssl.RunCheckedAsync(_directory.Path, "ts", "-query", "-data", "artifact.txt", "-sha256", "-cert", "-out", "req.tsq");
        await File.WriteAllBytesAsync(_directory.File("resp.tsr"),
            await fixture.Server.TimestampAsync(await File.ReadAllBytesAsync(_directory.File("req.tsq"))));

        var (exitCode, _) = await Openssl.RunAsync(_directory.Path,
            "ts", "-verify", "-in", "resp.tsr", "-data", "other.txt", "-CAfile", "root.pem", "-untrusted", "tsa.pem");

        Assert.NotEqual(0, exitCode);
    }

    [Fact]
    public async Task PostTimestamp_OpensslQuery_ReplyTextShowsPolicyNonceAccuracyAndTsa()
    {
        await File.WriteAllTextAsync(_directory.File("artifact.txt"), "fields\n");
        await Openssl.RunCheckedAsync(_directory.Path, "ts", "-query", "-data", "artifact.txt", "-sha256", "-cert", "-out", "req.tsq");
        var query = await Openssl.RunCheckedAsync(_directory.Path, "ts", "-query", "-in", "req.tsq", "-text");
        await File.WriteAllBytesAsync(_directory.File("resp.tsr"),
            await fixture.Server.TimestampAsync(await File.ReadAllBytesAsync(_directory.File("req.tsq"))));

        var reply = await Openssl.RunCheckedAsync(_directory.Path, "ts", "-reply", "-in", "resp.tsr", "-text");

        Assert.Contains("Status: Granted.", reply, StringComparison.Ordinal);
        Assert.Contains("Policy OID: 1.3.6.1.4.1.57264.2\n", reply, StringComparison.Ordinal);
        Assert.Contains("Accuracy: 0x01 seconds, unspecified millis, unspecified micros", reply, StringComparison.Ordinal);
        Assert.Contains("Ordering: no", reply, StringComparison.Ordinal);
        Assert.Contains("TSA: DirName:", reply, StringComparison.Ordinal);
        Assert.Contains("CN=TransparencyLog Development TSA", reply, StringComparison.Ordinal);
        Assert.DoesNotContain("Time stamp: " + "unspecified", reply, StringComparison.Ordinal);
        var nonce = Line(query, "Nonce:");
        Assert.StartsWith("Nonce: 0x", nonce, StringComparison.Ordinal);
        Assert.Equal(nonce, Line(reply, "Nonce:"));
    }

    [Fact]
    public async Task PostTimestamp_OpensslQueryWithAcceptedPolicy_TokenCarriesPolicy()
    {
        await WriteTrustFilesAsync();
        await File.WriteAllTextAsync(_directory.File("artifact.txt"), "policy\n");
        await Openssl.RunCheckedAsync(_directory.Path,
            "ts", "-query", "-data", "artifact.txt", "-sha256", "-tspolicy", "1.3.6.1.4.1.57264.2.99", "-out", "req.tsq");
        await File.WriteAllBytesAsync(_directory.File("resp.tsr"),
            await fixture.Server.TimestampAsync(await File.ReadAllBytesAsync(_directory.File("req.tsq"))));

        var reply = await Openssl.RunCheckedAsync(_directory.Path, "ts", "-reply", "-in", "resp.tsr", "-text");
        var verify = await Openssl.RunCheckedAsync(_directory.Path,
            "ts", "-verify", "-in", "resp.tsr", "-queryfile", "req.tsq", "-CAfile", "root.pem", "-untrusted", "tsa.pem");

        Assert.Contains("Policy OID: 1.3.6.1.4.1.57264.2.99\n", reply, StringComparison.Ordinal);
        Assert.Contains("Verification: OK", verify, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sha256", "")]
    [InlineData("sha256", ",\"certificates\":true,\"nonce\":1234567890123")]
    [InlineData("sha384", "")]
    [InlineData("sha512", ",\"certificates\":true")]
    public async Task PostTimestamp_JsonRequest_OpensslVerifiesDigest(string hashAlgorithm, string extraFields)
    {
        await WriteTrustFilesAsync();
        var signature = RandomNumberGenerator.GetBytes(71);
        var digest = CryptographicOperations.HashData(new HashAlgorithmName(hashAlgorithm.ToUpperInvariant()), signature);

        // The shape sigstore-js sends: {"artifactHash": base64(hash of the signature bytes), "hashAlgorithm": "sha256"}.
        var response = await fixture.Server.TimestampAsync(System.Text.Encoding.UTF8.GetBytes(
            $"{{\"artifactHash\":\"{Convert.ToBase64String(digest)}\",\"hashAlgorithm\":\"{hashAlgorithm}\"{extraFields}}}"), "application/json");
        await File.WriteAllBytesAsync(_directory.File("resp.tsr"), response);

        var output = await Openssl.RunCheckedAsync(_directory.Path,
            "ts", "-verify", "-digest", Convert.ToHexStringLower(digest), "-in", "resp.tsr", "-CAfile", "root.pem", "-untrusted", "tsa.pem");
        Assert.Contains("Verification: OK", output, StringComparison.Ordinal);
    }

    private async Task WriteTrustFilesAsync()
    {
        var chain = fixture.Chain;
        await File.WriteAllTextAsync(_directory.File("tsa.pem"), string.Concat(chain.SkipLast(1).Select(c => c.ExportCertificatePem() + "\n")));
        await File.WriteAllTextAsync(_directory.File("root.pem"), chain[^1].ExportCertificatePem() + "\n");
    }

    private static string Line(string text, string prefix) =>
        text.Split('\n').Single(l => l.StartsWith(prefix, StringComparison.Ordinal)).Trim();
}
