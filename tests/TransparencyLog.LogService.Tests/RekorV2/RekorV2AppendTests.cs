using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Security;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Json;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Tests.RekorV2;

public sealed class RekorV2AppendTests(RekorV2Fixture log) : IClassFixture<RekorV2Fixture>
{
    [Fact]
    public async Task PostHashedRekord_WithCertificate_Returns201WithVerifiableEntryAndCanonicalBody()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var certificate = V2Requests.Certificate(key);
        var digest = SHA256.HashData(V2Requests.NewArtifact());
        var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);

        var entry = await log.AppendAsync(V2Requests.HashedRekord(digest, signature, V2Requests.CertificateVerifier(certificate, "PKIX_ECDSA_P256_SHA_256")));

        Assert.Equal(("hashedrekord", "0.0.2"), (entry.Kind, entry.Version));
        var expected = CanonicalJson.Canonicalize(new JsonObject
        {
            ["apiVersion"] = "0.0.2",
            ["kind"] = "hashedrekord",
            ["spec"] = new JsonObject
            {
                ["hashedRekordV002"] = new JsonObject
                {
                    ["data"] = new JsonObject { ["algorithm"] = "SHA2_256", ["digest"] = Convert.ToBase64String(digest) },
                    ["signature"] = new JsonObject
                    {
                        ["content"] = Convert.ToBase64String(signature),
                        ["verifier"] = V2Requests.CertificateVerifier(certificate, "PKIX_ECDSA_P256_SHA_256"),
                    },
                },
            },
        });
        Assert.Equal(Encoding.UTF8.GetString(expected), entry.BodyText);
    }

    [Fact]
    public async Task PostHashedRekord_WithPublicKey_Returns201()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (json, digest, _) = V2Requests.EcdsaHashedRekord(key);

        var entry = await log.AppendAsync(json);

        using var body = JsonDocument.Parse(entry.Body);
        var spec = body.RootElement.GetProperty("spec").GetProperty("hashedRekordV002");
        Assert.Equal(digest, spec.GetProperty("data").GetProperty("digest").GetBytesFromBase64());
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), spec.GetProperty("signature").GetProperty("verifier").GetProperty("publicKey").GetProperty("rawBytes").GetBytesFromBase64());
    }

    [Fact]
    public async Task PostHashedRekord_WithProtoFieldNames_Returns201()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var digest = SHA256.HashData(V2Requests.NewArtifact());
        var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
        var json = new JsonObject
        {
            ["hashed_rekord_request_v002"] = new JsonObject
            {
                ["digest"] = Convert.ToBase64String(digest).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
                ["signature"] = new JsonObject
                {
                    ["content"] = Convert.ToBase64String(signature),
                    ["verifier"] = new JsonObject
                    {
                        ["public_key"] = new JsonObject { ["raw_bytes"] = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()) },
                        ["key_details"] = 5,
                    },
                },
            },
        }.ToJsonString();

        var entry = await log.AppendAsync(json);

        // The stored body is always in canonical protobuf-JSON form, whatever spelling the request used.
        Assert.Contains("\"keyDetails\":\"PKIX_ECDSA_P256_SHA_256\"", entry.BodyText, StringComparison.Ordinal);
        Assert.Contains($"\"digest\":\"{Convert.ToBase64String(digest)}\"", entry.BodyText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2048, "PKIX_RSA_PKCS1V15_2048_SHA256")]
    [InlineData(3072, "PKIX_RSA_PKCS1V15_3072_SHA256")]
    public async Task PostHashedRekord_WithRsaPkcs1Key_Returns201(int bits, string keyDetails)
    {
        using var key = RSA.Create(bits);
        var digest = SHA256.HashData(V2Requests.NewArtifact());
        var signature = key.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

        var entry = await log.AppendAsync(V2Requests.HashedRekord(digest, signature, V2Requests.PublicKeyVerifier(key.ExportSubjectPublicKeyInfo(), keyDetails)));

        Assert.Contains($"\"keyDetails\":\"{keyDetails}\"", entry.BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostHashedRekord_WithP384Key_StoresSha384Digest()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var digest = SHA384.HashData(V2Requests.NewArtifact());
        var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);

        var entry = await log.AppendAsync(V2Requests.HashedRekord(digest, signature, V2Requests.PublicKeyVerifier(key.ExportSubjectPublicKeyInfo(), "PKIX_ECDSA_P384_SHA_384")));

        Assert.Contains("\"algorithm\":\"SHA2_384\"", entry.BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostHashedRekord_WithEd25519phOverSha512_Returns201()
    {
        var privateKey = new Ed25519PrivateKeyParameters(new SecureRandom());
        var rawPublic = privateKey.GeneratePublicKey().GetEncoded();
        byte[] spki = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00, .. rawPublic];
        var digest = SHA512.HashData(V2Requests.NewArtifact());

        // Ed25519ph (RFC 8032, empty context) over the SHA-512 digest: what sigstore clients sign with PKIX_ED25519_PH.
        var signature = new byte[64];
        Org.BouncyCastle.Math.EC.Rfc8032.Ed25519.SignPrehash(privateKey.GetEncoded(), 0, [], digest, 0, signature, 0);

        var entry = await log.AppendAsync(V2Requests.HashedRekord(digest, signature, V2Requests.PublicKeyVerifier(spki, "PKIX_ED25519_PH")));

        Assert.Contains("\"algorithm\":\"SHA2_512\"", entry.BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostDsse_WithVerifiers_Returns201WithSortedSignaturesAndPayloadHash()
    {
        using var first = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var second = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var payload = Encoding.UTF8.GetBytes($$"""{"_type":"https://in-toto.io/Statement/v1","n":"{{Guid.NewGuid()}}"}""");
        const string payloadType = "application/vnd.in-toto+json";
        var pae = V2Requests.Pae(payloadType, payload);
        var signatures = new[] { first, second }.Select(k => k.SignData(pae, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)).ToArray();
        var firstVerifier = V2Requests.CertificateVerifier(V2Requests.Certificate(first), "PKIX_ECDSA_P256_SHA_256");
        var secondVerifier = V2Requests.PublicKeyVerifier(second.ExportSubjectPublicKeyInfo(), "PKIX_ECDSA_P256_SHA_256");

        var entry = await log.AppendAsync(V2Requests.Dsse(payload, payloadType, signatures, secondVerifier, firstVerifier));

        Assert.Equal(("dsse", "0.0.2"), (entry.Kind, entry.Version));
        var pairs = new[] { (signatures[0], firstVerifier), (signatures[1], secondVerifier) }
            .OrderBy(p => p.Item1, Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b)))
            .Select(p => (JsonNode)new JsonObject { ["content"] = Convert.ToBase64String(p.Item1), ["verifier"] = p.Item2.DeepClone() });
        var expected = CanonicalJson.Canonicalize(new JsonObject
        {
            ["apiVersion"] = "0.0.2",
            ["kind"] = "dsse",
            ["spec"] = new JsonObject
            {
                ["dsseV002"] = new JsonObject
                {
                    ["payloadHash"] = new JsonObject { ["algorithm"] = "SHA2_256", ["digest"] = Convert.ToBase64String(SHA256.HashData(payload)) },
                    ["signatures"] = new JsonArray([.. pairs]),
                },
            },
        });
        Assert.Equal(Encoding.UTF8.GetString(expected), entry.BodyText);
    }

    [Fact]
    public async Task PostEntry_Duplicate_Returns409AndLeavesTheTreeUnchanged()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (json, _, _) = V2Requests.EcdsaHashedRekord(key);
        var entry = await log.AppendAsync(json);
        var before = await log.CheckpointAsync();

        using var response = await log.PostAsync(json);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(entry.LogIndex.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("X-Log-Index").Single());
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(6, error.RootElement.GetProperty("code").GetInt32());
        Assert.Contains("already exists", error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        var after = await log.CheckpointAsync();
        Assert.Equal(before.Size, after.Size);
        Assert.Equal(before.RootHash, after.RootHash);
    }

    [Fact]
    public async Task Keys_ForTheTrustedRoot_AreConsistentWithTheEntries()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var entry = await log.AppendAsync(V2Requests.EcdsaHashedRekord(key).Json);

        var vkey = (await log.Client.GetStringAsync("/api/v2/log/verifierKey")).Trim();
        using var instance = JsonDocument.Parse(await log.Client.GetStringAsync("/api/v2/log/tlogInstance"));
        var root = instance.RootElement;

        Assert.True(new NoteVerifier(vkey).Verify(entry.Checkpoint));
        Assert.StartsWith($"{RekorV2Fixture.LogName}+{Convert.ToHexStringLower(entry.LogId[..4])}+", vkey, StringComparison.Ordinal);
        Assert.Equal("PKIX_ED25519", root.GetProperty("publicKey").GetProperty("keyDetails").GetString());
        Assert.Equal(log.PublicKey.Spki, root.GetProperty("publicKey").GetProperty("rawBytes").GetBytesFromBase64());
        Assert.Equal(entry.LogId, root.GetProperty("logId").GetProperty("keyId").GetBytesFromBase64());
        Assert.Equal(entry.LogId[..4], root.GetProperty("checkpointKeyId").GetProperty("keyId").GetBytesFromBase64());
        Assert.Equal($"http://{RekorV2Fixture.LogName}", root.GetProperty("baseUrl").GetString());
    }

    [Fact]
    public async Task Tiles_UnderApiV2_RebuildTheCheckpointRoot()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => log.AppendAsync(V2Requests.EcdsaHashedRekord(key).Json)));
        var checkpoint = await log.CheckpointAsync();
        var size = checkpoint.Size;
        Assert.InRange(size, 20, 255);

        var hashes = await log.Client.GetByteArrayAsync($"/api/v2/tile/0/000.p/{size}");
        var bundle = await log.Client.GetByteArrayAsync($"/api/v2/tile/entries/000.p/{size}");
        var leaves = new List<Hash>();
        var offset = 0;
        for (var i = 0; i < size; i++)
        {
            var length = BinaryPrimitives.ReadUInt16BigEndian(bundle.AsSpan(offset));
            var leaf = Rfc6962.HashLeaf(bundle.AsSpan(offset + 2, length));
            Assert.Equal(Hash.FromBytes(hashes.AsSpan(i * 32, 32)), leaf);
            Assert.StartsWith("{\"apiVersion\":\"0.0.2\"", Encoding.UTF8.GetString(bundle, offset + 2, length), StringComparison.Ordinal);
            leaves.Add(leaf);
            offset += 2 + length;
        }

        Assert.Equal(bundle.Length, offset);
        Assert.Equal(Hash.FromBytes(checkpoint.RootHash), Rfc6962.RootFromLeafHashes(leaves.ToArray()));

        // The v1 log on the same service is a different tree.
        Assert.NotEqual(await log.Client.GetStringAsync("/checkpoint"), await log.Client.GetStringAsync("/api/v2/checkpoint"));
    }
}
