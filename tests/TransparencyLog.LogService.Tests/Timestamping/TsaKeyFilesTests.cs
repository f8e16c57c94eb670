using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TransparencyLog.LogService.Timestamping;
using TransparencyLog.Sigstore.Keys.Pkcs11;

namespace TransparencyLog.LogService.Tests.Timestamping;

/// <summary>The file backend refuses at start-up any chain or key that verifiers would reject later.</summary>
public sealed class TsaKeyFilesTests : IDisposable
{
    private const string Password = "correct horse battery staple";
    // Real time: the openssl test verifies these certificates against the wall clock.
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private readonly TempDirectory _directory = new();
    private readonly ECDsa _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _root;
    private readonly X509Certificate2 _intermediate;

    public TsaKeyFilesTests()
    {
        var rootRequest = new CertificateRequest("CN=Test TSA Root", _rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        _root = rootRequest.CreateSelfSigned(Now.AddDays(-1), Now.AddYears(5));
        _intermediate = Issue("CN=Test TSA Intermediate", _intermediateKey, _root, ca: true, eku: [Oids.TimeStampingPurpose]);
    }

    public void Dispose()
    {
        _directory.Dispose();
        _root.Dispose();
        _intermediate.Dispose();
        _rootKey.Dispose();
        _intermediateKey.Dispose();
        _leafKey.Dispose();
    }

    [Fact]
    public void Load_ValidChainWithIntermediate_ReturnsSigner()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate);

        using var signer = Load([leaf, _intermediate, _root], _leafKey);

