using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Rekor;
using TransparencyLog.Sigstore.Rekor.V2;
using static TransparencyLog.Sigstore.Tests.Rekor.CertificateKeyTests;
using static TransparencyLog.Sigstore.Tests.Rekor.EntryFixtures;

namespace TransparencyLog.Sigstore.Tests.Rekor;

/// <summary>
/// A Rekor v2 verifier's key is decoded once (a certificate's ECDSA key as OpenSSL decoded it with the certificate, a
/// bare one by one import) after its SubjectPublicKeyInfo is checked to be in Go's x509's one EC form: every damaged key
/// must be refused with the same message whether it comes bare or in a certificate, in a hashedrekord or a DSSE request;
/// valid keys on the three curves must verify exactly their own signatures, and keyDetails must still describe the key.
/// </summary>
public sealed class RekorV2VerifierKeyTests
{
    private const string NoMatch = "the signature does not verify over the digest with the supplied verifier";
    private const string Invalid = "invalid";
    private const string Mismatch = "mismatch";
    private const string DsseNoMatch = "a DSSE signature does not verify with any of the supplied verifiers";

    public static TheoryData<string> Curves => ["P-256", "P-384", "P-521"];

    public static TheoryData<string, bool> CurvesAndForms
    {
        get
        {
            var cases = new TheoryData<string, bool>();
            foreach (var curve in new[] { "P-256", "P-384", "P-521" })
            {
                cases.Add(curve, false);
                cases.Add(curve, true);
            }

            return cases;
        }
    }

    /// <summary>The damaged SubjectPublicKeyInfos of <see cref="CertificateKeyTests"/>, with the refusal v2 gives each.</summary>
    public static TheoryData<string, string, string> DamagedKeys
    {
        get
        {
            var cases = new TheoryData<string, string, string>();
            foreach (var curve in new[] { "P-256", "P-384", "P-521" })
            {
                foreach (var damage in new[] { "x bit flipped", "y bit flipped", "x unreduced", "zero point", "infinity", "compressed", "hybrid", "byte after point", "short coordinates", "explicit curve" })
                {
                    cases.Add(curve, damage, Invalid);
                }
            }

            cases.Add("P-256", "unknown named curve", Invalid);
            cases.Add("P-256", "P-256 point named P-384", Invalid);
            cases.Add("secp256k1", "valid point, curve not allowed", Mismatch);
            cases.Add("brainpoolP256r1", "valid point, curve not allowed", Mismatch);
            return cases;
        }
    }

