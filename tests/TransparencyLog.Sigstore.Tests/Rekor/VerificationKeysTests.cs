using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Rekor;
using static TransparencyLog.Sigstore.Tests.Rekor.EntryFixtures;

namespace TransparencyLog.Sigstore.Tests.Rekor;

/// <summary>
/// Submitters' keys are imported once and held for their next entries (<see cref="VerificationKeys"/>): a held key
/// must give exactly the verdicts a fresh import gives, for one request or many at once, and only a key that passed
/// the checks may be held.
/// </summary>
public sealed class VerificationKeysTests
{
    private static ProposedEntry Parse(JsonNode entry) => ProposedEntryParser.Parse(Utf8(entry), EntryLimits.Default);

    private static JsonObject Signed(ECDsa signer, string pem, byte[] artifact)
    {
        var digest = SHA256.HashData(artifact);
        var signature = signer.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
        return HashedRekord("sha256", Convert.ToHexStringLower(digest), B64(signature), B64(pem));
    }

    [Fact]
    public void Parse_SameKeyAgain_VerifiesWithTheHeldKeyAndStillRejectsForgeries()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = PublicKeyPem(key);

        Parse(Signed(key, pem, "first"u8.ToArray()));

        // Held now (unless other tests' keys pushed it out, which only means a fresh import): a second artifact by the same key is accepted, another key's signature under this key is not, and
        // neither is this key's signature over a different digest.
        var second = Parse(Signed(key, pem, "second"u8.ToArray()));
        Assert.Equal(
            "signature does not verify with the supplied public key",
            Assert.Throws<EntryRejectedException>(() => Parse(Signed(other, pem, "third"u8.ToArray()))).Message);
        var moved = Signed(key, pem, "fourth"u8.ToArray());
        moved["spec"]!["data"]!["hash"]!["value"] = Convert.ToHexStringLower(SHA256.HashData("fifth"u8));
        Assert.Equal(
            "signature does not verify with the supplied public key",
            Assert.Throws<EntryRejectedException>(() => Parse(moved)).Message);
        Assert.Equal(Parse(Signed(key, pem, "first"u8.ToArray())).IndexKeys.PublicKeyFingerprints, second.IndexKeys.PublicKeyFingerprints);
    }

    [Fact]
    public void Parse_OneKeyFromManyThreadsAtOnce_EveryVerdictIsRight()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = PublicKeyPem(key);
        var good = Utf8(Signed(key, pem, "good"u8.ToArray()));
        var forged = Utf8(Signed(other, pem, "forged"u8.ToArray()));

        var verdicts = new bool[400];
        Parallel.For(0, verdicts.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            try
            {
                ProposedEntryParser.Parse(i % 2 == 0 ? good : forged, EntryLimits.Default);
                verdicts[i] = true;
            }
            catch (EntryRejectedException)
            {
                verdicts[i] = false;
            }
        });

        for (var i = 0; i < verdicts.Length; i++)
        {
            Assert.Equal(i % 2 == 0, verdicts[i]);
        }
    }

    [Fact]
    public void Parse_RsaKeyBelowTheMinimum_IsNeverHeldAndIsRejectedEveryTime()
    {
        using var key = RSA.Create(1024);
        var digest = SHA256.HashData(Artifact);
        var signature = key.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var entry = HashedRekord("sha256", Convert.ToHexStringLower(digest), B64(signature), B64(PublicKeyPem(key)));

        for (var attempt = 0; attempt < 2; attempt++)
        {
            var e = Assert.Throws<EntryRejectedException>(() => Parse(entry));
            Assert.Contains("RSA key outside", e.Message, StringComparison.Ordinal);
        }

        Assert.Null(VerificationKeys.Find(key.ExportSubjectPublicKeyInfo()));
    }

    [Fact]
    public void Parse_EcKeyWithExplicitCurveParameters_IsRejected()
    {
        // The same P-256 point, but the curve spelled out instead of named: Rekor (Go's x509) refuses such keys too.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var explicitKey = ECDsa.Create(key.ExportExplicitParameters(false));
        var pem = PublicKeyPem(explicitKey);

        var e = Assert.Throws<EntryRejectedException>(() => Parse(Signed(key, pem, Artifact)));

        Assert.Contains("unsupported elliptic curve", e.Message, StringComparison.Ordinal);
    }
}
