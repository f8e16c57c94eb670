using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Issuance;

namespace TransparencyLog.CaService.Tests.Issuance;

public sealed class SubmittedKeyTests
{
    private static readonly byte[] Message = "alice@example.com"u8.ToArray();

    public static TheoryData<string, string> Curves => new()
    {
        { "nistP256", "SHA256" },
        { "nistP384", "SHA384" },
        { "nistP521", "SHA512" },
    };

    [Theory]
    [MemberData(nameof(Curves))]
    public void FromPublicKey_NistCurve_AcceptedAndPopUsesCurveHash(string curve, string hash)
    {
        using var ecdsa = ECDsa.Create(ECCurve.CreateFromFriendlyName(curve));
        var key = SubmittedKey.FromPublicKey(ecdsa.ExportSubjectPublicKeyInfoPem());

        Assert.Equal(ecdsa.ExportSubjectPublicKeyInfo(), key.SpkiDer);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(key.SpkiDer)), key.Fingerprint);
        var der = ecdsa.SignData(Message, new HashAlgorithmName(hash), DSASignatureFormat.Rfc3279DerSequence);
        Assert.True(key.VerifyProofOfPossession(Message, der));
        var raw = ecdsa.SignData(Message, new HashAlgorithmName(hash), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        Assert.False(key.VerifyProofOfPossession(Message, raw));
        var otherHash = hash == "SHA256" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256;
        Assert.False(key.VerifyProofOfPossession(Message, ecdsa.SignData(Message, otherHash, DSASignatureFormat.Rfc3279DerSequence)));
        Assert.False(key.VerifyProofOfPossession("bob@example.com"u8, der));
    }

    [Fact]
    public void VerifyProofOfPossession_ManyCalls_UseTheKeyImportedOnceUntilDisposed()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsa = RSA.Create(2048);
        var keys = new[]
        {
            (Key: SubmittedKey.FromPublicKey(ecdsa.ExportSubjectPublicKeyInfoPem()),
                Proof: ecdsa.SignData(Message, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)),
            (Key: SubmittedKey.FromPublicKey(rsa.ExportSubjectPublicKeyInfoPem()),
                Proof: rsa.SignData(Message, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)),
        };

        foreach (var (key, proof) in keys)
        {
            Assert.True(key.VerifyProofOfPossession(Message, proof));
            Assert.True(key.VerifyProofOfPossession(Message, proof));
            key.Dispose();
            // The imported key object is the one verifying: once disposed, nothing re-imports it.
            Assert.Throws<ObjectDisposedException>(() => key.VerifyProofOfPossession(Message, proof));
        }
    }

    [Fact]
    public void FromPublicKey_Base64Der_Accepted()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var key = SubmittedKey.FromPublicKey(Convert.ToBase64String(ecdsa.ExportSubjectPublicKeyInfo()));

        Assert.Equal(SubmittedKeyType.EcP256, key.KeyType);
    }

    [Fact]
    public void FromPublicKey_Rsa2048_AcceptedAndPopIsPkcs1Sha256()
    {
        using var rsa = RSA.Create(2048);
        var key = SubmittedKey.FromPublicKey(rsa.ExportSubjectPublicKeyInfoPem());

        Assert.True(key.VerifyProofOfPossession(Message, rsa.SignData(Message, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)));
        Assert.False(key.VerifyProofOfPossession(Message, rsa.SignData(Message, HashAlgorithmName.SHA256, RSASignaturePadding.Pss)));
        Assert.False(key.VerifyProofOfPossession(Message, rsa.SignData(Message, HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1)));
    }

    [Theory]
    [InlineData(2048, 65537)]
    [InlineData(3072, 65537)]
    [InlineData(4096, 65537)]
    [InlineData(4096, 2147483647)]
    public void FromSpki_AllowedRsaShape_Accepted(int bits, long exponent)
    {
        Assert.Equal(SubmittedKeyType.Rsa, SubmittedKey.FromSpki(RsaSpki(bits, exponent)).KeyType);
    }

    [Theory]
    [InlineData(1024, 65537)]
    [InlineData(2047, 65537)]
    [InlineData(2049, 65537)]
    [InlineData(8192, 65537)]
    [InlineData(2048, 3)]
    [InlineData(2048, 65535)]
    [InlineData(2048, 2147483649)]
    public void FromSpki_RsaOutsidePolicy_Insecure(int bits, long exponent)
    {
        var error = Assert.Throws<CaException>(() => SubmittedKey.FromSpki(RsaSpki(bits, exponent)));

        Assert.Equal(CaErrorCode.InsecurePublicKey, error.Code);
    }

    [Fact]
    public void FromPublicKey_Ed25519_AcceptedAndPopIsPure()
    {
        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        var pair = generator.GenerateKeyPair();
        var publicKey = ((Ed25519PublicKeyParameters)pair.Public).GetEncoded();
        var spki = Convert.FromHexString("302a300506032b6570032100").Concat(publicKey).ToArray();
        var signer = new Ed25519Signer();
        signer.Init(true, pair.Private);
        signer.BlockUpdate(Message, 0, Message.Length);
        var signature = signer.GenerateSignature();

        var key = SubmittedKey.FromPublicKey(PemEncoding.WriteString("PUBLIC KEY", spki));

        Assert.Equal(SubmittedKeyType.Ed25519, key.KeyType);
        Assert.True(key.VerifyProofOfPossession(Message, signature));
        signature[0] ^= 1;
        Assert.False(key.VerifyProofOfPossession(Message, signature));
    }

    [Fact]
    public void FromSpki_Ed25519PointNotOnCurve_InvalidKey()
    {
        // y = 2^255 - 1 is not below the field prime: no such point (found by the ca-public-key fuzz target, where
        // BouncyCastle's ArgumentException escaped as a 500).
        var spki = Convert.FromHexString("302a300506032b6570032100").Concat(Enumerable.Repeat((byte)0xFF, 32)).ToArray();

        var error = Assert.Throws<CaException>(() => SubmittedKey.FromSpki(spki));

        Assert.Equal(CaErrorCode.InvalidPublicKey, error.Code);
    }

    [Fact]
    public void FromSpki_SmallOrOtherCurve_Insecure()
    {
        byte[] spki;
        try
        {
            using var p224 = ECDsa.Create(ECCurve.CreateFromFriendlyName("secp224r1"));
            spki = p224.ExportSubjectPublicKeyInfo();
        }
        catch (PlatformNotSupportedException)
        {
            using var k1 = ECDsa.Create(ECCurve.CreateFromFriendlyName("secp256k1"));
            spki = k1.ExportSubjectPublicKeyInfo();
        }

        Assert.Equal(CaErrorCode.InsecurePublicKey, Assert.Throws<CaException>(() => SubmittedKey.FromSpki(spki)).Code);
    }

    [Fact]
    public void FromSpki_ExplicitCurveParameters_Insecure()
    {
        using var named = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var explicitKey = ECDsa.Create(named.ExportExplicitParameters(false));
        var spki = explicitKey.ExportSubjectPublicKeyInfo();

        Assert.Equal(CaErrorCode.InsecurePublicKey, Assert.Throws<CaException>(() => SubmittedKey.FromSpki(spki)).Code);
    }

    [Theory]
    [InlineData("not a key")]
    [InlineData("AAAA")]
    [InlineData("")]
    [InlineData("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")]
    public void FromPublicKey_Garbage_Invalid(string content)
    {
        Assert.Equal(CaErrorCode.InvalidPublicKey, Assert.Throws<CaException>(() => SubmittedKey.FromPublicKey(content)).Code);
    }

    [Fact]
    public void FromPublicKey_WrongPemLabelOrTrailingBytes_Invalid()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var der = ecdsa.ExportSubjectPublicKeyInfo();

        Assert.Equal(CaErrorCode.InvalidPublicKey, Assert.Throws<CaException>(() =>
            SubmittedKey.FromPublicKey(PemEncoding.WriteString("CERTIFICATE", der))).Code);
        Assert.Equal(CaErrorCode.InvalidPublicKey, Assert.Throws<CaException>(() =>
            SubmittedKey.FromPublicKey(Convert.ToBase64String([.. der, 0]))).Code);
    }

    [Fact]
    public void FromPublicKey_PointNotOnCurve_Invalid()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var spki = ecdsa.ExportSubjectPublicKeyInfo();
        spki[^1] ^= 1;

        Assert.Equal(CaErrorCode.InvalidPublicKey, Assert.Throws<CaException>(() => SubmittedKey.FromSpki(spki)).Code);
    }

    [Fact]
    public void FromCsr_ValidPemAndNewLabelAndDer_KeyExtracted()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var request = new CertificateRequest("CN=ignored", ecdsa, HashAlgorithmName.SHA384);
        var pem = request.CreateSigningRequestPem();

        Assert.Equal(ecdsa.ExportSubjectPublicKeyInfo(), SubmittedKey.FromCsr(Encoding.ASCII.GetBytes(pem)).SpkiDer);
        var newLabel = pem.Replace("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST", StringComparison.Ordinal);
        Assert.Equal(SubmittedKeyType.EcP384, SubmittedKey.FromCsr(Encoding.ASCII.GetBytes(newLabel)).KeyType);
        Assert.Equal(SubmittedKeyType.EcP384, SubmittedKey.FromCsr(request.CreateSigningRequest()).KeyType);
    }

    [Fact]
    public void FromCsr_RsaSha512AndEd25519_Accepted()
    {
        using var rsa = RSA.Create(2048);
        var rsaCsr = new CertificateRequest("CN=x", rsa, HashAlgorithmName.SHA512, RSASignaturePadding.Pkcs1).CreateSigningRequest();
        Assert.Equal(SubmittedKeyType.Rsa, SubmittedKey.FromCsr(rsaCsr).KeyType);

        var generator = new Ed25519KeyPairGenerator();
        generator.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        var pair = generator.GenerateKeyPair();
        var spki = Convert.FromHexString("302a300506032b6570032100").Concat(((Ed25519PublicKeyParameters)pair.Public).GetEncoded()).ToArray();
        var info = CertificationRequestInfo(spki);
        var signer = new Ed25519Signer();
        signer.Init(true, pair.Private);
        signer.BlockUpdate(info, 0, info.Length);
        var csr = Csr(info, "1.3.101.112", signer.GenerateSignature(), nullParameters: false);
        Assert.Equal(SubmittedKeyType.Ed25519, SubmittedKey.FromCsr(csr).KeyType);
    }

    [Fact]
    public void FromCsr_BadSelfSignature_InvalidCsr()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var der = new CertificateRequest("CN=aaaa", ecdsa, HashAlgorithmName.SHA256).CreateSigningRequest();
        var at = der.AsSpan().IndexOf("aaaa"u8);
        der[at] = (byte)'b';

        Assert.Equal(CaErrorCode.InvalidCsr, Assert.Throws<CaException>(() => SubmittedKey.FromCsr(der)).Code);
    }

    [Fact]
    public void FromCsr_Sha1Signed_InvalidCsr()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var info = CertificationRequestInfo(ecdsa.ExportSubjectPublicKeyInfo());
        var signature = ecdsa.SignData(info, HashAlgorithmName.SHA1, DSASignatureFormat.Rfc3279DerSequence);
        var csr = Csr(info, "1.2.840.10045.4.1", signature, nullParameters: false);

        Assert.Equal(CaErrorCode.InvalidCsr, Assert.Throws<CaException>(() => SubmittedKey.FromCsr(csr)).Code);
    }

    [Fact]
    public void FromCsr_AlgorithmNotMatchingKey_InvalidCsr()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var info = CertificationRequestInfo(ecdsa.ExportSubjectPublicKeyInfo());
        var signature = ecdsa.SignData(info, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var csr = Csr(info, "1.2.840.113549.1.1.11", signature, nullParameters: true);

        Assert.Equal(CaErrorCode.InvalidCsr, Assert.Throws<CaException>(() => SubmittedKey.FromCsr(csr)).Code);
    }

    [Fact]
    public void FromCsr_WrongPemLabel_InvalidCsr()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var der = new CertificateRequest("CN=x", ecdsa, HashAlgorithmName.SHA256).CreateSigningRequest();

        var pem = Encoding.ASCII.GetBytes(PemEncoding.WriteString("CERTIFICATE", der));

        Assert.Equal(CaErrorCode.InvalidCsr, Assert.Throws<CaException>(() => SubmittedKey.FromCsr(pem)).Code);
    }

    [Fact]
    public void FromCsr_TrailingData_InvalidCsr()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=x", ecdsa, HashAlgorithmName.SHA256);
        byte[] der = [.. request.CreateSigningRequest(), 0x00];
        var pem = Encoding.ASCII.GetBytes(request.CreateSigningRequestPem() + "\ntrailing");

        Assert.Equal(CaErrorCode.InvalidCsr, Assert.Throws<CaException>(() => SubmittedKey.FromCsr(der)).Code);
        Assert.Equal(CaErrorCode.InvalidCsr, Assert.Throws<CaException>(() => SubmittedKey.FromCsr(pem)).Code);
    }

    [Fact]
    public void FromCsr_Garbage_InvalidCsr()
    {
        Assert.Equal(CaErrorCode.InvalidCsr, Assert.Throws<CaException>(() => SubmittedKey.FromCsr([1, 2, 3])).Code);
    }

    /// <summary>An RSA SubjectPublicKeyInfo with a modulus of exactly <paramref name="bits"/> bits (not a real
    /// key: the policy only looks at the shape, and generating 8192-bit keys takes far too long).</summary>
    private static byte[] RsaSpki(int bits, long exponent)
    {
        var modulus = RandomNumberGenerator.GetBytes((bits + 7) / 8);
        var topBits = bits % 8 == 0 ? 8 : bits % 8;
        modulus[0] = (byte)((modulus[0] & ((1 << topBits) - 1)) | (1 << (topBits - 1)));
        modulus[^1] |= 1;
        var rsaKey = new AsnWriter(AsnEncodingRules.DER);
        using (rsaKey.PushSequence())
        {
            rsaKey.WriteIntegerUnsigned(modulus);
            rsaKey.WriteInteger(exponent);
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.113549.1.1.1");
                writer.WriteNull();
            }

            writer.WriteBitString(rsaKey.Encode());
        }

        return writer.Encode();
    }

    private static byte[] CertificationRequestInfo(byte[] spki)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(0);
            writer.WriteEncodedValue(new X500DistinguishedName("CN=x").RawData);
            writer.WriteEncodedValue(spki);
            using (writer.PushSetOf(new Asn1Tag(TagClass.ContextSpecific, 0)))
            {
            }
        }

        return writer.Encode();
    }

    private static byte[] Csr(byte[] info, string algorithm, byte[] signature, bool nullParameters)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteEncodedValue(info);
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(algorithm);
                if (nullParameters)
                {
                    writer.WriteNull();
                }
            }

            writer.WriteBitString(signature);
        }

        return writer.Encode();
    }
}
