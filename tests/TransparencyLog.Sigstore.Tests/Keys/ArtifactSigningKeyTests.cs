using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Rekor;
using TransparencyLog.Sigstore.Verification;

namespace TransparencyLog.Sigstore.Tests.Keys;

public sealed class ArtifactSigningKeyTests
{
    private static readonly byte[] s_artifact = Encoding.UTF8.GetBytes("release.tar.gz contents");

    [Fact]
    public void ExportCosignPem_LoadWithSamePassword_RoundTrips()
    {
        using var key = ArtifactSigningKey.Generate();
        var pem = key.ExportCosignPem("correct horse");

        using var loaded = ArtifactSigningKey.Load(pem, () => "correct horse");

        Assert.StartsWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n", pem, StringComparison.Ordinal);
        Assert.Equal(key.PublicKeySpki, loaded.PublicKeySpki);
        var (_, signature) = loaded.SignArtifact(s_artifact);
        Assert.True(SignatureKey.Verify(key.PublicKeySpki, s_artifact, signature));
    }

    [Fact]
    public void ExportCosignPem_Body_HasCosignFieldsAndParameters()
    {
        using var key = ArtifactSigningKey.Generate();
        var (label, body) = Pem.DecodeAll(key.ExportCosignPem(string.Empty), 1)[0];

        var json = JsonNode.Parse(body)!.AsObject();

        Assert.Equal(CosignKeyFile.PemLabel, label);
        Assert.Equal("scrypt", (string?)json["kdf"]!["name"]);
        Assert.Equal(32768, (int)json["kdf"]!["params"]!["N"]!);
        Assert.Equal(8, (int)json["kdf"]!["params"]!["r"]!);
        Assert.Equal(1, (int)json["kdf"]!["params"]!["p"]!);
        Assert.Equal(32, Convert.FromBase64String((string)json["kdf"]!["salt"]!).Length);
        Assert.Equal("nacl/secretbox", (string?)json["cipher"]!["name"]);
        Assert.Equal(24, Convert.FromBase64String((string)json["cipher"]!["nonce"]!).Length);

        // Poly1305 tag (16 bytes) followed by the PKCS#8 DER, which has the same length as the plaintext.
        var pkcs8 = key.ExportPkcs8();
        Assert.Equal(16 + pkcs8.Length, Convert.FromBase64String((string)json["ciphertext"]!).Length);
    }

    [Fact]
    public void Load_EmptyPassword_IsAPasswordLikeAnyOther()
    {
        using var key = ArtifactSigningKey.Generate();
        var pem = key.ExportCosignPem(string.Empty);

        using var loaded = ArtifactSigningKey.Load(pem, () => string.Empty);

        Assert.Equal(key.PublicKeySpki, loaded.PublicKeySpki);
        Assert.Throws<KeyLoadException>(() => ArtifactSigningKey.Load(pem, () => "x"));
    }

    [Fact]
    public void Load_WrongPassword_SaysWrongPassword()
    {
        using var key = ArtifactSigningKey.Generate();
        var pem = key.ExportCosignPem("right");

        var error = Assert.Throws<KeyLoadException>(() => ArtifactSigningKey.Load(pem, () => "wrong"));

        Assert.Equal("could not decrypt the private key: wrong password or corrupted key file", error.Message);
    }

    [Fact]
    public void Load_LegacyCosignLabel_IsRead()
    {
        using var key = ArtifactSigningKey.Generate();
        var (_, body) = Pem.DecodeAll(key.ExportCosignPem("pw"), 1)[0];

        using var loaded = ArtifactSigningKey.Load(Pem.Encode(CosignKeyFile.LegacyPemLabel, body), () => "pw");

        Assert.Equal(key.PublicKeySpki, loaded.PublicKeySpki);
    }

