using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Http;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Sigstore.Oci;

using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Cli.Tests.Registry;

/// <summary>
/// HTTPS to a real distribution registry whose certificate comes from a CA made here (<c>--registry-cacert</c>). The
/// Bearer token flow is the registry client's own: TransparencyLog.Sigstore.Tests, Oci/RegistryTokenTests.
/// </summary>
public sealed class RegistryTlsTests : IDisposable
{
    private readonly CliRunner _cli = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose()
    {
        _cli.Dispose();
        _http.Dispose();
    }

    [Fact]
    public async Task Tree_TlsRegistryWithRegistryCacert_ConnectsOverHttpsAndListsTheImage()
    {
        var (ca, caKey) = CreateCa("CN=Registry Test CA");
        using (caKey)
        {
            await using var registry = await LocalRegistry.StartAsync(authenticated: false, WriteServerCertificate(ca, caKey));
            await File.WriteAllTextAsync(_cli.PathOf("ca.pem"), ca.ExportCertificatePem() + "\n");
            var digest = await PushOverTlsAsync(registry.Address, ca, "tls/app", "v1");

            var (exitCode, output, error) = await _cli.RunAsync("tree", $"{registry.Address}/tls/app:v1", "--registry-cacert", _cli.PathOf("ca.pem"));

            Assert.True(exitCode == 0, error);
            Assert.Contains(digest, output + error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Tree_TlsRegistryWithAnotherCa_RefusedAsUnreachableNamingTls()
    {
        var (ca, caKey) = CreateCa("CN=Registry Test CA");
        var (other, otherKey) = CreateCa("CN=Some Other CA");
        using (caKey)
        using (otherKey)
        {
            await using var registry = await LocalRegistry.StartAsync(authenticated: false, WriteServerCertificate(ca, caKey));
            await PushOverTlsAsync(registry.Address, ca, "tls/app", "v1");
            await File.WriteAllTextAsync(_cli.PathOf("other.pem"), other.ExportCertificatePem() + "\n");

            var (exitCode, _, error) = await _cli.RunAsync("tree", $"{registry.Address}/tls/app:v1", "--registry-cacert", _cli.PathOf("other.pem"));

            Assert.NotEqual(0, exitCode);
            Assert.Contains("REGISTRY_UNREACHABLE", error, StringComparison.Ordinal);
            Assert.Contains("https://" + registry.Address, error, StringComparison.Ordinal);
            Assert.Contains("SSL", error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Tree_RegistryCacertNotPem_UsageError()
    {
        var path = _cli.WriteFile("not.pem", "not a certificate");

        var (exitCode, _, error) = await _cli.RunAsync("tree", "127.0.0.1:1/app:v1", "--registry-cacert", path);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("--registry-cacert", error, StringComparison.Ordinal);
    }

    private async Task<string> PushOverTlsAsync(string address, X509Certificate2 ca, string repository, string tag)
    {
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    RevocationMode = X509RevocationMode.NoCheck,
                    CustomTrustStore = { ca },
                },
            },
        };
        using var http = new HttpClient(handler);
        var client = new RegistryClient(http, address, null, allowInsecure: false, requireTls: true);
        Assert.Equal(Uri.UriSchemeHttps, client.BaseUri.Scheme);
        var config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\"}");
        var configDigest = await client.PushBlobAsync(repository, config, CancellationToken.None);
        var manifest = Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}},\"layers\":[]}}");
        await client.PutManifestAsync(repository, tag, manifest, MediaTypes.OciManifest, CancellationToken.None);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(manifest));
    }

    private static (X509Certificate2 Certificate, ECDsa Key) CreateCa(string subject)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return (request.CreateSelfSigned(now.AddHours(-1), now.AddDays(7)), key);
    }

    /// <summary>A server certificate for 127.0.0.1 issued by <paramref name="ca"/>, written as PEM files for the registry.</summary>
    private (string Certificate, string Key) WriteServerCertificate(X509Certificate2 ca, ECDsa caKey)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        using var certificate = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), now.AddHours(-1), now.AddDays(7), serial);
        var certificatePath = _cli.WriteFile("registry.crt", certificate.ExportCertificatePem() + "\n");
        var keyPath = _cli.WriteFile("registry.key", key.ExportECPrivateKeyPem() + "\n");
        return (certificatePath, keyPath);
    }
}
