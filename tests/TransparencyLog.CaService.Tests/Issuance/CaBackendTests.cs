using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TransparencyLog.CaService.Issuance;

namespace TransparencyLog.CaService.Tests.Issuance;

public sealed class CaBackendTests : IDisposable
{
    private const string Password = "correct horse battery staple";
    private static readonly PbeParameters Pbe = new(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10_000);
    private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;
    private readonly string _directory = Directory.CreateTempSubdirectory("ca-backend-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Load_ValidChainAndEncryptedKey_SignerForFirstCertificate()
    {
        var (key, chain) = EphemeralCaBackend.Generate(_now);

        using var signer = FileCaBackend.Load(Write(chain, key.ExportEncryptedPkcs8PrivateKeyPem(Password, Pbe)), _now);

        Assert.Equal(chain[0].RawData, signer.IssuingCertificate.RawData);
        Assert.Equal(2, signer.Chain.Count);
    }

    [Fact]
    public void Load_PasswordFromEnvironmentVariable_Loads()
    {
        var (key, chain) = EphemeralCaBackend.Generate(_now);
        var variable = "TL_TEST_CA_PASSWORD_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, Password);
        try
        {
            var options = Write(chain, key.ExportEncryptedPkcs8PrivateKeyPem(Password, Pbe)) with
            {
                PrivateKeyPasswordFile = null,
                PrivateKeyPasswordEnvironmentVariable = variable,
            };

            using var signer = FileCaBackend.Load(options, _now);

            Assert.NotNull(signer);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void Load_FirstCertificateNotCa_FailsWithReason()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=not a ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        var certificate = request.CreateSelfSigned(_now.AddMinutes(-1), _now.AddYears(1));

        var error = Assert.Throws<InvalidOperationException>(() =>
            FileCaBackend.Load(Write([certificate], key.ExportEncryptedPkcs8PrivateKeyPem(Password, Pbe)), _now));

        Assert.Contains("is not a CA", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_KeyOfAnotherCertificate_FailsWithReason()
    {
        var (_, chain) = EphemeralCaBackend.Generate(_now);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var error = Assert.Throws<InvalidOperationException>(() =>
            FileCaBackend.Load(Write(chain, other.ExportEncryptedPkcs8PrivateKeyPem(Password, Pbe)), _now));

        Assert.Contains("does not match", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_WrongPassword_FailsWithoutEchoingIt()
    {
        var (key, chain) = EphemeralCaBackend.Generate(_now);
        var options = Write(chain, key.ExportEncryptedPkcs8PrivateKeyPem("another password", Pbe));

        var error = Assert.Throws<InvalidOperationException>(() => FileCaBackend.Load(options, _now));

        Assert.Contains("could not be decrypted", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_UnencryptedKey_Fails()
    {
        var (key, chain) = EphemeralCaBackend.Generate(_now);

        var error = Assert.Throws<InvalidOperationException>(() => FileCaBackend.Load(Write(chain, key.ExportPkcs8PrivateKeyPem()), _now));

        Assert.Contains("ENCRYPTED PRIVATE KEY", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Rsa1024Ca_FailsAsTooWeak()
    {
        using var key = RSA.Create(1024);
        var request = new CertificateRequest("CN=weak root", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var root = request.CreateSelfSigned(_now.AddMinutes(-1), _now.AddYears(1));

        var error = Assert.Throws<InvalidOperationException>(() =>
            FileCaBackend.Load(Write([root], key.ExportEncryptedPkcs8PrivateKeyPem(Password, Pbe)), _now));

        Assert.Contains("too weak", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_IntermediateWithoutCodeSigning_FailsWithReason()
    {
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=root", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var root = rootRequest.CreateSelfSigned(_now.AddMinutes(-1), _now.AddYears(1));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=intermediate", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var intermediate = request.Create(root, _now.AddMinutes(-1), _now.AddMonths(1), [1, 2, 3]);

        var error = Assert.Throws<InvalidOperationException>(() =>
            FileCaBackend.Load(Write([intermediate, root], key.ExportEncryptedPkcs8PrivateKeyPem(Password, Pbe)), _now));

        Assert.Contains("codeSigning", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ChainOutOfOrder_FailsWithReason()
    {
        var (key, chain) = EphemeralCaBackend.Generate(_now);

        var error = Assert.Throws<InvalidOperationException>(() =>
            FileCaBackend.Load(Write([chain[1], chain[0]], key.ExportEncryptedPkcs8PrivateKeyPem(Password, Pbe)), _now));

        Assert.StartsWith("Issuance CA configuration:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_EphemeralWithStateDirectory_SameRootAfterRestart()
    {
        var options = new IssuanceOptions
        {
            Backend = CaBackend.Ephemeral,
            Development = new DevelopmentOptions { StateDirectory = Path.Combine(_directory, "state") },
        };

        using var first = EphemeralCaBackend.Create(options, _now);
        using var second = EphemeralCaBackend.Create(options, _now.AddHours(1));

        Assert.Equal(first.Chain.Select(c => c.RawData), second.Chain.Select(c => c.RawData));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(
                UnixFileMode.UserRead | UnixFileMode.UserWrite,
                File.GetUnixFileMode(Path.Combine(_directory, "state", "ca-key.pem")));
        }
    }

    [Fact]
    public void Validate_CtLogWithoutKeyOrFileBackendWithoutPaths_Fails()
    {
        var validator = new IssuanceOptionsValidator();

        var result = validator.Validate(null, new IssuanceOptions { CtLogUrl = "http://ct.example/test" });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("CtLogPublicKeyPath", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("ChainPath", StringComparison.Ordinal));
        Assert.True(validator.Validate(null, new IssuanceOptions { Backend = CaBackend.Ephemeral }).Succeeded);
    }

    private IssuanceOptions Write(IReadOnlyList<X509Certificate2> chain, string keyPem)
    {
        var pem = new StringBuilder();
        foreach (var certificate in chain)
        {
            pem.Append(PemEncoding.WriteString("CERTIFICATE", certificate.RawData)).Append('\n');
        }

        var chainPath = Path.Combine(_directory, "chain.pem");
        var keyPath = Path.Combine(_directory, "key.pem");
        var passwordPath = Path.Combine(_directory, "password");
        File.WriteAllText(chainPath, pem.ToString());
        File.WriteAllText(keyPath, keyPem);
        File.WriteAllText(passwordPath, Password + "\n");
        return new IssuanceOptions { ChainPath = chainPath, PrivateKeyPath = keyPath, PrivateKeyPasswordFile = passwordPath };
    }
}
