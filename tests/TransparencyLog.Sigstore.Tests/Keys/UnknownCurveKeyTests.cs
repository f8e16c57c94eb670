using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Rekor;
using TransparencyLog.Sigstore.Rekor.V2;
using TransparencyLog.Sigstore.TrustRoot;
using static TransparencyLog.Sigstore.Tests.Rekor.EntryFixtures;

namespace TransparencyLog.Sigstore.Tests.Keys;

/// <summary>
/// Found by fuzzing (scripts/fuzz.sh rekor-v2-entry, then artifact-key, log-public-key, rekor-v1-entry): an EC public
/// key naming a curve the platform does not know made the import throw PlatformNotSupportedException, which no parser
/// caught, so the log service answered 500. Each parser now refuses such a key as malformed input.
/// </summary>
public sealed class UnknownCurveKeyTests
{
    // id-ecPublicKey with namedCurve 1.2.840.10045.3.1.8: well-formed DER, but no such curve exists.
    private static byte[] UnknownCurveSpki()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var spki = key.ExportSubjectPublicKeyInfo();
        byte[] p256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        var at = spki.AsSpan().IndexOf(p256);
        Assert.True(at > 0);
        spki[at + p256.Length - 1] = 0x08;
        return spki;
    }

    private static string UnknownCurvePem() => PemEncoding.WriteString("PUBLIC KEY", UnknownCurveSpki()) + "\n";

    [Fact]
    public void SignatureKeyVerify_KeyOnUnknownCurve_VerifiesNothing()
    {
        // Found by CI's fuzzing of bundle-verify: a bundle's leaf certificate with a key on an unknown curve made the
        // offline verifier throw instead of refusing the signature.
        Assert.False(Sigstore.Verification.SignatureKey.Verify(UnknownCurveSpki(), "artifact"u8, new byte[64]));
    }

    [Fact]
    public void ProposedEntryParse_HashedRekordKeyOnUnknownCurve_IsRejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var entry = EcdsaHashedRekord(key, UnknownCurvePem());

        var e = Assert.Throws<EntryRejectedException>(() => ProposedEntryParser.Parse(Utf8(entry), EntryLimits.Default));

        Assert.Contains("invalid public key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RekorV2EntryParserParse_VerifierKeyOnUnknownCurve_IsRejected()
    {
        var digest = SHA256.HashData(Artifact);
        var request = new JsonObject
        {
            ["hashedRekordRequestV002"] = new JsonObject
            {
                ["digest"] = B64(digest),
                ["signature"] = new JsonObject
                {
                    ["content"] = B64(new byte[70]),
                    ["verifier"] = new JsonObject
                    {
                        ["publicKey"] = new JsonObject { ["rawBytes"] = B64(UnknownCurveSpki()) },
                        ["keyDetails"] = "PKIX_ECDSA_P256_SHA_256",
                    },
                },
            },
        };

        var e = Assert.Throws<EntryRejectedException>(() => RekorV2EntryParser.Parse(Utf8(request), EntryLimits.Default));

        Assert.Contains("invalid public key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LogPublicKeyFromSpki_UnknownCurve_ThrowsKeyLoadException()
    {
        Assert.Throws<KeyLoadException>(() => LogPublicKey.FromSpki(UnknownCurveSpki()));
        Assert.Throws<KeyLoadException>(() => LogPublicKey.FromPem(UnknownCurvePem()));
    }

    [Fact]
    public void TrustedRootKeyDetailsOf_UnknownCurve_IsUnspecified()
    {
        Assert.Equal("PUBLIC_KEY_DETAILS_UNSPECIFIED", TrustedRoot.KeyDetailsOf(UnknownCurveSpki()));
    }
}
