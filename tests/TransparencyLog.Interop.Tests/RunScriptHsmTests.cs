using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using TransparencyLog.Interop.Tests.Cli;
using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests;

/// <summary><c>./run.sh</c> with <c>TLOG_KEYS=pkcs11</c>: a second system whose every signing key is in a SoftHSM2 token.</summary>
public sealed class HsmSystem : IAsyncLifetime
{
    public LocalSystem System { get; } = new(new Dictionary<string, string> { ["TLOG_KEYS"] = "pkcs11" });

    public string Hsm => Path.Combine(System.DataDirectory, "hsm");

    public Task InitializeAsync() => System.InitializeAsync();

    public Task DisposeAsync() => System.DisposeAsync();
}

// A collection of its own (the class's), so it runs beside the shared system's tests rather than after them: every
// port of every system comes from TestPorts, which claims it for the test process, so two systems starting at once
// never pick the same one.
public sealed class RunScriptHsmTests(HsmSystem hsm) : IClassFixture<HsmSystem>, IDisposable
{
    private readonly TlogRunner _tlog = new(hsm.System);

    public void Dispose() => _tlog.Dispose();

    [Fact]
    public async Task RunBackgroundPkcs11_SignBlobKeyless_VerifiesWithTheTokensCaAndTsa()
    {
        var file = _tlog.Write("hsm.txt", "signed with keys in an HSM\n");
        await _tlog.SignBlobAsync(file, TlogRunner.Alice, "--tsa-url", hsm.System["TSA_URL"]);

        var result = await _tlog.VerifyAsync("verify-blob", file, _tlog.Identity());

        Assert.True(result.ExitCode == 0, result.Output);
        using var root = JsonDocument.Parse(await File.ReadAllTextAsync(hsm.System["TRUSTED_ROOT"]));
        var caChain = Certificates(root.RootElement.GetProperty("certificateAuthorities")[0]);
        var tsaChain = Certificates(root.RootElement.GetProperty("timestampAuthorities")[0]);
        Assert.Equal(PemCertificates(Path.Combine(hsm.Hsm, "ca-chain.pem")), caChain);
        Assert.Equal(PemCertificates(Path.Combine(hsm.Hsm, "tsa-chain.pem")), tsaChain);
    }

    [Theory]
    [InlineData("log-key", "/api/v1/log/publicKey")]
    [InlineData("ct-key", "/ct/v1/public-key")]
    public async Task RunBackgroundPkcs11_LogKeys_AreTheTokensKeys(string label, string path)
    {
        using var http = new HttpClient();
        var served = PublicKeyDer(await http.GetStringAsync(hsm.System["REKOR_URL"] + path));

        var result = await LocalSystem.RunAsync(
            "pkcs11-tool",
            ["--module", "/usr/lib/softhsm/libsofthsm2.so", "--token-label", "tlog", "--read-object", "--type", "pubkey", "--label", label, "-o", _tlog.PathOf(label + ".der")],
            new Dictionary<string, string> { ["SOFTHSM2_CONF"] = Path.Combine(hsm.Hsm, "softhsm2.conf") },
            TimeSpan.FromMinutes(1));

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal(await File.ReadAllBytesAsync(_tlog.PathOf(label + ".der")), served);
    }

    [Fact]
    public async Task RunBackgroundPkcs11_KeysNeverLeaveTheToken_NoPrivateKeyFilesOrPinInLogs()
    {
        // Not signing keys of the services, so they stay files: the development OIDC issuer's key (it stands in for an
        // identity provider) and the admission webhook's loopback TLS serving key and its CA. The development TUF
        // repository's keys (root, targets, and the service's online snapshot/timestamp key) are in the token too:
        // keys/tuf holds only their public halves and the admin token.
        // The development witness's key under keys/witness stays a file: a witness stands in for an independent party.
        var sep = Path.DirectorySeparatorChar;
        var files = Directory.GetFiles(hsm.System.DataDirectory, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains(Path.Combine("hsm", "tokens"), StringComparison.Ordinal) && !f.Contains(sep + "pg" + sep, StringComparison.Ordinal))
            .Where(f => Path.GetFileName(f) != "dev-issuer-key.pem")
            .Where(f => !f.Contains(sep + "admission" + sep, StringComparison.Ordinal))
            .Where(f => !f.Contains(Path.Combine("keys", "witness") + sep, StringComparison.Ordinal))
            .ToList();
        var pin = (await File.ReadAllTextAsync(Path.Combine(hsm.Hsm, "pin"))).Trim();
        Assert.Contains(files, f => f.EndsWith(Path.Combine("keys", "tuf", "online.pub"), StringComparison.Ordinal));

        foreach (var path in files)
        {
            var text = await File.ReadAllTextAsync(path);
            Assert.False(text.Contains("PRIVATE KEY", StringComparison.Ordinal), $"{path} holds a private key");
            if (!path.EndsWith(Path.DirectorySeparatorChar + "pin", StringComparison.Ordinal))
            {
                Assert.DoesNotContain(pin, text, StringComparison.Ordinal);
            }
        }
    }

    private static List<string> Certificates(JsonElement authority) =>
        [.. authority.GetProperty("certChain").GetProperty("certificates").EnumerateArray().Select(c => c.GetProperty("rawBytes").GetString()!)];

    private static List<string> PemCertificates(string path)
    {
        var collection = new X509Certificate2Collection();
        collection.ImportFromPemFile(path);
        return [.. collection.Select(c => Convert.ToBase64String(c.RawData))];
    }

    private static byte[] PublicKeyDer(string pem)
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(pem);
        return key.ExportSubjectPublicKeyInfo();
    }
}
