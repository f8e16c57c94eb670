using TransparencyLog.Tests.Shared;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Tuf;

namespace TransparencyLog.Cli.Tests.Tuf;

/// <summary>
/// A TUF mirror on loopback serving whatever bytes a test puts at a path (404 otherwise), with the keys of a small
/// repository: one root key, two targets keys (threshold set per test), one online key. Tests publish honest
/// versions, then replace files the way an attacker on the mirror or the network would.
/// </summary>
internal sealed class FakeTufMirror : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeTufMirror(WebApplication app) => _app = app;

    public ConcurrentDictionary<string, byte[]> Files { get; } = new(StringComparer.Ordinal);

    public LogSigner RootKey { get; } = LogSigner.Generate(LogKeyType.EcdsaP256);

    public LogSigner TargetsKeyA { get; } = LogSigner.Generate(LogKeyType.Ed25519);

    public LogSigner TargetsKeyB { get; } = LogSigner.Generate(LogKeyType.EcdsaP256);

    public LogSigner OnlineKey { get; set; } = LogSigner.Generate(LogKeyType.EcdsaP256);

    public int TargetsThreshold { get; set; } = 1;

    public Uri Url => new(_app.Urls.First() + "/tuf/");

    public static DateTimeOffset Now { get; } = DateTimeOffset.UtcNow;

    public static async Task<FakeTufMirror> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var mirror = new FakeTufMirror(app);
        app.MapGet("/tuf/{**path}", (string path) => mirror.Files.TryGetValue(path, out var bytes)
            ? Results.Bytes(bytes, "application/json")
            : Results.NotFound());
        await app.StartAsync();
        return mirror;
    }

    /// <summary>Root <paramref name="version"/> with this mirror's keys, signed by <paramref name="signers"/> (default: the root key).</summary>
    public TufMetadata Root(long version, DateTimeOffset? expires = null, IReadOnlyList<TufKey>? targetsKeys = null, IEnumerable<LogSigner>? signers = null)
    {
        var online = TufKey.FromPublicKey(OnlineKey.PublicKey);
        var root = TufRoot.Build(version, expires ?? Now.AddDays(365), new Dictionary<string, (IReadOnlyList<TufKey>, int)>
        {
            [TufMetadata.Root] = ([TufKey.FromPublicKey(RootKey.PublicKey)], 1),
            [TufMetadata.Targets] = (targetsKeys ?? [TufKey.FromPublicKey(TargetsKeyA.PublicKey), TufKey.FromPublicKey(TargetsKeyB.PublicKey)], TargetsThreshold),
            [TufMetadata.Snapshot] = ([online], 1),
            [TufMetadata.Timestamp] = ([online], 1),
        });
        return Signed(root, signers ?? [RootKey]);
    }

    public TufMetadata Targets(long version, IReadOnlyDictionary<string, byte[]> files, DateTimeOffset? expires = null, IEnumerable<LogSigner>? signers = null) =>
        Signed(
            TufDocuments.BuildTargets(version, expires ?? Now.AddDays(180), files.ToDictionary(
                static f => f.Key,
                static f => new TufTargetFile(f.Value.Length, Convert.ToHexStringLower(SHA256.HashData(f.Value)), null))),
            signers ?? [TargetsKeyA, TargetsKeyB]);

    public TufMetadata Snapshot(long version, long targetsVersion, DateTimeOffset? expires = null) =>
        Signed(TufDocuments.BuildSnapshot(version, expires ?? Now.AddDays(14), targetsVersion), [OnlineKey]);

    public TufMetadata Timestamp(long version, long snapshotVersion, DateTimeOffset? expires = null) =>
        Signed(TufDocuments.BuildTimestamp(version, expires ?? Now.AddDays(7), snapshotVersion), [OnlineKey]);

    /// <summary>Serves one honest repository state: targets, snapshot and timestamp at version <paramref name="version"/>, and the files.</summary>
    public void PublishState(long version, IReadOnlyDictionary<string, byte[]> files)
    {
        Put($"{version}.targets.json", Targets(version, files));
        Put($"{version}.snapshot.json", Snapshot(version, version));
        Put("timestamp.json", Timestamp(version, version));
        foreach (var (name, bytes) in files)
        {
            Files[$"targets/{Convert.ToHexStringLower(SHA256.HashData(bytes))}.{name}"] = bytes;
        }
    }

    public void Put(string path, TufMetadata metadata) => Files[path] = metadata.ToBytes();

    public static TufMetadata Signed(TufMetadata metadata, IEnumerable<LogSigner> signers)
    {
        foreach (var signer in signers)
        {
            metadata.SignAsync(signer).Completed();
        }

        return metadata;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        foreach (var key in new[] { RootKey, TargetsKeyA, TargetsKeyB, OnlineKey })
        {
            key.Dispose();
        }
    }
}
