using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Tuf;

namespace TransparencyLog.LogService.Tests.Tuf;

/// <summary>The repository at /tuf/: what a publish must satisfy, and what clients then download and verify.</summary>
public sealed class TufRepositoryTests : IAsyncLifetime
{
    private TufService _service = null!;
    private TufTestRepository _keys = null!;

    public async Task InitializeAsync()
    {
        _service = await TufService.StartAsync();
        _keys = new TufTestRepository(_service.Online, rootKeys: 3, rootThreshold: 2, targetsKeys: 2, targetsThreshold: 2);
    }

    public async Task DisposeAsync()
    {
        _keys.Dispose();
        await _service.DisposeAsync();
    }

    private HttpClient Client => _service.Client;

    private async Task<(int Status, JsonObject Body)> PublishAsync(JsonObject request, string? token = null)
    {
        using var response = await TufTestRepository.PublishAsync(Client, token ?? _service.Token, request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length > 0 ? JsonNode.Parse(text)!.AsObject() : []);
    }

    private async Task<Dictionary<string, byte[]>> PublishFirstAsync()
    {
        var files = TufTestRepository.SigstoreTargets();
        var root = TufTestRepository.Signed(_keys.BuildRoot(1), _keys.RootKeys.Take(2));
        var targets = TufTestRepository.Signed(TufTestRepository.BuildTargets(1, files), _keys.TargetsKeys);
        var (status, body) = await PublishAsync(TufTestRepository.Request(root, targets, files));
        Assert.True(status == 200, body.ToJsonString());
        return files;
    }

