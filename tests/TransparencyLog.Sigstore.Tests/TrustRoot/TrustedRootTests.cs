using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Sigstore.Tests.TrustRoot;

public sealed class TrustedRootTests
{
    private static readonly DateTimeOffset s_start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Merge_NewLogKeyAtSameUrl_ClosesOldWindowAndOpensNew()
    {
        using var oldKey = LogSigner.Generate(LogKeyType.EcdsaP256);
        using var newKey = LogSigner.Generate(LogKeyType.EcdsaP256);
        var rotation = s_start.AddMonths(6);
        var current = TrustedRoot.Empty with { Tlogs = [TrustedRoot.LogFromKey(oldKey.PublicKey, "https://rekor.test", new ValidityPeriod(s_start, null))] };
        var fetched = TrustedRoot.Empty with { Tlogs = [TrustedRoot.LogFromKey(newKey.PublicKey, "https://rekor.test", ValidityPeriod.Unbounded)] };

        var merged = current.Merge(fetched, rotation);

        Assert.Equal(2, merged.Tlogs.Count);
        Assert.Single(merged.FindTlogs(oldKey.LogId, rotation.AddDays(-1)));
        Assert.Empty(merged.FindTlogs(oldKey.LogId, rotation.AddDays(1)));
        Assert.Single(merged.FindTlogs(newKey.LogId, rotation.AddDays(1)));
        Assert.Empty(merged.FindTlogs(newKey.LogId, rotation.AddDays(-1)));
    }

    [Fact]
    public void Merge_SameKeyAgain_KeepsRootUnchanged()
    {
        using var key = LogSigner.Generate(LogKeyType.EcdsaP256);
        var root = TrustedRoot.Empty with { Tlogs = [TrustedRoot.LogFromKey(key.PublicKey, "https://rekor.test", new ValidityPeriod(s_start, null))] };

        var merged = root.Merge(root, s_start.AddYears(1));

        Assert.Equal(s_start, Assert.Single(merged.Tlogs).PublicKey.ValidFor.Start);
        Assert.Null(merged.Tlogs[0].PublicKey.ValidFor.End);
    }

    [Fact]
    public void ToJson_RekorV2StyleEd25519Log_IsV01WithC2spLogId()
    {
        using var key = LogSigner.Generate(LogKeyType.Ed25519);
        var root = TrustedRoot.WithMediaTypeFor(TrustedRoot.Empty with
        {
            Tlogs = [TrustedRoot.LogFromKey(key.PublicKey, "https://rekor.test", new ValidityPeriod(s_start, s_start.AddYears(1)), c2spLogId: true)],
        });

        var parsed = TrustedRoot.Parse(root.ToJson());

        Assert.Equal("application/vnd.dev.sigstore.trustedroot+json;version=0.1", parsed.MediaType);
        Assert.Equal("PKIX_ED25519", parsed.Tlogs[0].PublicKey.KeyDetails);
        Assert.Null(parsed.Tlogs[0].CheckpointKeyId);
        Assert.Equal(Sigstore.Notes.NoteKeys.KeyHash("rekor.test", key.PublicKey), parsed.Tlogs[0].LogId);
        Assert.Equal(new Sigstore.Notes.NoteVerifierKey("rekor.test", key.PublicKey).KeyId, parsed.Tlogs[0].CheckpointKeyHint);
        Assert.Equal(s_start.AddYears(1), parsed.Tlogs[0].PublicKey.ValidFor.End);
    }

    [Fact]
    public void WithMediaTypeFor_V02RootWithRedundantCheckpointKeyId_IsV01WithoutIt()
    {
        // What GET /api/v2/log/tlogInstance serves: the full C2SP key hash as log ID and its prefix as checkpointKeyId.
        using var key = LogSigner.Generate(LogKeyType.Ed25519);
        var instance = TrustedRoot.LogFromKey(key.PublicKey, "https://rekor.test", ValidityPeriod.Unbounded, c2spLogId: true);
        var withHint = instance with { CheckpointKeyId = instance.LogId[..4] };
        var other = TrustedRoot.LogFromKey(key.PublicKey, "https://other.test", ValidityPeriod.Unbounded) with { CheckpointKeyId = [1, 2, 3, 4] };

        var root = TrustedRoot.WithMediaTypeFor(TrustedRoot.Empty with { MediaType = TrustedRoot.MediaTypeV02, Tlogs = [withHint, other] });

        Assert.Equal(TrustedRoot.MediaTypeV01, root.MediaType);
        Assert.Null(root.Tlogs[0].CheckpointKeyId);
        Assert.Equal(instance.LogId[..4], root.Tlogs[0].CheckpointKeyHint);
        Assert.Equal([1, 2, 3, 4], root.Tlogs[1].CheckpointKeyId);
        Assert.Contains("version=0.1", root.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void SigningConfig_RoundTrip_KeepsUrlsAndVersions()
    {
        var config = new SigningConfig(
            [new ServiceEndpoint("https://fulcio.test", 1, new ValidityPeriod(s_start, null))],
            [new ServiceEndpoint("https://oidc.test", 1, new ValidityPeriod(s_start, null))],
            [new ServiceEndpoint("https://rekor.test", 1, new ValidityPeriod(s_start, null))],
            ServiceSelector.Any,
            [new ServiceEndpoint("https://rekor.test/api/v1/timestamp", 1, new ValidityPeriod(s_start, null))],
            ServiceSelector.Any);

        var parsed = SigningConfig.Parse(config.ToJson());

        Assert.Equal("https://rekor.test", SigningConfig.Select(parsed.RekorTlogUrls, s_start.AddDays(1))!.Url);
        Assert.Null(SigningConfig.Select(parsed.RekorTlogUrls, s_start.AddDays(-1)));
        Assert.Equal("https://rekor.test/api/v1/timestamp", parsed.TsaUrls[0].Url);
    }

    [Theory]
    [InlineData("""{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":["x"]}""", "tlogs[] must be an object")]
    [InlineData("""{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","certificateAuthorities":[7]}""", "certificateAuthorities[] must be an object")]
    [InlineData("""{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","ctlogs":[[]]}""", "ctlogs[] must be an object")]
    public void Parse_StringWhereAMessageBelongs_IsAFormatError(string json, string message)
    {
        // Found by fuzzing: JsonElement.TryGetProperty on a string threw InvalidOperationException.
        var error = Assert.Throws<Sigstore.Bundles.BundleFormatException>(() => TrustedRoot.Parse(json));
        Assert.Contains(message, error.Message);
    }
}
