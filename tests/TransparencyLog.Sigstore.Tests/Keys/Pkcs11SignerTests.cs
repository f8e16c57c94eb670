using System.Security.Cryptography;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Keys.Pkcs11;
using TransparencyLog.Testing;

namespace TransparencyLog.Sigstore.Tests.Keys;

/// <summary>Keys in SoftHSM2: signatures made in the token verify with the public key read from it.</summary>
public sealed class Pkcs11SignerTests
{
    private static readonly byte[] Message = "tree head 42\n"u8.ToArray();

    [Fact]
    public async Task SignAsync_EcdsaP256Key_VerifiesWithPublicKey()
    {
        using var signer = Pkcs11Signer.Open(SoftHsm.Uri("ec-key"));

        var signature = await signer.SignAsync(Message);

        Assert.Equal(SignatureAlgorithm.EcdsaP256Sha256, signer.Algorithm);
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(signer.PublicKeySpki.Span, out _);
        Assert.True(key.VerifyData(Message, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        Assert.False(key.VerifyData("tree head 43\n"u8, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public async Task SignAsync_EcdsaP256Key_EverySignatureOfManyVerifies()
    {
        // About one signature in 128 has an r or s with a leading zero byte: 2,000 make missing one unlikely
        // (probability ~1e-7), and each must come back as DER that verifies.
        using var signer = Pkcs11Signer.Open(SoftHsm.Uri("ec-key"));
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(signer.PublicKeySpki.Span, out _);

        for (var i = 0; i < 2_000; i++)
        {
            var message = BitConverter.GetBytes(i);
            var signature = await signer.SignAsync(message);
            Assert.True(key.VerifyData(message, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence), $"signature {i}");
        }
    }

    [Theory]
    [InlineData("00", "01")]
    [InlineData("0000", "ff")]
    [InlineData("7f", "00")]
    public void RawToDer_ValuesWithLeadingZeros_AreMinimalDerIntegers(string firstByteOfR, string firstByteOfS)
    {
        var r = new byte[32];
        var s = new byte[32];
        Convert.FromHexString(firstByteOfR).CopyTo(r, 0);
        Convert.FromHexString(firstByteOfS).CopyTo(s, 0);
        r[31] = 0x05;
        s[31] = 0x07;

        var der = Pkcs11Signer.RawToDer([.. r, .. s]);

        var reader = new System.Formats.Asn1.AsnReader(der, System.Formats.Asn1.AsnEncodingRules.DER).ReadSequence();
        Assert.Equal(new System.Numerics.BigInteger(r, isUnsigned: true, isBigEndian: true), reader.ReadInteger());
        Assert.Equal(new System.Numerics.BigInteger(s, isUnsigned: true, isBigEndian: true), reader.ReadInteger());
        Assert.False(reader.HasData);
    }

    [Fact]
    public async Task SignAsync_Ed25519Key_VerifiesWithPublicKey()
    {
        using var signer = Pkcs11Signer.Open(SoftHsm.Uri("ed-key"));

        var signature = await signer.SignAsync(Message);

        Assert.Equal(SignatureAlgorithm.Ed25519, signer.Algorithm);
        var publicKey = LogPublicKey.FromSpki(signer.PublicKeySpki.ToArray());
        Assert.True(publicKey.Verify(Message, signature));
        Assert.False(publicKey.Verify("other"u8, signature));
    }

    [Fact]
    public async Task SignAsync_RsaKey_VerifiesWithPublicKey()
    {
        using var signer = Pkcs11Signer.Open(SoftHsm.Uri("rsa-key"));

        var signature = await signer.SignAsync(Message);

        using var key = RSA.Create();
        key.ImportSubjectPublicKeyInfo(signer.PublicKeySpki.Span, out _);
        Assert.True(key.VerifyData(Message, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    [Fact]
    public async Task Open_PinFromEnvironment_Signs()
    {
        var uri = $"pkcs11:token={SoftHsm.Token};object=ec-key?module-path={SoftHsm.Module}&x-pin-env=HSM_PIN";

        using var signer = Pkcs11Signer.Open(uri, name => name == "HSM_PIN" ? SoftHsm.Pin : null);

        Assert.NotEmpty(await signer.SignAsync(Message));
    }

    [Fact]
    public void Open_WrongPin_ThrowsWithoutThePin()
    {
        var uri = $"pkcs11:token={SoftHsm.Token};object=ec-key?module-path={SoftHsm.Module}&x-pin-env=HSM_PIN";

        var error = Assert.Throws<KeyLoadException>(() => Pkcs11Signer.Open(uri, _ => "wrong-pin-9876"));

        Assert.Contains("CKR_PIN_INCORRECT", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pin-9876", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Open_UnknownObject_ThrowsNamingIt()
    {
        var error = Assert.Throws<KeyLoadException>(() => Pkcs11Signer.Open(SoftHsm.Uri("no-such-key")));

        Assert.Contains("no private key object", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_UnknownToken_ThrowsNamingIt()
    {
        var error = Assert.Throws<KeyLoadException>(() => Pkcs11Signer.Open(SoftHsm.Uri("no-such-token", "ec-key")));

        Assert.Contains("no token", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pkcs11:object=k?module-path=/m.so&pin-value=1", "no token")]
    [InlineData("pkcs11:token=t?module-path=/m.so&pin-value=1", "names no key")]
    [InlineData("pkcs11:token=t;object=k;object=j", "repeats")]
    [InlineData("pkcs11:token=t;id=%zz", "percent-encoding")]
    [InlineData("file:/key.pem", "starts with 'pkcs11:'")]
    public void Parse_BadUri_ThrowsClearError(string uri, string message)
    {
        var error = Assert.Throws<KeyLoadException>(() => Pkcs11Uri.Parse(uri));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_FullUri_ReadsAttributesAndPrintsWithoutPin()
    {
        var uri = Pkcs11Uri.Parse("pkcs11:token=my%20token;id=%01%a2?module-path=/usr/lib/x.so&pin-value=secret-pin");

        Assert.Equal("my token", uri.Token);
        Assert.Equal(new byte[] { 0x01, 0xa2 }, uri.Id);
        Assert.Equal("/usr/lib/x.so", uri.ModulePath);
        Assert.DoesNotContain("secret-pin", uri.ToString(), StringComparison.Ordinal);
    }
}
