using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Rekor;
using static TransparencyLog.Sigstore.Tests.Rekor.EntryFixtures;

namespace TransparencyLog.Sigstore.Tests.Rekor;

/// <summary>
/// Submitters' keys are imported once and held for their next entries (<see cref="VerificationKeys"/>): a held key
/// must give exactly the verdicts a fresh import gives, for one request or many at once, only a key that passed
/// the checks may be held, and a key is held only from its second sighting (keyless signers' keys are seen once).
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

    [Fact]
    public void Parse_KeySeenOnce_IsNotHeldUntilItsSecondSighting()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var spki = key.ExportSubjectPublicKeyInfo();
        var pem = PublicKeyPem(key);

        Parse(Signed(key, pem, "first"u8.ToArray()));
        Assert.Null(VerificationKeys.Find(spki));

        Parse(Signed(key, pem, "second"u8.ToArray()));
        Assert.NotNull(VerificationKeys.Find(spki));
    }

    [Fact]
    public void Parse_ManyFreshKeysEachOnce_EveryVerdictIsRightAndNoneIsHeld()
    {
        // Keyless traffic: every submission its own key. Each is verified (forgeries refused) and none takes a slot.
        var keys = Enumerable.Range(0, 200).Select(_ => ECDsa.Create(ECCurve.NamedCurves.nistP256)).ToArray();
        try
        {
            for (var i = 0; i < keys.Length; i++)
            {
                var pem = PublicKeyPem(keys[i]);
                if (i % 2 == 0)
                {
                    Parse(Signed(keys[i], pem, Artifact));
                }
                else
                {
                    var forged = Signed(keys[(i + 1) % keys.Length], pem, Artifact);
                    Assert.Equal(
                        "signature does not verify with the supplied public key",
                        Assert.Throws<EntryRejectedException>(() => Parse(forged)).Message);
                }
            }

            Assert.All(keys, k => Assert.Null(VerificationKeys.Find(k.ExportSubjectPublicKeyInfo())));
        }
        finally
        {
            foreach (var k in keys)
            {
                k.Dispose();
            }
        }
    }

    [Fact]
    public void VerifyDigest_KeyNotHeldUsedTwice_SecondVerificationStillChecksTheSignature()
    {
        // A key seen once is disposed after its first verification; a second one (a DSSE verifier tried against
        // another signature) imports it again and gives the same verdicts.
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var digest = SHA256.HashData(Artifact);
        var parsed = ArtifactKey.Parse(B64(PublicKeyPem(key)), "publicKey");

        Assert.True(parsed.VerifyDigest(HashAlgorithmName.SHA256, digest, key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence)));
        Assert.False(parsed.VerifyDigest(HashAlgorithmName.SHA256, digest, other.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence)));
        Assert.True(parsed.VerifyDigest(HashAlgorithmName.SHA256, digest, key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence)));
        Assert.Null(VerificationKeys.Find(key.ExportSubjectPublicKeyInfo()));
    }

    [Fact]
    public void Observe_SecondSighting_IsSeenAndAReusedSlotForgetsTheOlderKey()
    {
        var sightings = new KeySightings(1);
        var first = "first key"u8.ToArray();
        var second = "second key"u8.ToArray();

        Assert.False(sightings.Observe(first));
        Assert.True(sightings.Observe(first));
        Assert.False(sightings.Observe(second));
        // One slot: the second key replaced the first, which counts as unseen again (bounded memory, not a verdict).
        Assert.False(sightings.Observe(first));
        Assert.True(sightings.Observe(first));
    }
}
