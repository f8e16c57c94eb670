using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Tuf;

namespace TransparencyLog.Sigstore.Tests.Tuf;

public sealed class TufCanonicalJsonTests
{
    [Fact]
    public void Encode_PemNewlinesQuotesAndNonAscii_OnlyBackslashAndQuoteEscaped()
    {
        var node = JsonNode.Parse("""{"b":"line1\nline2","a":"say \"hi\" \\ é","c":[1,true,null,{"z":0,"y":-5}]}""");

        var encoded = Encoding.UTF8.GetString(TufCanonicalJson.Encode(node));

        // As securesystemslib encode_canonical and tuf-js canonicalize: raw newline and raw UTF-8, sorted keys.
        Assert.Equal("{\"a\":\"say \\\"hi\\\" \\\\ é\",\"b\":\"line1\nline2\",\"c\":[1,true,null,{\"y\":-5,\"z\":0}]}", encoded);
    }

    [Fact]
    public void Encode_Float_Refused()
    {
        Assert.Throws<TufException>(() => TufCanonicalJson.Encode(JsonNode.Parse("""{"version":1.5}""")));
        Assert.Throws<TufException>(() => TufCanonicalJson.Encode(JsonNode.Parse("""{"version":1e3}""")));
    }

    [Fact]
    public async Task Parse_RepeatedKeyId_RefusedAsTufJsDoes()
    {
        using var key = LogSigner.Generate(LogKeyType.EcdsaP256);
        var targets = TufDocuments.BuildTargets(1, DateTimeOffset.UtcNow.AddDays(1), new Dictionary<string, TufTargetFile>());
        await targets.SignAsync(key);
        var json = JsonNode.Parse(targets.ToBytes())!.AsObject();
        json["signatures"]!.AsArray().Add(json["signatures"]![0]!.DeepClone());

        var error = Assert.Throws<TufException>(() => TufMetadata.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), TufMetadata.Targets));
        Assert.Equal(TufError.BadFormat, error.Error);
    }

    [Fact]
    public async Task Sign_EcdsaAndEd25519_RoundTripThroughServedBytesAndVerify()
    {
        using var ecdsa = LogSigner.Generate(LogKeyType.EcdsaP256);
        using var ed25519 = LogSigner.Generate(LogKeyType.Ed25519);
        var keys = new List<TufKey> { TufKey.FromPublicKey(ecdsa.PublicKey), TufKey.FromPublicKey(ed25519.PublicKey) };
        var root = TufRoot.Build(1, DateTimeOffset.UtcNow.AddDays(1), new Dictionary<string, (IReadOnlyList<TufKey>, int)>
        {
            [TufMetadata.Root] = (keys, 2),
            [TufMetadata.Targets] = (keys, 1),
            [TufMetadata.Snapshot] = (keys, 1),
            [TufMetadata.Timestamp] = (keys, 1),
        });
        await root.SignAsync(ecdsa);
        await root.SignAsync(ed25519);

        var parsed = TufMetadata.Parse(root.ToBytes(), TufMetadata.Root);
        var trusted = TufRoot.From(parsed);
        Assert.Equal(2, trusted.CountValidSignatures(TufMetadata.Root, parsed));
        Assert.Equal("ecdsa", keys[0].KeyType);
        Assert.Contains("-----BEGIN PUBLIC KEY-----\n", keys[0].Public, StringComparison.Ordinal);
        Assert.Equal(64, keys[1].Public.Length);

        // One changed byte of `signed` and neither signature counts.
        parsed.Signed["version"] = 2;
        Assert.Equal(0, trusted.CountValidSignatures(TufMetadata.Root, parsed));
    }

    [Theory]
    [InlineData("keyid")]
    [InlineData("_type")]
    [InlineData("member")]
    public void Parse_InvalidUtf8InsideAString_RefusedAsBadFormat(string where)
    {
        // Found by the tuf-metadata fuzz target: JsonNode decodes strings lazily, so invalid UTF-8 used to escape as
        // InvalidOperationException when the string was read, not as a TUF refusal.
        var text = where switch
        {
            "keyid" => """{"signed":{"_type":"root"},"signatures":[{"keyid":"X","sig":"00"}]}""",
            "_type" => """{"signed":{"_type":"X"},"signatures":[]}""",
            _ => """{"signed":{"X":1,"_type":"timestamp"},"signatures":[]}""",
        };
        var bytes = Encoding.UTF8.GetBytes(text).ToList();
        var at = bytes.IndexOf((byte)'X');
        bytes[at] = 0xC3;
        bytes.Insert(at + 1, 0x28);

        var refused = Assert.Throws<TufException>(() => TufMetadata.Parse(bytes.ToArray()));

        Assert.Equal(TufError.BadFormat, refused.Error);
    }

    [Theory]
    [InlineData("""{"signed":{"_type":"snapshot","_type":"root"},"signatures":[]}""")]
    [InlineData("""{"signed":{"_type":"root"},"signatures":[{"keyid":"ab","sig":"00","sig":"01"}]}""")]
    [InlineData("""{"signed":{"_type":"root"},"signed":{"_type":"root"},"signatures":[]}""")]
    public void Parse_MemberNamedTwice_RefusedAsBadFormat(string text)
    {
        // Found by the tuf-metadata fuzz target: a repeated member escaped as ArgumentException when first read.
        var refused = Assert.Throws<TufException>(() => TufMetadata.Parse(Encoding.UTF8.GetBytes(text)));

        Assert.Equal(TufError.BadFormat, refused.Error);
    }
}
