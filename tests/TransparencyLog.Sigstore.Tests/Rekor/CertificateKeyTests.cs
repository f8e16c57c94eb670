using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Rekor;
using static TransparencyLog.Sigstore.Tests.Rekor.EntryFixtures;

namespace TransparencyLog.Sigstore.Tests.Rekor;

/// <summary>
/// A certificate's ECDSA key is taken as OpenSSL decoded it with the certificate instead of being imported again
/// (<see cref="ArtifactKey"/>): every key the import refused must still be refused, with the message a PUBLIC KEY PEM of
/// the same SubjectPublicKeyInfo gets, and valid keys on the three curves must verify exactly their own signatures.
/// The damaged certificates are written field by field, with a signature that is only bytes: the log does not verify
/// a submitted certificate's chain, only the key inside it.
/// </summary>
public sealed class CertificateKeyTests
{
    private const string Invalid = "publicKey holds an invalid public key";
    private const string UnsupportedCurve = "publicKey uses an unsupported elliptic curve (expected P-256, P-384 or P-521)";

    public static TheoryData<string> Curves => ["P-256", "P-384", "P-521"];

    public static TheoryData<string, string, string> DamagedKeys
    {
        get
        {
            var cases = new TheoryData<string, string, string>();
            foreach (var curve in new[] { "P-256", "P-384", "P-521" })
            {
                foreach (var damage in new[] { "x bit flipped", "y bit flipped", "x unreduced", "zero point", "infinity", "compressed", "hybrid", "byte after point", "short coordinates" })
                {
                    cases.Add(curve, damage, Invalid);
                }

                cases.Add(curve, "explicit curve", UnsupportedCurve);
            }

            cases.Add("P-256", "unknown named curve", Invalid);
            cases.Add("P-256", "P-256 point named P-384", Invalid);
            cases.Add("secp256k1", "valid point, curve not allowed", UnsupportedCurve);
            cases.Add("brainpoolP256r1", "valid point, curve not allowed", UnsupportedCurve);
            return cases;
        }
    }

