using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.CaService.Tests.Infrastructure;
using TransparencyLog.Sigstore.Keys.Pkcs11;
using TransparencyLog.Testing;

namespace TransparencyLog.CaService.Tests.Issuance;

/// <summary>The CA's intermediate key in SoftHSM2, named by a pkcs11: URI in Issuance:PrivateKeyPath.</summary>
[Collection(CaFixture.Collection)]
public sealed class HsmCaTests(CaFixture fixture) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ca-hsm-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task SigningCert_CaKeyInHsm_LeafVerifiesAgainstTheHsmKeysCertificate()
    {
        var uri = SoftHsm.Uri("ca-key");
        var (chainPath, intermediate, root) = WriteChainFor(uri);
        await using var ca = CaServer.Start(fixture.Settings(new Dictionary<string, string?>
        {
            ["Issuance:Backend"] = "File",
            ["Issuance:ChainPath"] = chainPath,
            ["Issuance:PrivateKeyPath"] = uri,
        }));
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = new TestKey();

        using var response = await CaResponses.PostSigningCertAsync(ca.Rest, key.RequestJson(token, "alice@example.com"));

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        using var leaf = CaResponses.Leaf(body);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(root);
        chain.ChainPolicy.ExtraStore.Add(intermediate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(leaf), string.Join(", ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.Equal(intermediate.RawData, chain.ChainElements[1].Certificate.RawData);
        Assert.DoesNotContain(SoftHsm.Pin, string.Join("\n", ca.Logs.Events.Select(e => e.Message)), StringComparison.Ordinal);
    }

    [Fact]
    public void Start_HsmKeyNotMatchingChain_FailsNamingTheMismatch()
    {
        var (chainPath, _, _) = WriteChainFor(SoftHsm.Uri("ca-key"));
        var settings = fixture.Settings(new Dictionary<string, string?>
        {
            ["Issuance:Backend"] = "File",
            ["Issuance:ChainPath"] = chainPath,
            ["Issuance:PrivateKeyPath"] = SoftHsm.Uri("tsa-key"),
        });

        var error = Assert.ThrowsAny<Exception>(() => CaServer.Start(settings));

        Assert.Contains("does not match", error.GetBaseException().Message, StringComparison.Ordinal);
    }

    /// <summary>A root made here and an intermediate certificate for the HSM key's public half.</summary>
    private (string Path, X509Certificate2 Intermediate, X509Certificate2 Root) WriteChainFor(string uri)
    {
        using var hsmKey = Pkcs11Signer.Open(uri);
        var now = DateTimeOffset.UtcNow;
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=HSM Test Root", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 1, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var rootSki = new X509SubjectKeyIdentifierExtension(rootRequest.PublicKey, false);
        rootRequest.CertificateExtensions.Add(rootSki);
        var root = rootRequest.CreateSelfSigned(now.AddHours(-1), now.AddYears(1));

        var publicKey = PublicKey.CreateFromSubjectPublicKeyInfo(hsmKey.PublicKeySpki.Span, out _);
        var request = new CertificateRequest(new X500DistinguishedName("CN=HSM Test Intermediate"), publicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.3")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(publicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(rootSki));
        var intermediate = request.Create(root.SubjectName, X509SignatureGenerator.CreateForECDsa(rootKey), now.AddMinutes(-30), now.AddMonths(6), [0x21, 0x42]);

        var path = Path.Combine(_directory, "chain.pem");
        File.WriteAllText(path, intermediate.ExportCertificatePem() + "\n" + root.ExportCertificatePem() + "\n");
        return (path, intermediate, root);
    }
}
