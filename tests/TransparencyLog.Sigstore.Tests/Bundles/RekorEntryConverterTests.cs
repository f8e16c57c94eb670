using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Tests.Verification;

namespace TransparencyLog.Sigstore.Tests.Bundles;

public sealed class RekorEntryConverterTests
{
    /// <summary>A Rekor v1 201 body for the scenario's entry, shaped as the log service writes it.</summary>
    private static string RekorResponse(TransparencyLogEntry entry) => new JsonObject
    {
        ["24296fb24b8ad77a" + new string('a', 64)] = new JsonObject
        {
            ["body"] = Convert.ToBase64String(entry.CanonicalizedBody),
            ["integratedTime"] = entry.IntegratedTime,
            ["logID"] = Convert.ToHexStringLower(entry.LogId),
            ["logIndex"] = entry.LogIndex,
            ["verification"] = new JsonObject
            {
                ["inclusionProof"] = new JsonObject
                {
                    ["checkpoint"] = entry.InclusionProof!.Checkpoint,
                    ["hashes"] = new JsonArray([.. entry.InclusionProof.Hashes.Select(static h => (JsonNode?)Convert.ToHexStringLower(h))]),
                    ["logIndex"] = entry.InclusionProof.LogIndex,
                    ["rootHash"] = Convert.ToHexStringLower(entry.InclusionProof.RootHash),
                    ["treeSize"] = entry.InclusionProof.TreeSize,
                },
                ["signedEntryTimestamp"] = Convert.ToBase64String(entry.InclusionPromise!),
            },
        },
    }.ToJsonString();

    [Fact]
    public void FromResponse_Rekor201_MapsEveryFieldLikeSigstoreJs()
    {
        using var scenario = Scenario.MessageSignature();
        var expected = scenario.Bundle.VerificationMaterial.TlogEntries[0];

        var (uuid, entry) = RekorEntryConverter.FromResponse(RekorResponse(expected));

        Assert.Equal(80, uuid.Length);
        Assert.Equal(expected.LogIndex, entry.LogIndex);
        Assert.Equal(expected.LogId, entry.LogId);
        Assert.Equal(new KindVersion("hashedrekord", "0.0.1"), entry.KindVersion);
        Assert.Equal(expected.IntegratedTime, entry.IntegratedTime);
        Assert.Equal(expected.InclusionPromise, entry.InclusionPromise);
        Assert.Equal(expected.CanonicalizedBody, entry.CanonicalizedBody);
        Assert.Equal(expected.InclusionProof!.Hashes, entry.InclusionProof!.Hashes);
        Assert.Equal(expected.InclusionProof.RootHash, entry.InclusionProof.RootHash);
        Assert.Equal(expected.InclusionProof.Checkpoint, entry.InclusionProof.Checkpoint);
    }

    [Fact]
    public void ToJson_Entry_WritesInt64AsStringsAndBytesAsBase64()
    {
        using var scenario = Scenario.MessageSignature();

        var json = JsonNode.Parse(scenario.Bundle.ToJson())!;
        var entry = json["verificationMaterial"]!["tlogEntries"]![0]!;

        Assert.Equal(Bundle.MediaTypeV03, json["mediaType"]!.GetValue<string>());
        Assert.Equal("3", entry["logIndex"]!.GetValue<string>());
        Assert.Equal("6", entry["inclusionProof"]!["treeSize"]!.GetValue<string>());
        Assert.Equal(scenario.IntegratedTime.ToString(System.Globalization.CultureInfo.InvariantCulture), entry["integratedTime"]!.GetValue<string>());
        Assert.Equal(Convert.ToBase64String(scenario.Log.Signer.LogId), entry["logId"]!["keyId"]!.GetValue<string>());
        Assert.Equal("SHA2_256", json["messageSignature"]!["messageDigest"]!["algorithm"]!.GetValue<string>());
    }

    [Fact]
    public void Parse_V02WithoutInclusionProof_IsRejected()
    {
        const string json = """
            {"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.2",
             "verificationMaterial":{"publicKey":{"hint":"k"},"tlogEntries":[{"logIndex":"1","logId":{"keyId":"AA=="},
               "kindVersion":{"kind":"hashedrekord","version":"0.0.1"},"integratedTime":"1",
               "inclusionPromise":{"signedEntryTimestamp":"AA=="},"canonicalizedBody":"AA=="}]},
             "messageSignature":{"signature":"AA=="}}
            """;

        var error = Assert.Throws<BundleFormatException>(() => Bundle.Parse(json));

        Assert.Contains("inclusionProof", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BothSignatureKinds_IsRejected()
    {
        const string json = """
            {"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"k"}},
             "messageSignature":{"signature":"AA=="},"dsseEnvelope":{"payload":"","payloadType":"t","signatures":[{"sig":"AA=="}]}}
            """;

        Assert.Throws<BundleFormatException>(() => Bundle.Parse(json));
    }
}

public sealed class BundleParseTests
{
    [Fact]
    public void Parse_MessageSignatureWithoutDigest_IsRejected()
    {
        var json = """
            {"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",
             "verificationMaterial":{"publicKey":{"hint":"k"},"tlogEntries":[]},
             "messageSignature":{"signature":"AAAA"}}
            """;
        var error = Assert.Throws<TransparencyLog.Sigstore.Bundles.BundleFormatException>(() => TransparencyLog.Sigstore.Bundles.Bundle.Parse(json));
        Assert.Contains("messageDigest is required", error.Message, StringComparison.Ordinal);
    }
}