    [Theory]
    [MemberData(nameof(DamagedKeys))]
    public void Parse_CertificateWithDamagedEcKey_RefusedAsThePublicKeyPemOfTheSameSpki(string curve, string damage, string expected)
    {
        var spki = Damaged(curve, damage);

        var asPublicKey = Refusal(PemEncoding.WriteString("PUBLIC KEY", spki) + "\n");
        var asCertificate = Refusal(CertificatePem(spki));

        Assert.Equal(expected, asPublicKey);
        Assert.Equal(asPublicKey, asCertificate);
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void Parse_UnreducedCoordinate_RefusedWhileTheReducedPointIsAccepted(string curve)
    {
        // (x, y) is on the curve; (x + p, y) names the same point with a coordinate outside the field. OpenSSL's decode
        // must refuse it rather than reduce it: Go's x509 refuses it.
        var (x, y, prime) = SmallestPoint(curve);
        var length = CoordinateLength(curve);
        var reduced = Spki(CurveOid(curve), [0x04, .. Fixed(x, length), .. Fixed(y, length)]);
        var unreduced = Spki(CurveOid(curve), [0x04, .. Fixed(x + prime, length), .. Fixed(y, length)]);

        Assert.Null(Refusal(CertificatePem(reduced)));
        Assert.Null(Refusal(PemEncoding.WriteString("PUBLIC KEY", reduced) + "\n"));
        Assert.Equal(Invalid, Refusal(CertificatePem(unreduced)));
        Assert.Equal(Invalid, Refusal(PemEncoding.WriteString("PUBLIC KEY", unreduced) + "\n"));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void Parse_PaddedCoordinates_RefusedInACertificateAndAsAPublicKey(string curve)
    {
        // 0x04 ‖ 00 X ‖ 00 Y: a valid point, each coordinate one byte longer than the curve's. The BCL's import took it;
        // Go's x509 (hence Rekor) does not, nor does the log now, in either form.
        using var key = ECDsa.Create(Curve(curve));
        var q = key.ExportParameters(false).Q;
        var padded = Spki(CurveOid(curve), [0x04, 0x00, .. q.X!, 0x00, .. q.Y!]);

        Assert.Equal(Invalid, Refusal(CertificatePem(padded)));
        Assert.Equal(Invalid, Refusal(PemEncoding.WriteString("PUBLIC KEY", padded) + "\n"));
    }

    [Fact]
    public void Parse_PublicKeyPemWithBytesAfterTheSpki_IsRefused()
    {
        // The BCL's import read the SPKI and ignored what followed; Go's x509 refuses trailing data.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        byte[] trailing = [.. key.ExportSubjectPublicKeyInfo(), 0x00];

        Assert.Equal(Invalid, Refusal(PemEncoding.WriteString("PUBLIC KEY", trailing) + "\n"));
    }

    [Fact]
    public void Parse_CertificateWithAnElementAfterTheKey_RefusedAsAnInvalidCertificate()
    {
        // A SubjectPublicKeyInfo with a third element never reaches the key check: the certificate does not parse.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var point = key.ExportParameters(false).Q;
        var spki = Spki(Oids.P256, [0x04, .. point.X!, .. point.Y!], extraElement: true);

        Assert.Equal("publicKey holds an invalid certificate", Refusal(CertificatePem(spki)));
        Assert.Equal(Invalid, Refusal(PemEncoding.WriteString("PUBLIC KEY", spki) + "\n"));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void VerifyDigestAndMessage_ValidCertificate_VerifiesItsKeysSignaturesOnly(string curve)
    {
        using var key = ECDsa.Create(Curve(curve));
        using var other = ECDsa.Create(Curve(curve));
        var pem = CertificatePem(key.ExportSubjectPublicKeyInfo());
        var hash = curve switch
        {
            "P-384" => HashAlgorithmName.SHA384,
            "P-521" => HashAlgorithmName.SHA512,
            _ => HashAlgorithmName.SHA256,
        };
        var digest = SHA256.HashData(Artifact);
        var message = Pae("application/vnd.in-toto+json", Artifact);

        // Parsed anew for each verification, as each submission is: first with the certificate's own key, from the
        // key's second sighting on with the key held for it.
        ArtifactKey Parsed() => ArtifactKey.Parse(B64(pem), "publicKey");
        Assert.True(Parsed().VerifyDigest(HashAlgorithmName.SHA256, digest, key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence)));
        Assert.False(Parsed().VerifyDigest(HashAlgorithmName.SHA256, digest, other.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence)));
        Assert.False(Parsed().VerifyDigest(HashAlgorithmName.SHA256, SHA256.HashData("another artifact"u8), key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence)));
        // DSSE: the curve's own hash, read from the key the certificate gave.
        Assert.True(Parsed().VerifyMessage(message, key.SignData(message, hash, DSASignatureFormat.Rfc3279DerSequence)));
        Assert.False(Parsed().VerifyMessage(message, other.SignData(message, hash, DSASignatureFormat.Rfc3279DerSequence)));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo())), Parsed().Fingerprint);
    }

    [Fact]
    public void VerifyDigest_CertificateKeyUsedTwiceAndHeld_SameVerdicts()
    {
        // The certificate's key verifies once and is disposed; a second verification of the same submission (a DSSE
        // verifier tried against another signature) imports from the SPKI; from its second sighting the key is held.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var spki = key.ExportSubjectPublicKeyInfo();
        var pem = CertificatePem(spki);
        var digest = SHA256.HashData(Artifact);
        var good = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
        var forged = other.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);

        var first = ArtifactKey.Parse(B64(pem), "publicKey");
        Assert.True(first.VerifyDigest(HashAlgorithmName.SHA256, digest, good));
        Assert.False(first.VerifyDigest(HashAlgorithmName.SHA256, digest, forged));
        Assert.True(first.VerifyDigest(HashAlgorithmName.SHA256, digest, good));
        Assert.Null(VerificationKeys.Find(spki));

        var second = ArtifactKey.Parse(B64(pem), "publicKey");
        Assert.NotNull(VerificationKeys.Find(spki));
        Assert.False(second.VerifyDigest(HashAlgorithmName.SHA256, digest, forged));
        Assert.True(second.VerifyDigest(HashAlgorithmName.SHA256, digest, good));
    }

    [Fact]
    public void Parse_HashedRekordWithCertificate_AcceptsItsKeysSignatureAndRefusesAnotherKeys()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = CertificatePem(key.ExportSubjectPublicKeyInfo());

        ProposedEntryParser.Parse(Utf8(EcdsaHashedRekord(key, pem)), EntryLimits.Default);
        var e = Assert.Throws<EntryRejectedException>(() => ProposedEntryParser.Parse(Utf8(EcdsaHashedRekord(other, pem)), EntryLimits.Default));

        Assert.Equal("signature does not verify with the supplied public key", e.Message);
    }

    [Fact]
    public void Parse_RsaCertificate_KeepsTheImportAndItsKeySizeCheck()
    {
        using var key = RSA.Create(2048);
        using var weak = RSA.Create(1024);
        var digest = SHA256.HashData(Artifact);

        var parsed = ArtifactKey.Parse(B64(CertificatePem(key.ExportSubjectPublicKeyInfo())), "publicKey");

        Assert.True(parsed.VerifyDigest(HashAlgorithmName.SHA256, digest, key.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)));
        Assert.Equal("publicKey holds an RSA key outside 2048-8192 bits", Refusal(CertificatePem(weak.ExportSubjectPublicKeyInfo())));
    }

    /// <summary>The message Parse refuses <paramref name="pem"/> with; null when it accepts it.</summary>
    private static string? Refusal(string pem)
    {
        try
        {
            ArtifactKey.Parse(B64(pem), "publicKey");
            return null;
        }
        catch (EntryRejectedException e)
        {
            return e.Message;
        }
    }

    internal static byte[] Damaged(string curve, string damage)
    {
        if (curve is "secp256k1" or "brainpoolP256r1")
        {
            using var otherCurve = ECDsa.Create(curve == "secp256k1" ? ECCurve.CreateFromValue("1.3.132.0.10") : ECCurve.NamedCurves.brainpoolP256r1);
            return otherCurve.ExportSubjectPublicKeyInfo();
        }

        using var key = ECDsa.Create(Curve(curve));
        var q = key.ExportParameters(false).Q;
        var x = q.X!;
        var y = q.Y!;
        var oid = CurveOid(curve);
        var length = CoordinateLength(curve);
        byte[] Flipped(byte[] coordinate)
        {
            var copy = (byte[])coordinate.Clone();
            copy[length / 2] ^= 0x01;
            return copy;
        }

        switch (damage)
        {
            case "x bit flipped":
                return Spki(oid, [0x04, .. Flipped(x), .. y]);
            case "y bit flipped":
                return Spki(oid, [0x04, .. x, .. Flipped(y)]);
            case "x unreduced":
                var (px, py, prime) = SmallestPoint(curve);
                return Spki(oid, [0x04, .. Fixed(px + prime, length), .. Fixed(py, length)]);
            case "zero point":
                return Spki(oid, [0x04, .. new byte[2 * length]]);
            case "infinity":
                // SEC 1 §2.3.3: the point at infinity is the single octet 00. OpenSSL's decoder takes it.
                return Spki(oid, [0x00]);
            case "compressed":
                return Spki(oid, [(byte)(0x02 | (y[^1] & 1)), .. x]);
            case "hybrid":
                return Spki(oid, [(byte)(0x06 | (y[^1] & 1)), .. x, .. y]);
            case "byte after point":
                return Spki(oid, [0x04, .. x, .. y, 0x00]);
            case "short coordinates":
                return Spki(oid, [0x04, .. x[1..], .. y[1..]]);
            case "explicit curve":
                using (var explicitKey = ECDsa.Create(key.ExportExplicitParameters(false)))
                {
                    return explicitKey.ExportSubjectPublicKeyInfo();
                }

            case "unknown named curve":
                // 1.2.840.10045.3.1.8: P-256's arc, but no such curve exists.
                return Spki("1.2.840.10045.3.1.8", [0x04, .. x, .. y]);
            case "P-256 point named P-384":
                return Spki(Oids.P384, [0x04, .. x, .. y]);
            default:
                throw new ArgumentException($"unknown damage {damage}", nameof(damage));
        }
    }

    /// <summary>The point with the smallest x on the curve (x = 0 on P-256), and the curve's prime.</summary>
    internal static (BigInteger X, BigInteger Y, BigInteger Prime) SmallestPoint(string curve)
    {
        using var key = ECDsa.Create(Curve(curve));
        var parameters = key.ExportExplicitParameters(false).Curve;
        var p = Unsigned(parameters.Prime!);
        var a = Unsigned(parameters.A!);
        var b = Unsigned(parameters.B!);
        for (BigInteger x = 0; ; x++)
        {
            var rhs = ((x * x * x) + (a * x) + b) % p;
            // p ≡ 3 (mod 4) for all three primes, so a square root, where one exists, is rhs^((p+1)/4).
            var y = BigInteger.ModPow(rhs, (p + 1) / 4, p);
            if (y * y % p == rhs)
            {
                return (x, y, p);
            }
        }
    }

    private static BigInteger Unsigned(byte[] bigEndian) => new(bigEndian, isUnsigned: true, isBigEndian: true);

    internal static byte[] Fixed(BigInteger value, int length)
    {
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        Assert.True(bytes.Length <= length);
        return [.. new byte[length - bytes.Length], .. bytes];
    }

    internal static ECCurve Curve(string name) => name switch
    {
        "P-384" => ECCurve.NamedCurves.nistP384,
        "P-521" => ECCurve.NamedCurves.nistP521,
        _ => ECCurve.NamedCurves.nistP256,
    };

    internal static string CurveOid(string name) => name switch
    {
        "P-384" => Oids.P384,
        "P-521" => Oids.P521,
        _ => Oids.P256,
    };

    internal static int CoordinateLength(string name) => name switch
    {
        "P-384" => 48,
        "P-521" => 66,
        _ => 32,
    };

    internal static byte[] Spki(string curveOid, byte[] point, bool extraElement = false)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Oids.EcPublicKey);
                writer.WriteObjectIdentifier(curveOid);
            }

            writer.WriteBitString(point);
            if (extraElement)
            {
                writer.WriteNull();
            }
        }

        return writer.Encode();
    }

    /// <summary>
    /// An X.509 v3 leaf (RFC 5280 §4.1) around <paramref name="spki"/> as it is, with an email SAN and a signature of
    /// zero bytes: OpenSSL and the BCL parse it, and nothing here checks who issued it.
    /// </summary>
    private static string CertificatePem(byte[] spki) => PemEncoding.WriteString("CERTIFICATE", CertificateDer(spki)) + "\n";

    /// <summary>The DER of <see cref="CertificatePem"/>'s certificate, as Rekor v2's <c>x509Certificate.rawBytes</c> holds it.</summary>
    internal static byte[] CertificateDer(byte[] spki)
    {
        var ecdsaWithSha256 = "1.2.840.10045.4.3.2";
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
                {
                    writer.WriteInteger(2);
                }

                writer.WriteInteger(new BigInteger(RandomNumberGenerator.GetBytes(16), isUnsigned: true));
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(ecdsaWithSha256);
                }

                writer.WriteEncodedValue(new X500DistinguishedName("CN=test-issuer").RawData);
                using (writer.PushSequence())
                {
                    writer.WriteUtcTime(DateTimeOffset.UtcNow.AddMinutes(-1));
                    writer.WriteUtcTime(DateTimeOffset.UtcNow.AddMinutes(10));
                }

                writer.WriteEncodedValue(new X500DistinguishedName("").RawData);
                writer.WriteEncodedValue(spki);
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 3)))
                using (writer.PushSequence())
                {
                    var san = new SubjectAlternativeNameBuilder();
                    san.AddEmailAddress("alice@example.com");
                    var extension = san.Build(critical: true);
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(Oids.SubjectAltName);
                        writer.WriteBoolean(true);
                        writer.WriteOctetString(extension.RawData);
                    }
                }
            }

            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(ecdsaWithSha256);
            }

            writer.WriteBitString(new byte[72]);
        }

        return writer.Encode();
    }
}
