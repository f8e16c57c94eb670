using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Witness.Tests.Infrastructure;

/// <summary>
/// A fresh database and one running witness for a test class, configured for a set of in-memory logs: each test uses
/// its own log (its own origin), so tests never share witness state.
/// </summary>
public sealed class WitnessFixture : IAsyncLifetime
{
    private readonly Dictionary<string, TestLog> _logs = new(StringComparer.Ordinal);
    private WitnessProcess? _witness;
    private TestDatabase? _database;

    internal WitnessProcess Witness => _witness ?? throw new InvalidOperationException("not started");

    internal string AppConnectionString { get; private set; } = "";

    internal string AdminConnectionString { get; private set; } = "";

    internal string KeyDirectory { get; } = Directory.CreateTempSubdirectory("tlog-witness-").FullName;

    internal CosignatureVerifierKey WitnessKey { get; private set; } = null!;

    internal List<WitnessProcess.LogConfig> Configs { get; } = [];

    /// <summary>The log named <paramref name="name"/>; its origin is unique to this fixture.</summary>
    internal TestLog Log(string name) => _logs[name];

    public async Task InitializeAsync()
    {
        foreach (var name in new[] { "good", "tampered", "fork", "rollback", "stale", "zero", "forged", "malformed", "recover", "metrics", "immutable", "moved" })
        {
            Add(name, new TestLog($"{name}.log.test/{Guid.NewGuid():N}"));
        }

        foreach (var name in new[] { "race", "parallel" })
        {
            Add(name, new TestLog($"{name}.log.test/{Guid.NewGuid():N}"), burst: 10_000);
        }

        // A Rekor v1-shaped log: ECDSA key, origin "<host> - <treeID>", a Timestamp extension line on each checkpoint.
        Add("rekor-v1", new TestLog("rekor.log.test - 1234567", LogKeyType.EcdsaP256, "rekor.log.test"));
        Add("limited", new TestLog($"limited.log.test/{Guid.NewGuid():N}"), burst: 2, rate: 0.0001);

        _database = await PostgresServer.CreateDatabaseAsync("witness");
        (AdminConnectionString, AppConnectionString) = _database;
        _witness = await WitnessProcess.StartAsync(AppConnectionString, KeyDirectory, Configs);
        WitnessKey = CosignatureVerifierKey.Parse((await Witness.Client.GetStringAsync("/verifier-key")).Trim());
    }

    /// <summary>A second witness process on the same database and key (two replicas of one witness).</summary>
    internal Task<WitnessProcess> StartReplicaAsync() => WitnessProcess.StartAsync(AppConnectionString, KeyDirectory, Configs);

    public async Task DisposeAsync()
    {
        if (_witness is not null)
        {
            await _witness.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        foreach (var log in _logs.Values)
        {
            log.Dispose();
        }

        Directory.Delete(KeyDirectory, recursive: true);
    }

    private void Add(string name, TestLog log, int? burst = null, double? rate = null)
    {
        _logs[name] = log;
        Configs.Add(new WitnessProcess.LogConfig(log.Origin, log.VerifierKey, burst, rate));
    }
}