    private async Task<TufTrustedState> RefreshAsync(string cache, byte[]? initialRoot = null)
    {
        if (initialRoot is not null)
        {
            TufUpdater.Bootstrap(cache, initialRoot);
        }

        return await new TufUpdater(Client, new Uri(Client.BaseAddress!, "/tuf/"), cache).RefreshAsync(DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Publish_FirstVersion_ClientVerifiesAndDownloadsEveryTarget()
    {
        var files = await PublishFirstAsync();

        var cache = Path.Combine(_service.Directory, "client");
        var state = await RefreshAsync(cache, await Client.GetByteArrayAsync("/tuf/1.root.json"));
        Assert.Equal(1, state.Targets.Version);
        foreach (var (name, bytes) in files)
        {
            Assert.Equal(bytes, await new TufUpdater(Client, new Uri(Client.BaseAddress!, "/tuf/"), cache).GetTargetAsync(state, name));
        }

        Assert.Equal("Rekor", state.TargetFiles["rekor.pub"].Custom?["sigstore"]?["usage"]?.GetValue<string>());
    }

    [Fact]
    public async Task Get_ConsistentSnapshotNames_ServedWithCachingRules()
    {
        var files = await PublishFirstAsync();

        using var root = await Client.GetAsync("/tuf/1.root.json");
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Contains("immutable", root.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        Assert.Equal(await root.Content.ReadAsByteArrayAsync(), await Client.GetByteArrayAsync("/tuf/root.json"));

        using var next = await Client.GetAsync("/tuf/2.root.json");
        Assert.Equal(HttpStatusCode.NotFound, next.StatusCode);

        using var timestamp = await Client.GetAsync("/tuf/timestamp.json");
        Assert.Equal(HttpStatusCode.OK, timestamp.StatusCode);
        Assert.True(timestamp.Headers.CacheControl?.NoStore);
        var ts = TufMetadata.Parse(await timestamp.Content.ReadAsByteArrayAsync(), TufMetadata.Timestamp);
        var snapshotVersion = TufDocuments.MetaEntry(ts, "snapshot.json").Version;

        using var snapshot = await Client.GetAsync($"/tuf/{snapshotVersion}.snapshot.json");
        Assert.Equal(HttpStatusCode.OK, snapshot.StatusCode);
        Assert.Contains("immutable", snapshot.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        using var targets = await Client.GetAsync("/tuf/1.targets.json");
        Assert.Equal(HttpStatusCode.OK, targets.StatusCode);

        // With consistent snapshots the plain names of snapshot and targets do not exist.
        using var plainSnapshot = await Client.GetAsync("/tuf/snapshot.json");
        Assert.Equal(HttpStatusCode.NotFound, plainSnapshot.StatusCode);

        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(files["trusted_root.json"]));
        using var target = await Client.GetAsync($"/tuf/targets/{sha}.trusted_root.json");
        Assert.Equal(HttpStatusCode.OK, target.StatusCode);
        Assert.Equal(files["trusted_root.json"], await target.Content.ReadAsByteArrayAsync());
        using var wrongName = await Client.GetAsync($"/tuf/targets/{sha}.rekor.pub");
        Assert.Equal(HttpStatusCode.NotFound, wrongName.StatusCode);
    }

    [Fact]
    public async Task Publish_RootRotation_NeedsOldAndNewThresholds()
    {
        await PublishFirstAsync();
        var cache = Path.Combine(_service.Directory, "rotation-client");
        await RefreshAsync(cache, await Client.GetByteArrayAsync("/tuf/1.root.json"));

        // Replace two of the three root keys: v2 needs 2 of the old keys and 2 of the new set.
        var old = _keys.RootKeys.ToList();
        _keys.RootKeys[1] = Sigstore.Keys.LogSigner.Generate(Sigstore.Keys.LogKeyType.EcdsaP256);
        _keys.RootKeys[2] = Sigstore.Keys.LogSigner.Generate(Sigstore.Keys.LogKeyType.Ed25519);
        var onlyNew = TufTestRepository.Signed(_keys.BuildRoot(2), _keys.RootKeys.Skip(1));
        var (status, body) = await PublishAsync(TufTestRepository.Request(onlyNew, null));
        Assert.Equal(422, status);
        Assert.Equal("threshold_not_met", body["code"]?.GetValue<string>());

        var both = TufTestRepository.Signed(_keys.BuildRoot(2), [old[0], old[1], _keys.RootKeys[1]]);
        (status, body) = await PublishAsync(TufTestRepository.Request(both, null));
        Assert.True(status == 200, body.ToJsonString());

        var state = await RefreshAsync(cache);
        Assert.Equal(2, state.Root.Version);
        using var third = await Client.GetAsync("/tuf/3.root.json");
        Assert.Equal(HttpStatusCode.NotFound, third.StatusCode);
        old[1].Dispose();
        old[2].Dispose();
    }

    public static TheoryData<string, string> Refusals => new()
    {
        { "bad-signature", "threshold_not_met" },
        { "below-threshold", "threshold_not_met" },
        { "same-version", "bad_version" },
        { "skipped-version", "bad_version" },
        { "expiring-targets", "expired" },
        { "wrong-bytes", "hash_mismatch" },
        { "unlisted-file", "bad_target" },
        { "missing-file", "bad_target" },
        { "trusted-root-v02", "bad_target" },
        { "root-without-online-key", "threshold_not_met" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Publish_InvalidVersion_RefusedWithReasonAndNothingChanges(string scenario, string code)
    {
        var files = await PublishFirstAsync();
        var before = await Client.GetByteArrayAsync("/tuf/timestamp.json");
        var newFiles = TufTestRepository.SigstoreTargets("https://log2.example");
        JsonObject request;
        switch (scenario)
        {
            case "bad-signature":
                using (var stranger = Sigstore.Keys.LogSigner.Generate(Sigstore.Keys.LogKeyType.EcdsaP256))
                {
                    var targets = TufTestRepository.BuildTargets(2, newFiles);
                    await targets.SignAsync(_keys.TargetsKeys[0]);
                    await targets.SignAsync(stranger);
                    request = TufTestRepository.Request(null, targets, newFiles);
                }

                break;
            case "below-threshold":
                request = TufTestRepository.Request(null, TufTestRepository.Signed(TufTestRepository.BuildTargets(2, newFiles), _keys.TargetsKeys.Take(1)), newFiles);
                break;
            case "same-version":
                request = TufTestRepository.Request(null, TufTestRepository.Signed(TufTestRepository.BuildTargets(1, newFiles), _keys.TargetsKeys), newFiles);
                break;
            case "skipped-version":
                request = TufTestRepository.Request(null, TufTestRepository.Signed(TufTestRepository.BuildTargets(3, newFiles), _keys.TargetsKeys), newFiles);
                break;
            case "expiring-targets":
                request = TufTestRepository.Request(null, TufTestRepository.Signed(TufTestRepository.BuildTargets(2, newFiles, DateTimeOffset.UtcNow.AddDays(3)), _keys.TargetsKeys), newFiles);
                break;
            case "wrong-bytes":
                var tampered = new Dictionary<string, byte[]>(newFiles) { ["rekor.pub"] = [.. newFiles["rekor.pub"].Take(10), .. "x"u8.ToArray(), .. newFiles["rekor.pub"].Skip(11)] };
                request = TufTestRepository.Request(null, TufTestRepository.Signed(TufTestRepository.BuildTargets(2, newFiles), _keys.TargetsKeys), tampered);
                break;
            case "unlisted-file":
                var extra = new Dictionary<string, byte[]>(newFiles) { ["ctfe.pub"] = "x"u8.ToArray() };
                request = TufTestRepository.Request(null, TufTestRepository.Signed(TufTestRepository.BuildTargets(2, newFiles), _keys.TargetsKeys), extra);
                break;
            case "missing-file":
                var listed = new Dictionary<string, byte[]>(newFiles) { ["fulcio.crt.pem"] = "never sent"u8.ToArray() };
                request = TufTestRepository.Request(null, TufTestRepository.Signed(TufTestRepository.BuildTargets(2, listed), _keys.TargetsKeys), newFiles);
                break;
            case "trusted-root-v02":
                var v02 = new Dictionary<string, byte[]>(newFiles)
                {
                    ["trusted_root.json"] = System.Text.Encoding.UTF8.GetBytes(System.Text.Encoding.UTF8.GetString(newFiles["trusted_root.json"])
                        .Replace("application/vnd.dev.sigstore.trustedroot+json;version=0.1", "application/vnd.dev.sigstore.trustedroot.v0.2+json", StringComparison.Ordinal)),
                };
                request = TufTestRepository.Request(null, TufTestRepository.Signed(TufTestRepository.BuildTargets(2, v02), _keys.TargetsKeys), v02);
                break;
            default:
                using (var otherOnline = Sigstore.Keys.LogSigner.Generate(Sigstore.Keys.LogKeyType.EcdsaP256))
                {
                    var keys = new TufTestRepository(otherOnline);
                    keys.RootKeys.Clear();
                    keys.RootKeys.AddRange(_keys.RootKeys);
                    keys.RootThreshold = 2;
                    keys.TargetsKeys.Clear();
                    keys.TargetsKeys.AddRange(_keys.TargetsKeys);
                    keys.TargetsThreshold = 2;
                    request = TufTestRepository.Request(TufTestRepository.Signed(keys.BuildRoot(2), _keys.RootKeys), null);
                }

                break;
        }

        var (status, body) = await PublishAsync(request);

        Assert.Equal(422, status);
        Assert.Equal(code, body["code"]?.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["message"]?.GetValue<string>()));
        Assert.Equal(before, await Client.GetByteArrayAsync("/tuf/timestamp.json"));
        using var next = await Client.GetAsync("/tuf/2.targets.json");
        Assert.Equal(HttpStatusCode.NotFound, next.StatusCode);
        Assert.NotEmpty(files);
    }

    [Fact]
    public async Task Publish_WrongOrMissingToken_Unauthorized()
    {
        var files = TufTestRepository.SigstoreTargets();
        var request = TufTestRepository.Request(
            TufTestRepository.Signed(_keys.BuildRoot(1), _keys.RootKeys), TufTestRepository.Signed(TufTestRepository.BuildTargets(1, files), _keys.TargetsKeys), files);

        var (status, _) = await PublishAsync(request, token: "not-the-token-at-all");
        Assert.Equal(401, status);
        using var response = await Client.PostAsync("/tuf/admin/publish", new StringContent(request.ToJsonString()));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var root = await Client.GetAsync("/tuf/1.root.json");
        Assert.Equal(HttpStatusCode.NotFound, root.StatusCode);
    }

    [Fact]
    public async Task Publish_MalformedBody_BadRequest()
    {
        var (status, body) = await PublishAsync(new JsonObject { ["root"] = "%%% not base64" });
        Assert.Equal(400, status);
        Assert.Equal("bad_request", body["code"]?.GetValue<string>());
    }

    [Fact]
    public async Task Publish_NewSigningConfigServiceTooSoon_Refused()
    {
        var files = await PublishFirstAsync();
        var config = JsonNode.Parse(files["signing_config.v0.2.json"])!.AsObject();
        config["rekorTlogUrls"]!.AsArray().Insert(0, new JsonObject
        {
            ["url"] = "https://log2026.example",
            ["majorApiVersion"] = 2,
            ["validFor"] = new JsonObject { ["start"] = DateTimeOffset.UtcNow.AddDays(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) },
        });
        var changed = new Dictionary<string, byte[]>(files) { ["signing_config.v0.2.json"] = JsonSerializer.SerializeToUtf8Bytes(config) };
        var (status, body) = await PublishAsync(TufTestRepository.Request(null, TufTestRepository.Signed(TufTestRepository.BuildTargets(2, changed), _keys.TargetsKeys), changed));
        Assert.Equal(422, status);
        Assert.Contains("log2026.example", body["message"]?.GetValue<string>(), StringComparison.Ordinal);

        config["rekorTlogUrls"]![0]!["validFor"]!["start"] = DateTimeOffset.UtcNow.AddDays(10).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        changed["signing_config.v0.2.json"] = JsonSerializer.SerializeToUtf8Bytes(config);
        changed["trusted_root.json"] = WithLog(files["trusted_root.json"], "https://log2026.example", DateTimeOffset.UtcNow);
        (status, body) = await PublishAsync(TufTestRepository.Request(null, TufTestRepository.Signed(TufTestRepository.BuildTargets(2, changed), _keys.TargetsKeys), changed));
        Assert.True(status == 200, body.ToJsonString());
    }

    private static byte[] WithLog(byte[] trustedRoot, string baseUrl, DateTimeOffset start)
    {
        using var key = Sigstore.Keys.LogSigner.Generate(Sigstore.Keys.LogKeyType.Ed25519);
        var root = Sigstore.TrustRoot.TrustedRoot.Parse(System.Text.Encoding.UTF8.GetString(trustedRoot));
        return System.Text.Encoding.UTF8.GetBytes((root with
        {
            Tlogs = [.. root.Tlogs, Sigstore.TrustRoot.TrustedRoot.LogFromKey(key.PublicKey, baseUrl, new Sigstore.TrustRoot.ValidityPeriod(start, null))],
        }).ToJson());
    }

    private async Task<(int Status, JsonObject Body)> PublishTargetsAsync(long version, Dictionary<string, byte[]> files) =>
        await PublishAsync(TufTestRepository.Request(null, TufTestRepository.Signed(TufTestRepository.BuildTargets(version, files), _keys.TargetsKeys), files));

    [Fact]
    public async Task Publish_RotationOrderingRules_EachRefusedWithItsRuleThenTheRunbookOrderAccepted()
    {
        var files = await PublishFirstAsync();
        var before = await Client.GetByteArrayAsync("/tuf/timestamp.json");
        var now = DateTimeOffset.UtcNow;
        var config = Sigstore.TrustRoot.SigningConfig.Parse(System.Text.Encoding.UTF8.GetString(files["signing_config.v0.2.json"]));
        var oldLog = config.RekorTlogUrls[0];
        var switchAt = now.AddDays(10);
        var newLog = new Sigstore.TrustRoot.ServiceEndpoint("https://log2027.example", 2, new Sigstore.TrustRoot.ValidityPeriod(switchAt, null), "example");
        byte[] Config(params Sigstore.TrustRoot.ServiceEndpoint[] logs) => System.Text.Encoding.UTF8.GetBytes((config with { RekorTlogUrls = logs }).ToJson());
        var trusted = WithLog(files["trusted_root.json"], "https://log2027.example", now);

        async Task RefusedAsync(string rule, Dictionary<string, byte[]> changed)
        {
            var (status, body) = await PublishTargetsAsync(2, changed);
            Assert.True(status == 422, body.ToJsonString());
            Assert.Equal("bad_target", body["code"]?.GetValue<string>());
            Assert.Contains(rule, body["message"]?.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(before, await Client.GetByteArrayAsync("/tuf/timestamp.json"));
        }

        // R1: the signing config names a log the trusted root does not hold yet.
        await RefusedAsync("R1", new(files) { ["signing_config.v0.2.json"] = Config(newLog, oldLog) });

        // R1 also refuses a trusted-root entry that starts after the signers' switch.
        await RefusedAsync("R1", new(files)
        {
            ["signing_config.v0.2.json"] = Config(newLog, oldLog),
            ["trusted_root.json"] = WithLog(files["trusted_root.json"], "https://log2027.example", switchAt.AddDays(1)),
        });

        // R4: the new signing-config entry is appended instead of prepended.
        await RefusedAsync("R4", new(files) { ["signing_config.v0.2.json"] = Config(oldLog, newLog), ["trusted_root.json"] = trusted });

        // R4: the new trusted-root entry is put before the older one.
        var root = Sigstore.TrustRoot.TrustedRoot.Parse(System.Text.Encoding.UTF8.GetString(trusted));
        var reversed = System.Text.Encoding.UTF8.GetBytes((root with { Tlogs = [.. root.Tlogs.Reverse()] }).ToJson());
        await RefusedAsync("R4", new(files) { ["trusted_root.json"] = reversed });

        // R3: a new log of the same operator and API version replaces the old one, which is left open.
        var sameOperatorOld = oldLog with { Operator = "example" };
        var replacement = new Sigstore.TrustRoot.ServiceEndpoint("https://log2027.example", oldLog.MajorApiVersion, new Sigstore.TrustRoot.ValidityPeriod(switchAt, null), "example");
        await RefusedAsync("R3", new(files) { ["signing_config.v0.2.json"] = Config(replacement, sameOperatorOld), ["trusted_root.json"] = trusted });

        // The runbook order: the log in the trusted root first, the new entry prepended, the old one closed at the switch.
        var closed = sameOperatorOld with { ValidFor = sameOperatorOld.ValidFor with { End = switchAt } };
        var (status, body) = await PublishTargetsAsync(2, new(files) { ["signing_config.v0.2.json"] = Config(replacement, closed), ["trusted_root.json"] = trusted });
        Assert.True(status == 200, body.ToJsonString());
    }

    [Fact]
    public async Task Publish_NewLogSharingAHostWithATrustedLogButNotItsPath_RefusedUntilItsOwnEntryIsTrusted()
    {
        var files = await PublishFirstAsync();
        var before = await Client.GetByteArrayAsync("/tuf/timestamp.json");
        var config = Sigstore.TrustRoot.SigningConfig.Parse(System.Text.Encoding.UTF8.GetString(files["signing_config.v0.2.json"]));
        var now = DateTimeOffset.UtcNow;
        var switchAt = now.AddDays(10);
        var newLog = new Sigstore.TrustRoot.ServiceEndpoint("https://logs.example/2027", 2, new Sigstore.TrustRoot.ValidityPeriod(switchAt, null), "example");
        var changed = new Dictionary<string, byte[]>(files)
        {
            ["signing_config.v0.2.json"] = System.Text.Encoding.UTF8.GetBytes((config with { RekorTlogUrls = [newLog, .. config.RekorTlogUrls] }).ToJson()),

            // The trusted root holds a log on the same host and port, under another path: a different log.
            ["trusted_root.json"] = WithLog(files["trusted_root.json"], "https://logs.example/2026", now),
        };
        var (status, body) = await PublishTargetsAsync(2, changed);
        Assert.True(status == 422, body.ToJsonString());
        Assert.Equal("bad_target", body["code"]?.GetValue<string>());
        Assert.Contains("R1", body["message"]?.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("https://logs.example/2027", body["message"]?.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(before, await Client.GetByteArrayAsync("/tuf/timestamp.json"));

        // Another scheme on the same host and path is another log too.
        changed["trusted_root.json"] = WithLog(files["trusted_root.json"], "http://logs.example/2027", now);
        (status, body) = await PublishTargetsAsync(2, changed);
        Assert.True(status == 422, body.ToJsonString());
        Assert.Contains("R1", body["message"]?.GetValue<string>(), StringComparison.Ordinal);

        // The log's own base URL, written as the scheme-less origin with a trailing slash, is the same log.
        changed["trusted_root.json"] = WithLog(files["trusted_root.json"], "logs.example/2027/", now);
        (status, body) = await PublishTargetsAsync(2, changed);
        Assert.True(status == 200, body.ToJsonString());
    }

    [Theory]
    [InlineData("https://logs.example/2027", "https://logs.example/2027", true)]
    [InlineData("logs.example/2027", "https://logs.example/2027/", true)]
    [InlineData("https://LOGS.example:443/2027", "https://logs.example/2027", true)]
    [InlineData("localhost:3000", "http://localhost:3000", true)]
    [InlineData("logs.example", "http://logs.example:80", true)]
    [InlineData("https://logs.example/2026", "https://logs.example/2027", false)]
    [InlineData("https://logs.example", "https://logs.example/2027", false)]
    [InlineData("http://logs.example/2027", "https://logs.example/2027", false)]
    [InlineData("https://logs.example:8443/2027", "https://logs.example/2027", false)]
    [InlineData("https://other.example/2027", "https://logs.example/2027", false)]
    public void SameBaseUrl_SchemeHostPortAndPath_ComparedAsOneLog(string trustedRoot, string signingConfig, bool same) =>
        Assert.Equal(same, LogService.Tuf.TrustOrderRules.SameBaseUrl(trustedRoot, signingConfig));
}
