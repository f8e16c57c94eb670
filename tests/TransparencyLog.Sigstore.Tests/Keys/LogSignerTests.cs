using System.Security.Cryptography;
using System.Text;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Tests.Keys;

public sealed class LogSignerTests
{
    private static readonly byte[] s_message = Encoding.UTF8.GetBytes("tree head");

    [Theory]
    [InlineData(LogKeyType.EcdsaP256)]
    [InlineData(LogKeyType.Ed25519)]
    public async Task Generate_SignThenVerify_Succeeds(LogKeyType type)
    {
        using var signer = LogSigner.Generate(type);
        var signature = await signer.SignAsync(s_message);

        Assert.Equal(type, signer.KeyType);
        Assert.True(signer.Verify(s_message, signature));
        Assert.False(signer.Verify("other"u8, signature));
        Assert.Equal(SHA256.HashData(signer.PublicKeySpki), signer.LogId);
        Assert.Equal(Convert.ToHexStringLower(signer.LogId), signer.LogIdHex);

        var publicKey = LogPublicKey.FromPem(signer.PublicKeyPem);
        Assert.Equal(type, publicKey.KeyType);
        Assert.Equal(signer.LogId, publicKey.LogId);
        Assert.True(publicKey.Verify(s_message, signature));
    }

    [Fact]
    public async Task Sign_Ecdsa_ProducesDerSignatureOverSha256()
    {
        using var signer = LogSigner.Generate(LogKeyType.EcdsaP256);
        var signature = await signer.SignAsync(s_message);

        Assert.Equal(0x30, signature[0]);
        using var ecdsa = ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(signer.PublicKeySpki, out _);
        Assert.True(ecdsa.VerifyHash(SHA256.HashData(s_message), signature, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public void PublicKeyPem_Layout_Is64ColumnsWithLf()
    {
        using var signer = LogSigner.Generate(LogKeyType.EcdsaP256);
        var lines = signer.PublicKeyPem.Split('\n');

        Assert.Equal("-----BEGIN PUBLIC KEY-----", lines[0]);
        Assert.Equal(64, lines[1].Length);
        Assert.Equal("-----END PUBLIC KEY-----", lines[^2]);
        Assert.Equal(string.Empty, lines[^1]);
        Assert.DoesNotContain('\r', signer.PublicKeyPem);
    }

    [Theory]
    [InlineData(LogKeyType.EcdsaP256, null)]
    [InlineData(LogKeyType.EcdsaP256, "correct horse")]
    [InlineData(LogKeyType.Ed25519, null)]
    [InlineData(LogKeyType.Ed25519, "correct horse")]
    public async Task ExportPkcs8Pem_ThenLoadPem_RoundTrips(LogKeyType type, string? password)
    {
        using var signer = LogSigner.Generate(type);
        var pem = signer.ExportPkcs8Pem(password);
        using var loaded = LogSigner.LoadPem(pem, password);

        Assert.StartsWith(password is null ? "-----BEGIN PRIVATE KEY-----" : "-----BEGIN ENCRYPTED PRIVATE KEY-----", pem, StringComparison.Ordinal);
        Assert.Equal(signer.LogId, loaded.LogId);
        var signature = await loaded.SignAsync(s_message);
        Assert.True(signer.Verify(s_message, signature));
    }

    [Theory]
    [InlineData("genpkey -algorithm ed25519", LogKeyType.Ed25519)]
    [InlineData("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256", LogKeyType.EcdsaP256)]
    [InlineData("ecparam -name prime256v1 -genkey -noout", LogKeyType.EcdsaP256)]
    public void LoadPem_OpenSslKey_LoadsAndMatchesOpenSslPublicKey(string command, LogKeyType type)
    {
        var pem = OpenSsl.Run(command);
        var publicPem = OpenSsl.Run("pkey -pubout", pem);

        using var signer = LogSigner.LoadPem(pem, password: null);

        Assert.Equal(type, signer.KeyType);
        Assert.Equal(publicPem, signer.PublicKeyPem);
    }

    [Theory]
    [InlineData("genpkey -algorithm ed25519")]
    [InlineData("genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256")]
    public void LoadPem_OpenSslEncryptedPkcs8_LoadsWithPassword(string command)
    {
        var plain = OpenSsl.Run(command);
        var encrypted = OpenSsl.Run("pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -passout pass:s3cret", plain);

        using var fromPlain = LogSigner.LoadPem(plain, password: null);
        using var fromEncrypted = LogSigner.LoadPem(encrypted, "s3cret");

        Assert.Contains("ENCRYPTED PRIVATE KEY", encrypted, StringComparison.Ordinal);
        Assert.Equal(fromPlain.LogId, fromEncrypted.LogId);
    }

    [Fact]
    public void LoadPem_Ed25519Exported_IsReadableByOpenSsl()
    {
        using var signer = LogSigner.Generate(LogKeyType.Ed25519);
        var publicPem = OpenSsl.Run("pkey -pubout", signer.ExportPkcs8Pem(null));

        Assert.Equal(signer.PublicKeyPem, publicPem);
    }

    [Theory]
    [InlineData(LogKeyType.EcdsaP256)]
    [InlineData(LogKeyType.Ed25519)]
    public void LoadPem_WrongPassword_ThrowsClearError(LogKeyType type)
    {
        using var signer = LogSigner.Generate(type);
        var pem = signer.ExportPkcs8Pem("right");

        var ex = Assert.Throws<KeyLoadException>(() => LogSigner.LoadPem(pem, "wrong"));
        Assert.Contains("wrong password", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadPem_EncryptedWithoutPassword_ThrowsClearError()
    {
        using var signer = LogSigner.Generate(LogKeyType.EcdsaP256);
        var ex = Assert.Throws<KeyLoadException>(() => LogSigner.LoadPem(signer.ExportPkcs8Pem("pw"), null));
        Assert.Contains("no password", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadPem_P384Key_ThrowsNamingTheCurve()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var ex = Assert.Throws<KeyLoadException>(() => LogSigner.LoadPem(ecdsa.ExportPkcs8PrivateKeyPem(), null));
        Assert.Contains("P-256", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadPem_RsaKey_ThrowsUnsupported()
    {
        using var rsa = RSA.Create(2048);
        var ex = Assert.Throws<KeyLoadException>(() => LogSigner.LoadPem(rsa.ExportPkcs8PrivateKeyPem(), null));
        Assert.Contains("RSA", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a key")]
    [InlineData("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n")]
    public void LoadPem_NoPrivateKey_ThrowsKeyLoadException(string pem)
    {
        var ex = Assert.Throws<KeyLoadException>(() => LogSigner.LoadPem(pem, null));
        Assert.Contains("no PEM private key", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadPem_CorruptPkcs8_MessageHasNoKeyBytes()
    {
        const string pem = "-----BEGIN PRIVATE KEY-----\nAAECAwQFBgc=\n-----END PRIVATE KEY-----\n";
        var ex = Assert.Throws<KeyLoadException>(() => LogSigner.LoadPem(pem, null));
        Assert.DoesNotContain("AAECAwQFBgc", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LogPublicKey_FromSpkiOfUnsupportedKey_Throws()
    {
        using var rsa = RSA.Create(2048);
        Assert.Throws<KeyLoadException>(() => LogPublicKey.FromSpki(rsa.ExportSubjectPublicKeyInfo()));
    }
}