    [Theory]
    [InlineData("half the file")]
    [InlineData("body cut inside the armor")]
    [InlineData("one flipped ciphertext byte")]
    [InlineData("huge work factor")]
    [InlineData("empty file")]
    public void Load_DamagedCosignKey_FailsWithClearMessage(string damage)
    {
        using var key = ArtifactSigningKey.Generate();
        var pem = key.ExportCosignPem("pw");
        var (label, body) = Pem.DecodeAll(pem, 1)[0];
        var json = JsonNode.Parse(body)!.AsObject();
        var damaged = damage switch
        {
            "half the file" => pem[..(pem.Length / 2)],
            "body cut inside the armor" => Pem.Encode(label, body[..(body.Length / 2)]),
            "one flipped ciphertext byte" => Pem.Encode(label, Encoding.UTF8.GetBytes(Flip(json).ToJsonString())),
            "huge work factor" => Pem.Encode(label, Encoding.UTF8.GetBytes(WithWorkFactor(json, 1 << 30).ToJsonString())),
            _ => string.Empty,
        };
        var asked = false;

        var error = Assert.Throws<KeyLoadException>(() => ArtifactSigningKey.Load(damaged, () =>
        {
            asked = true;
            return "pw";
        }));

        var expected = damage switch
        {
            "half the file" => "truncated or holds no PEM private key",
            "empty file" => "holds no PEM private key",
            "body cut inside the armor" => "truncated or corrupted",
            "one flipped ciphertext byte" => "wrong password or corrupted key file",
            _ => "unsupported scrypt parameters",
        };
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(damage == "one flipped ciphertext byte", asked);
        Assert.DoesNotContain((string)json["ciphertext"]!, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ec -pkeyopt ec_paramgen_curve:P-256", "ECDSA P-256", "sha256")]
    [InlineData("ec -pkeyopt ec_paramgen_curve:P-384", "ECDSA P-384", "sha384")]
    [InlineData("rsa -pkeyopt rsa_keygen_bits:2048", "RSA-2048", "sha256")]
    [InlineData("ed25519", "Ed25519", "sha512")]
    public void Load_OpenSslKeyInEveryPemForm_SignsWhatTheLogAccepts(string algorithm, string name, string hash)
    {
        var pkcs8 = OpenSsl.Run($"genpkey -algorithm {algorithm}");
        var forms = new List<(string Pem, string? Password)> { (pkcs8, null) };
        forms.Add((OpenSsl.Run("pkey -aes256 -passout pass:secret", pkcs8), "secret"));
        if (name.StartsWith("ECDSA", StringComparison.Ordinal))
        {
            forms.Add((OpenSsl.Run("ec", pkcs8), null));
        }
        else if (name.StartsWith("RSA", StringComparison.Ordinal))
        {
            forms.Add((OpenSsl.Run("rsa -traditional", pkcs8), null));
        }

        using var reference = ArtifactSigningKey.Load(pkcs8, () => throw new InvalidOperationException("not encrypted"));
        forms.Add((reference.ExportCosignPem("pw"), "pw"));
        var publicKey = OpenSsl.Run("pkey -pubout", pkcs8);

        foreach (var (pem, password) in forms)
        {
            using var key = ArtifactSigningKey.Load(pem, () => password ?? throw new InvalidOperationException("asked for a password"));
            var (digest, signature) = key.SignArtifact(s_artifact);

            Assert.Equal(name, key.Algorithm);
            Assert.Equal(publicKey.Trim(), key.PublicKeyPem.Trim());
            Assert.Equal(HashName(hash), key.Hash);

            // The log's own hashedrekord check, over the digest the entry carries.
            var entry = HashedRekordV001.Parse(
                JsonDocumentOf(new JsonObject
                {
                    ["data"] = new JsonObject { ["hash"] = new JsonObject { ["algorithm"] = hash, ["value"] = Convert.ToHexStringLower(digest) } },
                    ["signature"] = new JsonObject
                    {
                        ["content"] = Convert.ToBase64String(signature),
                        ["publicKey"] = new JsonObject { ["content"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(key.PublicKeyPem)) },
                    },
                }),
                new EntryLimits());
            Assert.Equal("hashedrekord", entry.Kind);

            // The offline verifier accepts the artifact signature (Ed25519: as Ed25519ph over SHA-512).
            Assert.True(SignatureKey.Verify(key.PublicKeySpki, s_artifact, signature)
                || SignatureKey.VerifyEd25519Prehash(key.PublicKeySpki, s_artifact, signature));

            // A message signature (DSSE PAE, simple-signing payload) verifies as the message itself.
            var message = key.SignMessage(s_artifact);
            Assert.True(SignatureKey.Verify(key.PublicKeySpki, s_artifact, message));
        }
    }

    [Fact]
    public void Load_UnencryptedKey_NeverAsksForAPassword()
    {
        using var key = ArtifactSigningKey.Generate();
        var pem = Pem.Encode("PRIVATE KEY", key.ExportPkcs8());

        using var loaded = ArtifactSigningKey.Load(pem, () => throw new InvalidOperationException("asked"));

        Assert.Equal(key.PublicKeySpki, loaded.PublicKeySpki);
    }

    [Fact]
    public void Load_PublicKeyOnly_SaysNoPrivateKey()
    {
        using var key = ArtifactSigningKey.Generate();

        var error = Assert.Throws<KeyLoadException>(() => ArtifactSigningKey.Load(key.PublicKeyPem, () => "pw"));

        Assert.Contains("no PEM private key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_NamesAlgorithmOnly()
    {
        using var key = ArtifactSigningKey.Generate();

        Assert.Equal("ECDSA P-256 signing key", key.ToString());
    }

    private static JsonObject Flip(JsonObject json)
    {
        var copy = JsonNode.Parse(json.ToJsonString())!.AsObject();
        var bytes = Convert.FromBase64String((string)copy["ciphertext"]!);
        bytes[^1] ^= 1;
        copy["ciphertext"] = Convert.ToBase64String(bytes);
        return copy;
    }

    private static JsonObject WithWorkFactor(JsonObject json, int n)
    {
        var copy = JsonNode.Parse(json.ToJsonString())!.AsObject();
        copy["kdf"]!["params"]!["N"] = n;
        return copy;
    }

    private static HashAlgorithmName HashName(string hash) => hash switch
    {
        "sha384" => HashAlgorithmName.SHA384,
        "sha512" => HashAlgorithmName.SHA512,
        _ => HashAlgorithmName.SHA256,
    };

    private static System.Text.Json.JsonElement JsonDocumentOf(JsonObject json) =>
        System.Text.Json.JsonDocument.Parse(json.ToJsonString()).RootElement.Clone();
}