    [Theory]
    [MemberData(nameof(DamagedKeys))]
    public void Parse_DamagedEcKey_SameRefusalBareOrInACertificateInBothKinds(string curve, string damage, string expected)
    {
        var spki = Damaged(curve, damage);
        // The P-256 point relabelled P-384 is sent as what it claims to be; the other curves' keys as P-256 keys.
        var details = Details(damage == "P-256 point named P-384" ? "P-384" : curve);

        var refusals = new[]
        {
            HashedRekordRefusal(PublicKeyVerifier(spki, details), details),
            HashedRekordRefusal(CertificateVerifier(CertificateDer(spki), details), details),
            DsseRefusal(PublicKeyVerifier(spki, details)),
            DsseRefusal(CertificateVerifier(CertificateDer(spki), details)),
        };

        Assert.Equal(Expected("hashedRekordRequestV002.signature.verifier", expected, details), refusals[0]);
        Assert.Equal(refusals[0], refusals[1]);
        Assert.Equal(Expected("dsseRequestV002.verifiers[]", expected, details), refusals[2]);
        Assert.Equal(refusals[2], refusals[3]);
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void Parse_PaddedCoordinatesSignedByTheKey_RefusedBareAndInACertificate(string curve)
    {
        // 0x04 ‖ 00 X ‖ 00 Y: the key's own point, each coordinate one byte longer than the curve's. The BCL's import
        // took it; Go's x509 (hence rekor-tiles) does not, nor does the log now.
        using var key = ECDsa.Create(Curve(curve));
        var q = key.ExportParameters(false).Q;
        var padded = Spki(CurveOid(curve), [0x04, 0x00, .. q.X!, 0x00, .. q.Y!]);
        var details = Details(curve);

        Assert.Equal("hashedRekordRequestV002.signature.verifier holds an invalid public key", HashedRekordRefusal(PublicKeyVerifier(padded, details), details, key));
        Assert.Equal("hashedRekordRequestV002.signature.verifier holds an invalid public key", HashedRekordRefusal(CertificateVerifier(CertificateDer(padded), details), details, key));
        Assert.Equal("dsseRequestV002.verifiers[] holds an invalid public key", DsseRefusal(PublicKeyVerifier(padded, details), key));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void Parse_UnreducedCoordinate_RefusedWhileTheReducedPointIsTaken(string curve)
    {
        // (x, y) is on the curve, (x + p, y) the same point with a coordinate outside the field: no private key is known,
        // so the reduced key is taken and then fails the signature, the unreduced one never gets that far.
        var (x, y, prime) = SmallestPoint(curve);
        var length = CoordinateLength(curve);
        var reduced = Spki(CurveOid(curve), [0x04, .. Fixed(x, length), .. Fixed(y, length)]);
        var unreduced = Spki(CurveOid(curve), [0x04, .. Fixed(x + prime, length), .. Fixed(y, length)]);
        var details = Details(curve);

        Assert.Equal(NoMatch, HashedRekordRefusal(PublicKeyVerifier(reduced, details), details));
        Assert.Equal(NoMatch, HashedRekordRefusal(CertificateVerifier(CertificateDer(reduced), details), details));
        Assert.Equal("hashedRekordRequestV002.signature.verifier holds an invalid public key", HashedRekordRefusal(PublicKeyVerifier(unreduced, details), details));
        Assert.Equal("hashedRekordRequestV002.signature.verifier holds an invalid public key", HashedRekordRefusal(CertificateVerifier(CertificateDer(unreduced), details), details));
    }

    [Fact]
    public void Parse_CertificateWithAnElementAfterTheKey_RefusedAsNotACertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var q = key.ExportParameters(false).Q;
        var spki = Spki(Oids.P256, [0x04, .. q.X!, .. q.Y!], extraElement: true);

        Assert.Equal(
            "hashedRekordRequestV002.signature.verifier.x509Certificate.rawBytes is not a valid X.509 certificate",
            HashedRekordRefusal(CertificateVerifier(CertificateDer(spki), "PKIX_ECDSA_P256_SHA_256"), "PKIX_ECDSA_P256_SHA_256", key));
    }

    [Theory]
    [MemberData(nameof(CurvesAndForms))]
    public void Parse_ValidEcKey_AcceptsItsOwnSignaturesAndRefusesAnotherKeys(string curve, bool inCertificate)
    {
        using var key = ECDsa.Create(Curve(curve));
        using var other = ECDsa.Create(Curve(curve));
        var spki = key.ExportSubjectPublicKeyInfo();
        var details = Details(curve);
        var verifier = inCertificate ? CertificateVerifier(CertificateDer(spki), details) : PublicKeyVerifier(spki, details);

        var hashed = RekorV2EntryParser.Parse(Utf8(HashedRekord(verifier, details, key)), EntryLimits.Default);
        var dsse = RekorV2EntryParser.Parse(Utf8(Dsse(verifier, key)), EntryLimits.Default);

        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(spki));
        string[] identities = inCertificate ? ["alice@example.com"] : [];
        Assert.Equal([fingerprint], hashed.IndexKeys.PublicKeyFingerprints);
        Assert.Equal(identities, hashed.IndexKeys.Identities);
        Assert.Equal([fingerprint], dsse.IndexKeys.PublicKeyFingerprints);
        Assert.Equal(identities, dsse.IndexKeys.Identities);
        Assert.Equal(NoMatch, HashedRekordRefusal(verifier, details, other));
        Assert.Equal(DsseNoMatch, DsseRefusal(verifier, other));
    }

