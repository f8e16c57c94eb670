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
    public void ToJson_Ed25519LogWithCheckpointKeyId_RoundTripsAsV02()
    {
        using var key = LogSigner.Generate(LogKeyType.Ed25519);
        var root = TrustedRoot.WithMediaTypeFor(TrustedRoot.Empty with
        {
            Tlogs = [TrustedRoot.LogFromKey(key.PublicKey, "https://rekor.test", new ValidityPeriod(s_start, s_start.AddYears(1)), c2spCheckpointKeyId: true)],
        });

        var parsed = TrustedRoot.Parse(root.ToJson());

        Assert.Equal(TrustedRoot.MediaTypeV02, parsed.MediaType);
        Assert.Equal("PKIX_ED25519", parsed.Tlogs[0].PublicKey.KeyDetails);
        Assert.Equal(root.Tlogs[0].CheckpointKeyId, parsed.Tlogs[0].CheckpointKeyId);
        Assert.Equal(s_start.AddYears(1), parsed.Tlogs[0].PublicKey.ValidFor.End);
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
}
