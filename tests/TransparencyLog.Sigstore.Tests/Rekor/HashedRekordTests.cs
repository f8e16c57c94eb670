using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Json;
using TransparencyLog.Sigstore.Rekor;
using static TransparencyLog.Sigstore.Tests.Rekor.EntryFixtures;

namespace TransparencyLog.Sigstore.Tests.Rekor;

public sealed class HashedRekordTests
{
    private static ProposedEntry Parse(JsonNode entry, EntryLimits? limits = null) =>
        ProposedEntryParser.Parse(Utf8(entry), limits ?? EntryLimits.Default);

    private static string Reject(JsonNode entry, EntryLimits? limits = null) =>
        Assert.Throws<EntryRejectedException>(() => Parse(entry, limits)).Message;

    [Fact]
    public void Parse_EcdsaCertificate_IsAcceptedWithCanonicalBodyAndIndexKeys()
    {
        var (key, pem) = EcdsaCertificate();
        using (key)
        {
            var entry = EcdsaHashedRekord(key, pem);
            // Clients may send extra fields; they must not reach the stored body.
            entry["spec"]!["data"]!["content"] = "ignored";

            var proposed = Parse(entry);

            var hex = Convert.ToHexStringLower(SHA256.HashData(Artifact));
            var signature = entry["spec"]!["signature"]!["content"]!.GetValue<string>();
            var expected = "{\"apiVersion\":\"0.0.1\",\"kind\":\"hashedrekord\",\"spec\":{\"data\":{\"hash\":{\"algorithm\":\"sha256\",\"value\":\""
                + hex + "\"}},\"signature\":{\"content\":\"" + signature + "\",\"publicKey\":{\"content\":\"" + B64(pem) + "\"}}}}";
            Assert.Equal(expected, Encoding.UTF8.GetString(proposed.CanonicalBody));
            Assert.Equal("hashedrekord", proposed.Kind);
            Assert.Equal("0.0.1", proposed.ApiVersion);
            Assert.Equal([$"sha256:{hex}"], proposed.IndexKeys.Hashes);
            Assert.Equal([Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()))], proposed.IndexKeys.PublicKeyFingerprints);
            Assert.Equal(
                ["alice@example.com", "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main"],
                proposed.IndexKeys.Identities);
        }
    }

    [Fact]
    public void Parse_EcdsaPublicKeyPem_IsAccepted()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var proposed = Parse(EcdsaHashedRekord(key, PublicKeyPem(key)));
        Assert.Empty(proposed.IndexKeys.Identities);
    }

    [Fact]
    public void Parse_EcdsaP384WithSha384_IsAccepted()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var digest = SHA384.HashData(Artifact);
        var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
        Parse(HashedRekord("sha384", Convert.ToHexStringLower(digest), B64(signature), B64(PublicKeyPem(key))));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Parse_RsaKey_IsAccepted(bool pss)
    {
        using var key = RSA.Create(2048);
        var digest = SHA256.HashData(Artifact);
        var signature = key.SignHash(digest, HashAlgorithmName.SHA256, pss ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1);
        Parse(HashedRekord("sha256", Convert.ToHexStringLower(digest), B64(signature), B64(PublicKeyPem(key))));
    }

    [Fact]
    public void Parse_Ed25519phOverSha512_IsAccepted()
    {
        var (seed, pem) = Ed25519Key();
        var digest = SHA512.HashData(Artifact);
        Parse(HashedRekord("sha512", Convert.ToHexStringLower(digest), B64(Ed25519phSign(seed, digest)), B64(pem)));
    }

    [Fact]
    public void Parse_PureEd25519OverDigest_IsRejected()
    {
        var (seed, pem) = Ed25519Key();
        var digest = SHA512.HashData(Artifact);
        var message = Reject(HashedRekord("sha512", Convert.ToHexStringLower(digest), B64(Ed25519Sign(seed, digest)), B64(pem)));
        Assert.Equal("signature does not verify with the supplied public key", message);
    }

    [Fact]
    public void Parse_Ed25519WithSha256_IsRejected()
    {
        var (seed, pem) = Ed25519Key();
        var digest = SHA256.HashData(Artifact);
        var message = Reject(HashedRekord("sha256", Convert.ToHexStringLower(digest), B64(Ed25519Sign(seed, digest)), B64(pem)));
        Assert.Contains("sha512", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WrongSignature_IsRejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var entry = EcdsaHashedRekord(key, PublicKeyPem(key));
        entry["spec"]!["data"]!["hash"]!["value"] = Convert.ToHexStringLower(SHA256.HashData("other"u8));

        Assert.Equal("signature does not verify with the supplied public key", Reject(entry));
    }

    [Fact]
    public void Parse_MismatchedKey_IsRejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var entry = EcdsaHashedRekord(key, PublicKeyPem(other));

        Assert.Equal("signature does not verify with the supplied public key", Reject(entry));
    }

    [Fact]
    public void Parse_BadBase64Signature_IsRejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var entry = EcdsaHashedRekord(key, PublicKeyPem(key));
        entry["spec"]!["signature"]!["content"] = "not base64!";

        Assert.Equal("invalid base64 in spec.signature.content", Reject(entry));
    }

    [Fact]
    public void Parse_BadBase64PublicKey_IsRejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var entry = EcdsaHashedRekord(key, PublicKeyPem(key));
        entry["spec"]!["signature"]!["publicKey"]!["content"] = "@@@@";

        Assert.Equal("invalid base64 in spec.signature.publicKey.content", Reject(entry));
    }

    [Fact]
    public void Parse_PublicKeyNotPem_IsRejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var entry = EcdsaHashedRekord(key, PublicKeyPem(key));
        entry["spec"]!["signature"]!["publicKey"]!["content"] = B64("just text");

        Assert.Equal("spec.signature.publicKey.content is not a PEM certificate or public key", Reject(entry));
    }

    [Theory]
    [InlineData("zz")]
    [InlineData("ABCDEF")]
    public void Parse_BadHex_IsRejected(string prefix)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var entry = EcdsaHashedRekord(key, PublicKeyPem(key));
        var value = entry["spec"]!["data"]!["hash"]!["value"]!.GetValue<string>();
        entry["spec"]!["data"]!["hash"]!["value"] = prefix + value[prefix.Length..];

        Assert.StartsWith("invalid hex in spec.data.hash.value", Reject(entry), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_WrongHashLength_IsRejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var entry = EcdsaHashedRekord(key, PublicKeyPem(key));
        entry["spec"]!["data"]!["hash"]!["algorithm"] = "sha512";

        Assert.StartsWith("spec.data.hash.value has the wrong length for sha512", Reject(entry), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnsupportedHashAlgorithm_IsRejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var entry = EcdsaHashedRekord(key, PublicKeyPem(key));
        entry["spec"]!["data"]!["hash"]!["algorithm"] = "md5";

        Assert.StartsWith("unsupported hash algorithm in spec.data.hash.algorithm", Reject(entry), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MissingSignature_IsRejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var entry = EcdsaHashedRekord(key, PublicKeyPem(key));
        entry["spec"]!.AsObject().Remove("signature");

        Assert.Equal("missing spec.signature", Reject(entry));
    }

    [Fact]
    public void Parse_UnknownKind_IsRejected()
    {
        var entry = new JsonObject { ["apiVersion"] = "0.0.1", ["kind"] = "rekord", ["spec"] = new JsonObject() };
        Assert.Equal("unsupported entry kind 'rekord'", Reject(entry));
    }

    [Fact]
    public void Parse_UnknownKindWithHostileText_IsNotEchoedVerbatim()
    {
        var entry = new JsonObject { ["apiVersion"] = "0.0.1", ["kind"] = "<script>" + new string('x', 5000), ["spec"] = new JsonObject() };
        var message = Reject(entry);
        Assert.DoesNotContain("<script>", message, StringComparison.Ordinal);
        Assert.True(message.Length < 100);
    }

    [Fact]
    public void Parse_UnknownVersion_IsRejected()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var entry = EcdsaHashedRekord(key, PublicKeyPem(key));
        entry["apiVersion"] = "0.0.2";

        Assert.Equal("unsupported apiVersion '0.0.2' for kind 'hashedrekord'", Reject(entry));
    }

    [Fact]
    public void Parse_OversizedCanonicalBody_IsRejected()
    {
        var (key, pem) = EcdsaCertificate();
        using (key)
        {
            var limits = EntryLimits.Default with { MaxCanonicalBodyBytes = 500 };
            Assert.Equal("entry exceeds the 500-byte limit", Reject(EcdsaHashedRekord(key, pem), limits));
        }
    }

    [Fact]
    public void Parse_OversizedRequest_IsRejectedBeforeParsing()
    {
        var body = new byte[EntryLimits.Default.MaxRequestBytes + 1];
        var ex = Assert.Throws<EntryRejectedException>(() => ProposedEntryParser.Parse(body, EntryLimits.Default));
        Assert.Equal($"request exceeds the {EntryLimits.Default.MaxRequestBytes}-byte limit", ex.Message);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("{\"kind\":\"hashedrekord\",\"kind\":\"dsse\",\"apiVersion\":\"0.0.1\",\"spec\":{}}")]
    public void Parse_MalformedJson_IsRejected(string json)
    {
        var ex = Assert.Throws<EntryRejectedException>(() => ProposedEntryParser.Parse(Encoding.UTF8.GetBytes(json), EntryLimits.Default));
        Assert.StartsWith("the request body", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SameEntryTwice_GivesIdenticalBodies()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var entry = EcdsaHashedRekord(key, PublicKeyPem(key));

        Assert.Equal(Parse(entry).CanonicalBody, Parse(JsonNode.Parse(entry.ToJsonString())!).CanonicalBody);
    }

    [Theory]
    [InlineData("sha256", 32)]
    [InlineData("sha384", 48)]
    [InlineData("sha512", 64)]
    public void CanonicalBody_RandomFields_EqualsGeneralCanonicalisation(string algorithm, int digestSize)
    {
        var random = new Random(digestSize);
        for (var i = 0; i < 20; i++)
        {
            var hex = Convert.ToHexStringLower(RandomBytes(random, digestSize));
            var signature = Convert.ToBase64String(RandomBytes(random, random.Next(64, 600)));
            var key = Convert.ToBase64String(RandomBytes(random, random.Next(90, 2000)));
            var general = new JsonObject
            {
                ["apiVersion"] = "0.0.1",
                ["kind"] = "hashedrekord",
                ["spec"] = new JsonObject
                {
                    ["data"] = new JsonObject { ["hash"] = new JsonObject { ["algorithm"] = algorithm, ["value"] = hex } },
                    ["signature"] = new JsonObject { ["content"] = signature, ["publicKey"] = new JsonObject { ["content"] = key } },
                },
            };

            Assert.Equal(CanonicalJson.Canonicalize(general), HashedRekordV001.CanonicalBody(algorithm, hex, signature, key));
        }
    }

    [Fact]
    public void CanonicalBody_StringsNeedingEscapes_EqualsGeneralCanonicalisation()
    {
        // The parser only passes hex and base64 here; the writer still escapes like the general path for any string.
        var general = new JsonObject
        {
            ["apiVersion"] = "0.0.1",
            ["kind"] = "hashedrekord",
            ["spec"] = new JsonObject
            {
                ["data"] = new JsonObject { ["hash"] = new JsonObject { ["algorithm"] = "a\"b", ["value"] = "\u0001\\é" } },
                ["signature"] = new JsonObject { ["content"] = "\n😀", ["publicKey"] = new JsonObject { ["content"] = "\u001f" } },
            },
        };

        Assert.Equal(CanonicalJson.Canonicalize(general), HashedRekordV001.CanonicalBody("a\"b", "\u0001\\é", "\n😀", "\u001f"));
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
