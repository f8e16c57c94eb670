using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Tuf;

namespace TransparencyLog.Cli.Tests.Tuf;

/// <summary>
/// The TUF client workflow of <see cref="TufUpdater"/> (what <c>tlog initialize</c> and every later refresh run) against a
/// mirror that serves attacks: each test publishes honest versions, then replaces files as an attacker would, and
/// checks the refusal's stable error and that a refused refresh trusted nothing new.
/// </summary>
public sealed class TufUpdaterAttackTests : IAsyncLifetime
{
    private static readonly Dictionary<string, byte[]> s_files1 = new() { ["trusted_root.json"] = Encoding.UTF8.GetBytes("{\"state\":1}\n") };
    private static readonly Dictionary<string, byte[]> s_files2 = new() { ["trusted_root.json"] = Encoding.UTF8.GetBytes("{\"state\":2}\n") };

    private FakeTufMirror _mirror = null!;
    private string _cache = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _mirror = await FakeTufMirror.StartAsync();
        _cache = Directory.CreateTempSubdirectory("tlog-tuf-client-").FullName;
        _http = new HttpClient();
        _mirror.Put("1.root.json", _mirror.Root(1));
        _mirror.PublishState(1, s_files1);
        TufUpdater.Bootstrap(_cache, _mirror.Files["1.root.json"]);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _mirror.DisposeAsync();
        Directory.Delete(_cache, recursive: true);
    }

    private Task<TufTrustedState> RefreshAsync(DateTimeOffset? at = null) =>
        new TufUpdater(_http, _mirror.Url, _cache).RefreshAsync(at ?? FakeTufMirror.Now);

    private async Task<TufException> RefusedAsync(TufError expected, DateTimeOffset? at = null)
    {
        var refused = await Assert.ThrowsAsync<TufException>(() => RefreshAsync(at));
        Assert.True(expected == refused.Error, $"expected {expected}, got {refused.Error}: {refused.Message}");
        return refused;
    }

    private byte[] Cached(string role) => File.ReadAllBytes(Path.Combine(_cache, role + ".json"));

    [Fact]
    public async Task Refresh_HonestMirror_FollowsNewVersions()
    {
        var first = await RefreshAsync();
        _mirror.PublishState(2, s_files2);
        var second = await RefreshAsync();

        Assert.Equal(1, first.Targets.Version);
        Assert.Equal(2, second.Targets.Version);
        Assert.Equal(s_files2["trusted_root.json"], await new TufUpdater(_http, _mirror.Url, _cache).GetTargetAsync(second, "trusted_root.json"));
    }

    [Fact]
    public async Task Refresh_ExpiredFinalRoot_RefusedAsFreeze()
    {
        // Root v2 is properly signed by the old and new keys, but expired: a client must not trust a frozen final root.
        _mirror.Put("2.root.json", _mirror.Root(2, FakeTufMirror.Now.AddDays(-1)));

        var refused = await RefusedAsync(TufError.Expired);

        Assert.Contains("root v2", refused.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_cache, "timestamp.json")));
    }

    [Fact]
    public async Task Refresh_ExpiredIntermediateRootThenValidOne_Accepted()
    {
        // Only the final root must be unexpired (TUF 5.3.10): an expired v2 on the way to a valid v3 is fine.
        _mirror.Put("2.root.json", _mirror.Root(2, FakeTufMirror.Now.AddDays(-1)));
        _mirror.Put("3.root.json", _mirror.Root(3));

        var state = await RefreshAsync();

        Assert.Equal(3, state.Root.Version);
    }

    [Fact]
    public async Task Refresh_RootNotSignedByOldKey_RefusedAsUnsigned()
    {
        using var attacker = LogSigner.Generate(LogKeyType.EcdsaP256);
        var root = TufRoot.Build(2, FakeTufMirror.Now.AddDays(365), new Dictionary<string, (IReadOnlyList<TufKey>, int)>
        {
            [TufMetadata.Root] = ([TufKey.FromPublicKey(attacker.PublicKey)], 1),
            [TufMetadata.Targets] = ([TufKey.FromPublicKey(attacker.PublicKey)], 1),
            [TufMetadata.Snapshot] = ([TufKey.FromPublicKey(attacker.PublicKey)], 1),
            [TufMetadata.Timestamp] = ([TufKey.FromPublicKey(attacker.PublicKey)], 1),
        });
        _mirror.Put("2.root.json", FakeTufMirror.Signed(root, [attacker]));

        await RefusedAsync(TufError.Unsigned);

        Assert.Equal(1, TufMetadata.Parse(Cached("root"), TufMetadata.Root).Version);
    }

    [Fact]
    public async Task Refresh_RootVersionSkippedServedAsNext_RefusedAsBadVersion()
    {
        _mirror.Put("2.root.json", _mirror.Root(3));

        await RefusedAsync(TufError.BadVersion);
    }

    [Fact]
    public async Task Refresh_SnapshotFromAnOlderState_RefusedAsMixAndMatch()
    {
        await RefreshAsync();
        _mirror.PublishState(2, s_files2);
        // The attacker serves the validly signed snapshot v1 under the name the new timestamp points to.
        _mirror.Files["2.snapshot.json"] = _mirror.Files["1.snapshot.json"];

        var refused = await RefusedAsync(TufError.BadVersion);

        Assert.Contains("snapshot v1", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_TargetsFromAnOlderState_RefusedAsMixAndMatch()
    {
        _mirror.PublishState(2, s_files2);
        _mirror.Files["2.targets.json"] = _mirror.Files["1.targets.json"];

        var refused = await RefusedAsync(TufError.BadVersion);

        Assert.Contains("targets v1", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_SameVersionSnapshotOfAnotherStateWhenTimestampPinsItsHash_RefusedAsHashMismatch()
    {
        // Both snapshots carry version 2 and valid online signatures; only the hash the timestamp lists tells them apart.
        var honest = _mirror.Snapshot(2, 2);
        var other = _mirror.Snapshot(2, 1);
        _mirror.Put("2.targets.json", _mirror.Targets(2, s_files2));
        _mirror.Put("2.snapshot.json", other);
        var timestamp = TufDocuments.BuildTimestamp(2, FakeTufMirror.Now.AddDays(7), 2);
        var honestBytes = honest.ToBytes();
        timestamp.Signed["meta"]!["snapshot.json"]!["length"] = honestBytes.Length;
        timestamp.Signed["meta"]!["snapshot.json"]!["hashes"] = new JsonObject { ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(honestBytes)) };
        _mirror.Put("timestamp.json", FakeTufMirror.Signed(timestamp, [_mirror.OnlineKey]));

        await RefusedAsync(TufError.HashMismatch);

        _mirror.Files["2.snapshot.json"] = honestBytes;
        Assert.Equal(2, (await RefreshAsync()).Targets.Version);
    }

    [Fact]
    public async Task Refresh_TimestampRolledBack_RefusedAsBadVersion()
    {
        var old = _mirror.Files["timestamp.json"];
        _mirror.PublishState(2, s_files2);
        await RefreshAsync();
        _mirror.Files["timestamp.json"] = old;

        await RefusedAsync(TufError.BadVersion);

        Assert.Equal(2, TufMetadata.Parse(Cached("timestamp"), TufMetadata.Timestamp).Version);
    }

    [Fact]
    public async Task Refresh_SnapshotLowersTargetsVersion_RefusedAsBadVersion()
    {
        _mirror.PublishState(2, s_files2);
        await RefreshAsync();
        // A new, validly signed snapshot v3 that points back at targets v1.
        _mirror.Put("3.snapshot.json", _mirror.Snapshot(3, 1));
        _mirror.Put("timestamp.json", _mirror.Timestamp(3, 3));

        await RefusedAsync(TufError.BadVersion);
    }

    [Fact]
    public async Task Refresh_ExpiredTimestampOrSnapshotOrTargets_RefusedAsFreeze()
    {
        _mirror.Put("timestamp.json", _mirror.Timestamp(2, 1, FakeTufMirror.Now.AddMinutes(-1)));
        await RefusedAsync(TufError.Expired);

        _mirror.Put("2.snapshot.json", _mirror.Snapshot(2, 1, FakeTufMirror.Now.AddMinutes(-1)));
        _mirror.Put("timestamp.json", _mirror.Timestamp(3, 2));
        await RefusedAsync(TufError.Expired);

        // Honest today, frozen for a client whose reference time is past every expiry.
        await RefusedAsync(TufError.Expired, FakeTufMirror.Now.AddDays(400));
    }

    [Fact]
    public async Task Refresh_RepeatedKeyIdInSignatures_CountsOnceAndIsRefused()
    {
        // Threshold 2 of the two targets keys; key A's signature appears twice and B never signs.
        _mirror.TargetsThreshold = 2;
        _mirror.Put("2.root.json", _mirror.Root(2));
        var targets = _mirror.Targets(2, s_files2, signers: [_mirror.TargetsKeyA]);
        var bytes = targets.ToBytes();
        var envelope = JsonNode.Parse(bytes)!.AsObject();
        var signatures = envelope["signatures"]!.AsArray();
        signatures.Add(signatures[0]!.DeepClone());
        _mirror.Files["2.targets.json"] = Encoding.UTF8.GetBytes(envelope.ToJsonString());
        _mirror.Put("2.snapshot.json", _mirror.Snapshot(2, 2));
        _mirror.Put("timestamp.json", _mirror.Timestamp(2, 2));

        await RefusedAsync(TufError.BadFormat);
    }

    [Fact]
    public async Task Refresh_OneKeyListedUnderTwoKeyIds_CountsOnceTowardThreshold()
    {
        // The root lists key A twice (once as keytype ecdsa, once as the older ecdsa-sha2-nistp256: two key IDs, one
        // key). Two signatures by that one key must not meet a threshold of 2.
        using var ecdsa = LogSigner.Generate(LogKeyType.EcdsaP256);
        var modern = TufKey.FromPublicKey(ecdsa.PublicKey);
        var legacy = modern with { KeyType = TufKey.EcdsaScheme };
        Assert.NotEqual(modern.KeyId, legacy.KeyId);
        _mirror.TargetsThreshold = 2;
        _mirror.Put("2.root.json", _mirror.Root(2, targetsKeys: [modern, legacy]));
        var targets = _mirror.Targets(2, s_files2, signers: [ecdsa]);
        targets.Signatures.Add(new TufSignature(legacy.KeyId, targets.Signatures[0].Sig));
        _mirror.Put("2.targets.json", targets);
        _mirror.Put("2.snapshot.json", _mirror.Snapshot(2, 2));
        _mirror.Put("timestamp.json", _mirror.Timestamp(2, 2));

        var refused = await RefusedAsync(TufError.Unsigned);

        Assert.Contains("1 valid signature", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_TargetsBelowThreshold_RefusedAsUnsigned()
    {
        _mirror.TargetsThreshold = 2;
        _mirror.Put("2.root.json", _mirror.Root(2));
        _mirror.Put("2.targets.json", _mirror.Targets(2, s_files2, signers: [_mirror.TargetsKeyB]));
        _mirror.Put("2.snapshot.json", _mirror.Snapshot(2, 2));
        _mirror.Put("timestamp.json", _mirror.Timestamp(2, 2));

        await RefusedAsync(TufError.Unsigned);
    }

    [Fact]
    public async Task GetTarget_WrongOrEndlessBytes_RefusedAsHashMismatch()
    {
        var state = await RefreshAsync();
        var bytes = s_files1["trusted_root.json"];
        var path = $"targets/{Convert.ToHexStringLower(SHA256.HashData(bytes))}.trusted_root.json";
        var updater = new TufUpdater(_http, _mirror.Url, _cache);

        var flipped = (byte[])bytes.Clone();
        flipped[2] ^= 1;
        _mirror.Files[path] = flipped;
        Assert.Equal(TufError.HashMismatch, (await Assert.ThrowsAsync<TufException>(() => updater.GetTargetAsync(state, "trusted_root.json"))).Error);

        _mirror.Files[path] = [.. bytes, .. new byte[1 << 20]];
        Assert.Equal(TufError.HashMismatch, (await Assert.ThrowsAsync<TufException>(() => updater.GetTargetAsync(state, "trusted_root.json"))).Error);
    }

    [Fact]
    public async Task Refresh_OnlineKeyRotated_CachedTimestampDroppedAndNewHistoryAccepted()
    {
        // Fast-forward recovery (TUF 5.3.11): the old online key signed timestamp v50; after the rotation the new key's
        // history starts again at a lower version, which a client keeping the old timestamp would refuse forever.
        _mirror.Put("timestamp.json", _mirror.Timestamp(50, 1));
        await RefreshAsync();
        var old = _mirror.OnlineKey;
        _mirror.OnlineKey = LogSigner.Generate(LogKeyType.EcdsaP256);
        old.Dispose();
        _mirror.Put("2.root.json", _mirror.Root(2));
        _mirror.Put("2.snapshot.json", _mirror.Snapshot(2, 1));
        _mirror.Put("timestamp.json", _mirror.Timestamp(2, 2));

        var state = await RefreshAsync();

        Assert.Equal(2, state.Timestamp.Version);
        Assert.Equal(2, state.Root.Version);
    }
}