        Assert.Equal(3, signer.Chain.Count);
        Assert.Equal(leaf.RawData, signer.Chain[0].RawData);
    }

    [Fact]
    public void Load_EncryptedKeyWithRightPassword_ReturnsSigner()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate);

        using var signer = Load([leaf, _intermediate, _root], _leafKey, encrypt: true, password: Password);

        Assert.Equal(leaf.RawData, signer.Chain[0].RawData);
    }

    [Fact]
    public void Load_EncryptedKeyWithWrongPassword_Throws()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate);

        var error = Assert.Throws<InvalidOperationException>(() => Load([leaf, _intermediate, _root], _leafKey, encrypt: true, password: "wrong-password-4711").Dispose());

        Assert.Contains("wrong password", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password-4711", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, error.Message, StringComparison.Ordinal);
    }


    [Fact]
    public void Load_EncryptedKeyWithoutPassword_Throws()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate);

        AssertRejected("encrypted but no password", () => Load([leaf, _intermediate, _root], _leafKey, encrypt: true, password: null));
    }

    [Fact]
    public void Load_LeafIsCa_Throws()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate, ca: true);

        AssertRejected("is a CA certificate", () => Load([leaf, _intermediate, _root], _leafKey));
    }

    [Fact]
    public void Load_LeafWithoutEku_Throws()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate, withoutEku: true);

        AssertRejected("has no extended key usage", () => Load([leaf, _intermediate, _root], _leafKey));
    }

    [Fact]
    public void Load_LeafWithNonCriticalEku_Throws()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate, ekuCritical: false);

        AssertRejected("not marked critical", () => Load([leaf, _intermediate, _root], _leafKey));
    }

    [Fact]
    public void Load_LeafWithExtraEku_Throws()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate, eku: [Oids.TimeStampingPurpose, "1.3.6.1.5.5.7.3.3"]);

        AssertRejected("must contain only timeStamping", () => Load([leaf, _intermediate, _root], _leafKey));
    }

    [Fact]
    public void Load_LeafWithoutDigitalSignature_Throws()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate, keyUsage: X509KeyUsageFlags.NonRepudiation);

        AssertRejected("must include digitalSignature", () => Load([leaf, _intermediate, _root], _leafKey));
    }

    [Fact]
    public void Load_KeyOfAnotherCertificate_Throws()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate);
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        AssertRejected("does not match the TSA certificate's public key", () => Load([leaf, _intermediate, _root], otherKey));
    }

    [Fact]
    public void Load_RsaKeyForEcdsaCertificate_Throws()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate);
        using var rsa = RSA.Create(2048);

        AssertRejected("does not match the TSA certificate's public key", () => Load([leaf, _intermediate, _root], rsa));
    }

    [Fact]
    public void Load_WeakRsaKey_Throws()
    {
        using var rsa = RSA.Create(1024);
        using var leaf = Issue("CN=Test TSA", rsa, _intermediate);

        AssertRejected("at least 2048", () => Load([leaf, _intermediate, _root], rsa));
    }

    [Fact]
    public void Load_IntermediateWithoutTimestampingEku_Throws()
    {
        using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var intermediate = Issue("CN=Code Signing Intermediate", intermediateKey, _root, ca: true, eku: ["1.3.6.1.5.5.7.3.3"]);
        using var leaf = Issue("CN=Test TSA", _leafKey, intermediate);

        AssertRejected("without timeStamping", () => Load([leaf, intermediate, _root], _leafKey));
    }

    [Fact]
    public void Load_ChainMissingIntermediate_Throws()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate);

        AssertRejected("does not verify", () => Load([leaf, _root], _leafKey));
    }

    [Fact]
    public void Load_OnlyTsaCertificate_Throws()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate);

        AssertRejected("at least 2 certificates", () => Load([leaf], _leafKey));
    }

    [Fact]
    public void Load_ExpiredTsaCertificate_Throws()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate, notAfter: Now.AddDays(-1));

        AssertRejected("does not verify", () => Load([leaf, _intermediate, _root], _leafKey));
    }

    [Fact]
    public async Task StartAsync_FileBackendWithCaLeaf_FailsWithClearMessage()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate, ca: true);
        WriteFiles([leaf, _intermediate, _root], _leafKey, encrypt: false, password: null);
        await using var app = TsaTestServer.Build(FileSettings(), new FakeTimeProvider(Now));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

        Assert.Contains("is a CA certificate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_FileBackendWithoutPaths_FailsOptionsValidation()
    {
        await using var app = TsaTestServer.Build(new Dictionary<string, string?> { ["Timestamping:Backend"] = "file" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Timestamping:CertificateChainPath is required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_UnknownBackend_FailsOptionsValidation()
    {
        await using var app = TsaTestServer.Build(new Dictionary<string, string?> { ["Timestamping:Backend"] = "kms" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Timestamping:Backend must be", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostTimestamp_FileBackendWithEncryptedKey_OpensslVerifies()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate);
        WriteFiles([leaf, _intermediate, _root], _leafKey, encrypt: true, password: Password);
        await File.WriteAllTextAsync(_directory.File("password.txt"), Password + "\n");
        var settings = FileSettings();
        settings["Timestamping:PrivateKeyPasswordFile"] = _directory.File("password.txt");
        await using var server = await TsaTestServer.StartAsync(settings);
        await File.WriteAllTextAsync(_directory.File("artifact.txt"), "file backend\n");
        await Openssl.RunCheckedAsync(_directory.Path, "ts", "-query", "-data", "artifact.txt", "-sha256", "-out", "req.tsq");
        await File.WriteAllBytesAsync(_directory.File("resp.tsr"), await server.TimestampAsync(await File.ReadAllBytesAsync(_directory.File("req.tsq"))));
        await File.WriteAllTextAsync(_directory.File("root.pem"), _root.ExportCertificatePem() + "\n");
        await File.WriteAllTextAsync(_directory.File("untrusted.pem"), leaf.ExportCertificatePem() + "\n" + _intermediate.ExportCertificatePem() + "\n");

        var output = await Openssl.RunCheckedAsync(_directory.Path,
            "ts", "-verify", "-in", "resp.tsr", "-queryfile", "req.tsq", "-CAfile", "root.pem", "-untrusted", "untrusted.pem");

        Assert.Contains("Verification: OK", output, StringComparison.Ordinal);
        Assert.Equal([leaf.RawData, _intermediate.RawData, _root.RawData], (await server.GetChainAsync()).Select(c => c.RawData));
    }

    [Fact]
    public async Task StartAsync_DevelopmentStateDirectory_KeepsChainAcrossRestarts()
    {
        var settings = new Dictionary<string, string?> { ["Timestamping:Development:StateDirectory"] = _directory.File("state") };

        IReadOnlyList<X509Certificate2> first, second;
        await using (var server = await TsaTestServer.StartAsync(settings))
        {
            first = await server.GetChainAsync();
        }

        await using (var server = await TsaTestServer.StartAsync(settings))
        {
            second = await server.GetChainAsync();
            Assert.True(new DecodedTimestamp(await server.TimestampAsync(TimestampRequests.Der())).SignatureVerifies(second[0]));
        }

        Assert.Equal(first.Select(c => c.RawData), second.Select(c => c.RawData));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_directory.File("state/tsa-key.pem")));
        }
    }

    [Fact]
    public async Task PostTimestamp_FileBackendWithP384Key_SignsWithSha384AndOpensslVerifies()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var leaf = Issue("CN=Test TSA P-384", p384, _intermediate);
        WriteFiles([leaf, _intermediate, _root], p384, encrypt: false, password: null);
        await using var server = await TsaTestServer.StartAsync(FileSettings());
        await File.WriteAllTextAsync(_directory.File("artifact.txt"), "p-384\n");
        await Openssl.RunCheckedAsync(_directory.Path, "ts", "-query", "-data", "artifact.txt", "-sha256", "-cert", "-out", "req.tsq");
        await File.WriteAllBytesAsync(_directory.File("resp.tsr"), await server.TimestampAsync(await File.ReadAllBytesAsync(_directory.File("req.tsq"))));
        await File.WriteAllTextAsync(_directory.File("root.pem"), _root.ExportCertificatePem() + "\n");
        await File.WriteAllTextAsync(_directory.File("untrusted.pem"), _intermediate.ExportCertificatePem() + "\n");

        var output = await Openssl.RunCheckedAsync(_directory.Path,
            "ts", "-verify", "-in", "resp.tsr", "-queryfile", "req.tsq", "-CAfile", "root.pem", "-untrusted", "untrusted.pem");
        await Openssl.RunCheckedAsync(_directory.Path, "ts", "-reply", "-in", "resp.tsr", "-token_out", "-out", "token.der");
        var token = await Openssl.RunCheckedAsync(_directory.Path, "cms", "-cmsout", "-inform", "DER", "-in", "token.der", "-print");

        Assert.Contains("Verification: OK", output, StringComparison.Ordinal);
        Assert.Contains("ecdsa-with-SHA384", token, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostTimestamp_TsaKeyInHsm_OpensslVerifies()
    {
        var uri = SoftHsm.Uri("tsa-key");
        using var leaf = IssueForTokenKey(uri);
        File.WriteAllText(_directory.File("chain.pem"), string.Concat(new[] { leaf, _intermediate, _root }.Select(c => c.ExportCertificatePem() + "\n")));
        var settings = FileSettings();
        settings["Timestamping:PrivateKeyPath"] = uri;
        await using var server = await TsaTestServer.StartAsync(settings);
        await File.WriteAllTextAsync(_directory.File("artifact.txt"), "hsm backend\n");
        await Openssl.RunCheckedAsync(_directory.Path, "ts", "-query", "-data", "artifact.txt", "-sha256", "-cert", "-out", "req.tsq");
        await File.WriteAllBytesAsync(_directory.File("resp.tsr"), await server.TimestampAsync(await File.ReadAllBytesAsync(_directory.File("req.tsq"))));
        await File.WriteAllTextAsync(_directory.File("root.pem"), _root.ExportCertificatePem() + "\n");
        await File.WriteAllTextAsync(_directory.File("untrusted.pem"), _intermediate.ExportCertificatePem() + "\n");

        var output = await Openssl.RunCheckedAsync(_directory.Path,
            "ts", "-verify", "-in", "resp.tsr", "-queryfile", "req.tsq", "-CAfile", "root.pem", "-untrusted", "untrusted.pem");

        Assert.Contains("Verification: OK", output, StringComparison.Ordinal);
        Assert.Equal(leaf.RawData, (await server.GetChainAsync())[0].RawData);
    }

    [Fact]
    public async Task StartAsync_HsmKeyNotMatchingChain_FailsNamingTheMismatch()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate);
        WriteFiles([leaf, _intermediate, _root], _leafKey, encrypt: false, password: null);
        var settings = FileSettings();
        settings["Timestamping:PrivateKeyPath"] = SoftHsm.Uri("tsa-key");
        await using var app = TsaTestServer.Build(settings);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

        Assert.Contains("does not match the TSA certificate's public key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_HsmObjectMissing_FailsNamingTheObjectNotThePin()
    {
        using var leaf = Issue("CN=Test TSA", _leafKey, _intermediate);
        WriteFiles([leaf, _intermediate, _root], _leafKey, encrypt: false, password: null);
        var settings = FileSettings();
        settings["Timestamping:PrivateKeyPath"] = SoftHsm.Uri(SoftHsm.Token, "no-such-key");
        await using var app = TsaTestServer.Build(settings);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync());

        Assert.StartsWith("Timestamping: the TSA key cannot be opened in its PKCS#11 token", error.Message, StringComparison.Ordinal);
        Assert.Contains("no-such-key", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(SoftHsm.Pin, error.Message, StringComparison.Ordinal);
    }

    /// <summary>A TSA certificate, issued by the test intermediate, for the public half of a key in the token.</summary>
    private X509Certificate2 IssueForTokenKey(string uri)
    {
        using var tokenKey = Pkcs11Signer.Open(uri);
        var publicKey = PublicKey.CreateFromSubjectPublicKeyInfo(tokenKey.PublicKeySpki.Span, out _);
        var request = new CertificateRequest(new X500DistinguishedName("CN=Test HSM TSA"), publicKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(Oids.TimeStampingPurpose)], true));
        var generator = X509SignatureGenerator.CreateForECDsa(_intermediateKey);
        return request.Create(_intermediate.SubjectName, generator, Now.AddDays(-1), Now.AddYears(1), RandomSerial());
    }

    private Dictionary<string, string?> FileSettings() => new()
    {
        ["Timestamping:Backend"] = "file",
        ["Timestamping:CertificateChainPath"] = _directory.File("chain.pem"),
        ["Timestamping:PrivateKeyPath"] = _directory.File("key.pem"),
    };

    private TimestampSigner Load(X509Certificate2[] chain, AsymmetricAlgorithm key, bool encrypt = false, string? password = null)
    {
        WriteFiles(chain, key, encrypt, encrypt ? Password : null);
        return TsaKeyFiles.Load(_directory.File("chain.pem"), _directory.File("key.pem"), password, password is not null, Now);
    }

    private void WriteFiles(X509Certificate2[] chain, AsymmetricAlgorithm key, bool encrypt, string? password)
    {
        File.WriteAllText(_directory.File("chain.pem"), string.Concat(chain.Select(c => c.ExportCertificatePem() + "\n")));
        File.WriteAllText(_directory.File("key.pem"), encrypt
            ? key.ExportEncryptedPkcs8PrivateKeyPem(password, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000))
            : key.ExportPkcs8PrivateKeyPem());
    }

    private static void AssertRejected(string expected, Func<TimestampSigner> load)
    {
        var error = Assert.Throws<InvalidOperationException>(() => load().Dispose());
        Assert.StartsWith("Timestamping: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    private X509Certificate2 Issue(
        string subject,
        AsymmetricAlgorithm key,
        X509Certificate2 issuer,
        bool ca = false,
        string[]? eku = null,
        bool ekuCritical = true,
        X509KeyUsageFlags keyUsage = X509KeyUsageFlags.DigitalSignature,
        DateTimeOffset? notAfter = null,
        bool withoutEku = false)
    {
        eku ??= ca || withoutEku ? null : [Oids.TimeStampingPurpose];
        var request = key switch
        {
            ECDsa ecdsa => new CertificateRequest(subject, ecdsa, HashAlgorithmName.SHA256),
            RSA rsa => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            _ => throw new ArgumentException("unsupported key", nameof(key)),
        };
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(ca, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(ca ? X509KeyUsageFlags.KeyCertSign : keyUsage, true));
        if (eku is not null)
        {
            var oids = new OidCollection();
            foreach (var oid in eku)
            {
                oids.Add(new Oid(oid));
            }

            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(oids, ekuCritical));
        }

        var issuerKey = issuer.Subject == _root.Subject ? _rootKey : _intermediateKey;
        var generator = X509SignatureGenerator.CreateForECDsa(issuerKey);
        return request.Create(issuer.SubjectName, generator, Now.AddDays(-1), notAfter ?? Now.AddYears(1), RandomSerial());
    }

    private static byte[] RandomSerial()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        return serial;
    }
}
