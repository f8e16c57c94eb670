using TransparencyLog.Tests.Shared;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Tuf;

namespace TransparencyLog.LogService.Tests.Tuf;

/// <summary>A key holder's side of a ceremony in a test: offline keys, staged metadata, publish requests.</summary>
internal sealed class TufTestRepository : IDisposable
{
    public TufTestRepository(LogSigner online, int rootKeys = 1, int rootThreshold = 1, int targetsKeys = 1, int targetsThreshold = 1)
    {
        Online = online;
        RootKeys = [.. Enumerable.Range(0, rootKeys).Select(i => LogSigner.Generate(i % 2 == 0 ? LogKeyType.EcdsaP256 : LogKeyType.Ed25519))];
        TargetsKeys = [.. Enumerable.Range(0, targetsKeys).Select(i => LogSigner.Generate(i % 2 == 0 ? LogKeyType.Ed25519 : LogKeyType.EcdsaP256))];
        RootThreshold = rootThreshold;
        TargetsThreshold = targetsThreshold;
    }

    public LogSigner Online { get; }

    public List<LogSigner> RootKeys { get; }

    public List<LogSigner> TargetsKeys { get; }

    public int RootThreshold { get; set; }

    public int TargetsThreshold { get; set; }

    public static DateTimeOffset Now => DateTimeOffset.UtcNow;

    public TufMetadata BuildRoot(long version, DateTimeOffset? expires = null) => TufRoot.Build(version, expires ?? Now.AddDays(365), new Dictionary<string, (IReadOnlyList<TufKey>, int)>
    {
        [TufMetadata.Root] = (Keys(RootKeys), RootThreshold),
        [TufMetadata.Targets] = (Keys(TargetsKeys), TargetsThreshold),
        [TufMetadata.Snapshot] = ([TufKey.FromPublicKey(Online.PublicKey)], 1),
        [TufMetadata.Timestamp] = ([TufKey.FromPublicKey(Online.PublicKey)], 1),
    });

    public static TufMetadata BuildTargets(long version, IReadOnlyDictionary<string, byte[]> files, DateTimeOffset? expires = null) =>
        TufDocuments.BuildTargets(version, expires ?? Now.AddDays(180), files.ToDictionary(
            static f => f.Key,
            static f => new TufTargetFile(f.Value.Length, Convert.ToHexStringLower(SHA256.HashData(f.Value)), f.Key.EndsWith(".pub", StringComparison.Ordinal)
                ? new JsonObject { ["sigstore"] = new JsonObject { ["usage"] = "Rekor", ["status"] = "Active" } }
                : null)));

    public static TufMetadata Signed(TufMetadata metadata, IEnumerable<LogSigner> keys)
    {
        foreach (var key in keys)
        {
            metadata.SignAsync(key).Completed();
        }

        return metadata;
    }

    /// <summary>The three Sigstore targets of a small deployment.</summary>
    public static Dictionary<string, byte[]> SigstoreTargets(string marker = "https://log.example")
    {
        using var log = LogSigner.Generate(LogKeyType.EcdsaP256);
        var start = new ValidityPeriod(Now.AddMinutes(-1), null);
        var root = new TrustedRoot(TrustedRoot.MediaTypeV01, [TrustedRoot.LogFromKey(log.PublicKey, marker, start)], [], [], []);
        var config = new SigningConfig([new ServiceEndpoint("https://ca.example", 1, start)], [], [new ServiceEndpoint(marker, 1, start)], ServiceSelector.Any, [], ServiceSelector.Any);
        return new Dictionary<string, byte[]>
        {
            ["trusted_root.json"] = Encoding.UTF8.GetBytes(root.ToJson()),
            ["signing_config.v0.2.json"] = Encoding.UTF8.GetBytes(config.ToJson()),
            ["rekor.pub"] = Encoding.UTF8.GetBytes(log.PublicKeyPem),
        };
    }

    public static JsonObject Request(TufMetadata? root, TufMetadata? targets, IReadOnlyDictionary<string, byte[]>? files = null)
    {
        var body = new JsonObject();
        if (root is not null)
        {
            body["root"] = Convert.ToBase64String(root.ToBytes());
        }

        if (targets is not null)
        {
            body["targets"] = Convert.ToBase64String(targets.ToBytes());
        }

        var filesNode = new JsonObject();
        foreach (var (name, bytes) in files ?? new Dictionary<string, byte[]>())
        {
            filesNode[name] = Convert.ToBase64String(bytes);
        }

        body["files"] = filesNode;
        return body;
    }

    public static async Task<HttpResponseMessage> PublishAsync(HttpClient client, string token, JsonObject request)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "/tuf/admin/publish") { Content = JsonContent.Create(request) };
        message.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(message);
    }

    private static List<TufKey> Keys(IEnumerable<LogSigner> signers) => [.. signers.Select(static s => TufKey.FromPublicKey(s.PublicKey))];

    public void Dispose()
    {
        foreach (var key in RootKeys.Concat(TargetsKeys))
        {
            key.Dispose();
        }
    }
}
