using System.Security.Cryptography;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Tests.Keys;

public sealed class PrivateKeyPemTests
{
    private const string Password = "correct horse battery staple";
    private static readonly PbeParameters s_pbe = new(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000);
    private static readonly byte[] s_message = "signed by the key in the file"u8.ToArray();

    public static TheoryData<string> KeyTypes => ["ecdsa-p256", "ecdsa-p384", "rsa", "ed25519"];

    [Theory]
    [MemberData(nameof(KeyTypes))]
    public async Task Load_UnencryptedPkcs8_SignsVerifiablyWithoutPassword(string type)
    {
        var (pem, spki, _) = Key(type, password: null);

        using var signer = PrivateKeyPem.Load(pem, default);

        Assert.Equal(spki, signer.PublicKeySpki.ToArray());
        Assert.True(Verify(type, spki, await signer.SignAsync(s_message)));
    }

    [Theory]
    [MemberData(nameof(KeyTypes))]
    public async Task Load_EncryptedPkcs8WithRightPassword_LoadsTheSameKey(string type)
    {
        var (pem, spki, _) = Key(type, Password);

        using var signer = PrivateKeyPem.Load(pem, Password);

        Assert.Equal(spki, signer.PublicKeySpki.ToArray());
        Assert.True(Verify(type, spki, await signer.SignAsync(s_message)));
    }

    [Theory]
    [MemberData(nameof(KeyTypes))]
    public void Load_EncryptedPkcs8WithWrongPassword_ClearErrorWithoutEitherPassword(string type)
    {
        var (pem, _, _) = Key(type, Password);

        var error = Assert.Throws<KeyLoadException>(() => PrivateKeyPem.Load(pem, "Tr0ub4dor&3"));

        Assert.Contains("wrong password", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Tr0ub4dor&3", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Password, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Load_EncryptedPkcs8WithoutPassword_SaysNoPasswordWasGiven()
    {
        var (pem, _, _) = Key("ecdsa-p256", Password);

        var error = Assert.Throws<KeyLoadException>(() => PrivateKeyPem.Load(pem, default));

        Assert.Contains("no password", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Sec1AndPkcs1_LoadLikePkcs8()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsa = RSA.Create(2048);

        using var fromSec1 = PrivateKeyPem.Load(ecdsa.ExportECPrivateKeyPem(), default);
        using var fromPkcs1 = PrivateKeyPem.Load(rsa.ExportRSAPrivateKeyPem(), default);

        Assert.Equal(ecdsa.ExportSubjectPublicKeyInfo(), fromSec1.PublicKeySpki.ToArray());
        Assert.Equal(rsa.ExportSubjectPublicKeyInfo(), fromPkcs1.PublicKeySpki.ToArray());
    }

    [Fact]
    public void Load_TwoKeys_Refused()
    {
        using var a = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var b = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var error = Assert.Throws<KeyLoadException>(() => PrivateKeyPem.Load(a.ExportPkcs8PrivateKeyPem() + "\n" + b.ExportPkcs8PrivateKeyPem(), default));

        Assert.Contains("more than one private key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_OversizedFile_RefusedBeforeParsing()
    {
        var error = Assert.Throws<KeyLoadException>(() => PrivateKeyPem.Load(new string('A', PrivateKeyPem.MaxPemChars + 1), default));

        Assert.Contains("too large", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsEncrypted_OnlyForEncryptedPkcs8()
    {
        Assert.True(PrivateKeyPem.IsEncrypted(Key("ecdsa-p256", Password).Pem));
        Assert.False(PrivateKeyPem.IsEncrypted(Key("ecdsa-p256", null).Pem));
    }

    private static (string Pem, byte[] Spki, string Type) Key(string type, string? password)
    {
        if (type == "ed25519")
        {
            using var ed25519 = LogSigner.Generate(LogKeyType.Ed25519);
            return (ed25519.ExportPkcs8Pem(password), ed25519.PublicKeySpki, type);
        }

        using AsymmetricAlgorithm key = type switch
        {
            "ecdsa-p256" => ECDsa.Create(ECCurve.NamedCurves.nistP256),
            "ecdsa-p384" => ECDsa.Create(ECCurve.NamedCurves.nistP384),
            _ => RSA.Create(2048),
        };
        var pem = password is null ? key.ExportPkcs8PrivateKeyPem() : key.ExportEncryptedPkcs8PrivateKeyPem(password, s_pbe);
        return (pem, key.ExportSubjectPublicKeyInfo(), type);
    }

    private static bool Verify(string type, byte[] spki, byte[] signature)
    {
        switch (type)
        {
            case "ed25519":
                return LogPublicKey.FromSpki(spki).Verify(s_message, signature);
            case "rsa":
                using (var rsa = RSA.Create())
                {
                    rsa.ImportSubjectPublicKeyInfo(spki, out _);
                    return rsa.VerifyData(s_message, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                }

            default:
                using (var ecdsa = ECDsa.Create())
                {
                    ecdsa.ImportSubjectPublicKeyInfo(spki, out _);
                    var hash = ecdsa.KeySize == 384 ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA256;
                    return ecdsa.VerifyData(s_message, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
                }
        }
    }
}