    [Fact]
    public void Parse_DsseWithTwoVerifiers_EachSignatureFindsItsOwnKey()
    {
        // The first verifier is tried against the second key's signature and fails; its key stays usable for its own.
        using var first = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var second = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var firstVerifier = CertificateVerifier(CertificateDer(first.ExportSubjectPublicKeyInfo()), "PKIX_ECDSA_P256_SHA_256");
        var secondVerifier = PublicKeyVerifier(second.ExportSubjectPublicKeyInfo(), "PKIX_ECDSA_P384_SHA_384");
        var pae = Pae("application/vnd.in-toto+json", Artifact);

        var entry = RekorV2EntryParser.Parse(
            Utf8(Dsse(
                [second.SignData(pae, HashAlgorithmName.SHA384, DSASignatureFormat.Rfc3279DerSequence), first.SignData(pae, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)],
                firstVerifier,
                secondVerifier)),
            EntryLimits.Default);

        Assert.Equal(2, entry.IndexKeys.PublicKeyFingerprints.Count);
        Assert.Equal(["alice@example.com"], entry.IndexKeys.Identities);
    }

    [Theory]
    [InlineData("P-384", false, "PKIX_ECDSA_P256_SHA_256")]
    [InlineData("P-384", true, "PKIX_ECDSA_P256_SHA_256")]
    [InlineData("P-256", false, "PKIX_ECDSA_P521_SHA_512")]
    [InlineData("P-256", true, "PKIX_ECDSA_P384_SHA_384")]
    [InlineData("P-256", false, "PKIX_RSA_PKCS1V15_2048_SHA256")]
    [InlineData("P-256", true, "PKIX_ED25519_PH")]
    [InlineData("RSA-2048", false, "PKIX_RSA_PKCS1V15_3072_SHA256")]
    [InlineData("RSA-2048", true, "PKIX_ECDSA_P256_SHA_256")]
    [InlineData("Ed25519", false, "PKIX_ECDSA_P256_SHA_256")]
    public void Parse_KeyDetailsNotDescribingTheKey_Refused(string keyType, bool inCertificate, string details)
    {
        byte[] spki;
        if (keyType == "RSA-2048")
        {
            using var rsa = RSA.Create(2048);
            spki = rsa.ExportSubjectPublicKeyInfo();
        }
        else if (keyType == "Ed25519")
        {
            spki = Der(Ed25519Key().Pem);
        }
        else
        {
            using var ecdsa = ECDsa.Create(Curve(keyType));
            spki = ecdsa.ExportSubjectPublicKeyInfo();
        }

        var verifier = inCertificate ? CertificateVerifier(CertificateDer(spki), details) : PublicKeyVerifier(spki, details);

        Assert.Equal($"hashedRekordRequestV002.signature.verifier.keyDetails {details} does not match the key", HashedRekordRefusal(verifier, details));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Parse_Rsa2048KeyAndEd25519phKey_VerifyTheirOwnSignatures(bool inCertificate)
    {
        using var rsa = RSA.Create(2048);
        var rsaSpki = rsa.ExportSubjectPublicKeyInfo();
        var digest = SHA256.HashData(Artifact);
        var rsaVerifier = inCertificate
            ? CertificateVerifier(CertificateDer(rsaSpki), "PKIX_RSA_PKCS1V15_2048_SHA256")
            : PublicKeyVerifier(rsaSpki, "PKIX_RSA_PKCS1V15_2048_SHA256");

        RekorV2EntryParser.Parse(Utf8(HashedRekord(digest, rsa.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), rsaVerifier)), EntryLimits.Default);
        // PSS is not PKIX_RSA_PKCS1V15: refused as a signature that does not verify.
        var pss = Assert.Throws<EntryRejectedException>(() => RekorV2EntryParser.Parse(
            Utf8(HashedRekord(digest, rsa.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pss), rsaVerifier)), EntryLimits.Default));
        Assert.Equal(NoMatch, pss.Message);

        var (seed, pem) = Ed25519Key();
        var edSpki = Der(pem);
        var sha512 = SHA512.HashData(Artifact);
        var edVerifier = inCertificate
            ? CertificateVerifier(CertificateDer(edSpki), "PKIX_ED25519_PH")
            : PublicKeyVerifier(edSpki, "PKIX_ED25519_PH");
        RekorV2EntryParser.Parse(Utf8(HashedRekord(sha512, Ed25519phSign(seed, sha512), edVerifier)), EntryLimits.Default);
        var forged = Assert.Throws<EntryRejectedException>(() => RekorV2EntryParser.Parse(
            Utf8(HashedRekord(sha512, Ed25519phSign(Ed25519Key().Seed, sha512), edVerifier)), EntryLimits.Default));
        Assert.Equal(NoMatch, forged.Message);
    }

    private static string Expected(string path, string refusal, string details) => refusal == Mismatch
        ? $"{path}.keyDetails {details} does not match the key"
        : $"{path} holds an invalid public key";

    /// <summary>The DER inside a one-block PEM.</summary>
    private static byte[] Der(string pem) => Convert.FromBase64String(pem[PemEncoding.Find(pem).Base64Data]);

    private static string Details(string curve) => curve switch
    {
        "P-384" => "PKIX_ECDSA_P384_SHA_384",
        "P-521" => "PKIX_ECDSA_P521_SHA_512",
        _ => "PKIX_ECDSA_P256_SHA_256",
    };

    private static HashAlgorithmName Hash(string details) => details switch
    {
        "PKIX_ECDSA_P384_SHA_384" => HashAlgorithmName.SHA384,
        "PKIX_ECDSA_P521_SHA_512" => HashAlgorithmName.SHA512,
        _ => HashAlgorithmName.SHA256,
    };

    private static JsonObject PublicKeyVerifier(byte[] spki, string details) => new()
    {
        ["publicKey"] = new JsonObject { ["rawBytes"] = B64(spki) },
        ["keyDetails"] = details,
    };

    private static JsonObject CertificateVerifier(byte[] der, string details) => new()
    {
        ["x509Certificate"] = new JsonObject { ["rawBytes"] = B64(der) },
        ["keyDetails"] = details,
    };

    private static JsonObject HashedRekord(byte[] digest, byte[] signature, JsonObject verifier) => new()
    {
        ["hashedRekordRequestV002"] = new JsonObject
        {
            ["digest"] = B64(digest),
            ["signature"] = new JsonObject { ["content"] = B64(signature), ["verifier"] = verifier.DeepClone() },
        },
    };

    /// <summary>A hashedrekord with the digest keyDetails names, signed by <paramref name="signer"/> (or 70 zero bytes).</summary>
    private static JsonObject HashedRekord(JsonObject verifier, string details, ECDsa? signer = null)
    {
        var digest = Hash(details) == HashAlgorithmName.SHA384 ? SHA384.HashData(Artifact)
            : Hash(details) == HashAlgorithmName.SHA512 ? SHA512.HashData(Artifact)
            : SHA256.HashData(Artifact);
        return HashedRekord(digest, signer?.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence) ?? new byte[70], verifier);
    }

    private static JsonObject Dsse(IEnumerable<byte[]> signatures, params JsonObject[] verifiers) => new()
    {
        ["dsseRequestV002"] = new JsonObject
        {
            ["envelope"] = new JsonObject
            {
                ["payload"] = B64(Artifact),
                ["payloadType"] = "application/vnd.in-toto+json",
                ["signatures"] = new JsonArray([.. signatures.Select(static s => (JsonNode)new JsonObject { ["sig"] = B64(s), ["keyid"] = "" })]),
            },
            ["verifiers"] = new JsonArray([.. verifiers.Select(static v => (JsonNode)v.DeepClone())]),
        },
    };

    /// <summary>A DSSE request over <see cref="EntryFixtures.Artifact"/> signed by <paramref name="signer"/> with the hash keyDetails names.</summary>
    private static JsonObject Dsse(JsonObject verifier, ECDsa? signer = null)
    {
        var pae = Pae("application/vnd.in-toto+json", Artifact);
        var hash = Hash(verifier["keyDetails"]!.GetValue<string>());
        return Dsse([signer?.SignData(pae, hash, DSASignatureFormat.Rfc3279DerSequence) ?? new byte[70]], verifier);
    }

    private static string? HashedRekordRefusal(JsonObject verifier, string details, ECDsa? signer = null) =>
        Refusal(HashedRekord(verifier, details, signer));

    private static string? DsseRefusal(JsonObject verifier, ECDsa? signer = null) => Refusal(Dsse(verifier, signer));

    /// <summary>The message the v2 parser refuses <paramref name="request"/> with; null when it accepts it.</summary>
    private static string? Refusal(JsonObject request)
    {
        try
        {
            RekorV2EntryParser.Parse(Utf8(request), EntryLimits.Default);
            return null;
        }
        catch (EntryRejectedException e)
        {
            return e.Message;
        }
    }
}
