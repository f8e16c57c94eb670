using System.Collections.Concurrent;
using System.Security.Cryptography;
using Npgsql;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Logs;

/// <summary>
/// The logs this service serves. At start-up each configured log's row is created if missing, and the configured key
/// is checked against the key the log was created with: a log never changes its key or name (rotation is a new log,
/// or for Rekor v1 a new shard: <see cref="RekorShards"/>).
/// </summary>
internal sealed class LogRegistry(NpgsqlDataSource dataSource, TimeProvider time)
{
    private readonly ConcurrentDictionary<LogKind, LogInstance> _logs = [];
    private readonly ConcurrentDictionary<string, LogInstance> _periods = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _shardRefresh = new(1, 1);
    private LogOptions? _rekorOptions;

    /// <summary>The frozen Rekor v1 shards, oldest first (each with its final size in <see cref="RekorShard"/>).</summary>
    public IReadOnlyList<RekorShard> FrozenRekorShards { get; private set; } = [];

    /// <summary>Every Rekor v1 shard, oldest first, the active one last.</summary>
    public IReadOnlyList<LogInstance> RekorShards =>
        [.. FrozenRekorShards.Select(s => s.Log), .. _logs.TryGetValue(LogKind.RekorV1, out var active) ? [active] : Array.Empty<LogInstance>()];

    public LogInstance Get(LogKind kind) =>
        _logs.TryGetValue(kind, out var log) ? log : throw new InvalidOperationException($"log {kind} is not configured");

    public bool TryGet(LogKind kind, out LogInstance? log) => _logs.TryGetValue(kind, out log);

    /// <summary>Every log this process serves: one per kind, then the Rekor v2 period logs by path.</summary>
    public IEnumerable<LogInstance> All => _logs.Values.Concat(RekorV2Periods.Select(static p => p.Log));

    /// <summary>
    /// The Rekor v2 period logs (<c>Logs:RekorV2Periods</c>), each served under <c>/{path}/api/v2</c>, ordered by path.
    /// </summary>
    public IReadOnlyList<RekorV2Period> RekorV2Periods =>
        [.. _periods.OrderBy(static p => p.Key, StringComparer.Ordinal).Select(static p => new RekorV2Period(p.Key, p.Value))];

    /// <summary>The Rekor v2 period log served under <c>/{path}/api/v2</c>.</summary>
    public LogInstance GetPeriod(string path) =>
        _periods.TryGetValue(path, out var log) ? log : throw new InvalidOperationException($"Rekor v2 period log {path} is not open");

    public bool TryGetPeriod(string path, out LogInstance? log) => _periods.TryGetValue(path, out log);

    /// <summary>Opens (creating it when new) the Rekor v2 period log served under <c>/{path}/api/v2</c>.</summary>
    public async Task<LogInstance> OpenPeriodAsync(string path, LogOptions options, CancellationToken cancellationToken)
    {
        if (_logs.TryGetValue(LogKind.RekorV2, out var unnamed) && unnamed.Name == options.Name
            || _periods.Any(p => p.Key != path && p.Value.Name == options.Name))
        {
            throw new InvalidOperationException($"Rekor v2 period log {path}: the name {options.Name} is another log's; every log needs its own name (its checkpoint origin)");
        }

        // Its own development key file (rekor-v2-PATH-key.pem), so period logs sharing a state directory never share a key.
        var log = await CreateOrOpenAsync(LogKind.RekorV2, options, cancellationToken, periodPath: path);
        _periods[path] = log;
        return log;
    }

    public async Task<LogInstance> OpenAsync(LogKind kind, LogOptions options, CancellationToken cancellationToken)
    {
        var instance = await CreateOrOpenAsync(kind, options, cancellationToken);
        _logs[kind] = instance;
        if (kind == LogKind.RekorV1)
        {
            _rekorOptions = options;
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            FrozenRekorShards = await ReadFrozenShardsAsync(connection, options, cancellationToken);
        }

        return instance;
    }

    private async Task<LogInstance> CreateOrOpenAsync(LogKind kind, LogOptions options, CancellationToken cancellationToken, string? periodPath = null)
    {
        var label = LogInstance.KindName(kind);
        var signer = LogKeys.Load(options, periodPath is null ? label : $"{label}-{periodPath}");
        var treeId = options.TreeId ?? RandomTreeId();

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var create = new NpgsqlCommand("SELECT log_create($1, $2, $3, $4, $5, $6)", connection))
        {
            // The empty tree's checkpoint is signed up front so a new log has a tree head from its first moment.
            var now = time.GetUtcNow();
            var probe = new LogInstance(0, options.Name, kind, treeId, signer, options);
            create.Parameters.AddWithValue(options.Name);
            create.Parameters.AddWithValue(label);
            create.Parameters.AddWithValue(treeId);
            create.Parameters.AddWithValue(signer.PublicKeySpki);
            create.Parameters.AddWithValue(await probe.SignCheckpointAsync(0, Rfc6962.EmptyRoot, now, cancellationToken));
            create.Parameters.AddWithValue(now);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var read = new NpgsqlCommand("SELECT id, kind, tree_id, public_key, shard_start FROM logs WHERE name = $1 AND frozen_at IS NULL", connection);
        read.Parameters.AddWithValue(options.Name);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException($"log {options.Name} could not be created");
        }

        var id = reader.GetInt32(0);
        var storedKind = reader.GetString(1);
        var storedTreeId = reader.GetInt64(2);
        var storedKey = (byte[])reader[3];
        if (storedKind != label)
        {
            throw new InvalidOperationException($"log {options.Name} exists as a {storedKind} log, not {label}");
        }

        var shardStart = reader.GetInt64(4);
        if (!storedKey.AsSpan().SequenceEqual(signer.PublicKeySpki) && kind == LogKind.RekorV1
            && LogKeys.FindShardKey(options, storedTreeId, storedKey) is { } shardKey)
        {
            // A rotated Rekor v1 log: the active shard signs with the staged next key (or its development key).
            signer.Dispose();
            signer = shardKey;
        }

        if (!storedKey.AsSpan().SequenceEqual(signer.PublicKeySpki))
        {
            throw new InvalidOperationException(
                $"log {options.Name} was created with key {Convert.ToHexStringLower(SHA256.HashData(storedKey))[..16]}…, " +
                $"but the configured key is {signer.LogIdHex[..16]}…; a log never changes its key (rotate by starting a new log)");
        }

        if (options.TreeId is { } configured && configured != storedTreeId && shardStart == 0)
        {
            throw new InvalidOperationException($"log {options.Name} has tree ID {storedTreeId}, not the configured {configured}");
        }

        return new LogInstance(id, options.Name, kind, storedTreeId, signer, options) { ShardStart = shardStart, PeriodPath = periodPath };
    }

    /// <summary>
    /// Follows a shard rotation (<c>shard rotate</c>, possibly run while this process serves): when the active Rekor v1
    /// shard is no longer the one this process appends to, loads the new shard's key (the staged next key or its
    /// development key) and switches. Returns the active shard; unchanged when the new shard's key is not available
    /// (appends are then refused with the reason, reads keep working).
    /// </summary>
    public async Task<LogInstance> RefreshRekorShardsAsync(CancellationToken cancellationToken)
    {
        var options = _rekorOptions ?? throw new InvalidOperationException("the Rekor v1 log is not open");
        await _shardRefresh.WaitAsync(cancellationToken);
        try
        {
            var current = Get(LogKind.RekorV1);
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using (var read = new NpgsqlCommand("SELECT id, tree_id, public_key, shard_start FROM logs WHERE name = $1 AND frozen_at IS NULL", connection))
            {
                read.Parameters.AddWithValue(options.Name);
                await using var reader = await read.ExecuteReaderAsync(cancellationToken);
                if (!await reader.ReadAsync(cancellationToken) || reader.GetInt32(0) == current.Id)
                {
                    return current;
                }

                var (id, treeId, spki, start) = (reader.GetInt32(0), reader.GetInt64(1), (byte[])reader[2], reader.GetInt64(3));
                var signer = LogKeys.FindShardKey(options, treeId, spki);
                if (signer is null)
                {
                    ActiveShardUnavailable = $"the active Rekor v1 shard (tree {treeId}) is not served by this process: its key is not configured (Logs:Rekor:NextPrivateKeyPath)";
                    return current;
                }

                await reader.DisposeAsync();
                FrozenRekorShards = await ReadFrozenShardsAsync(connection, options, cancellationToken);
                var active = new LogInstance(id, options.Name, LogKind.RekorV1, treeId, signer, options) { ShardStart = start };
                _logs[LogKind.RekorV1] = active;
                ActiveShardUnavailable = null;
                return active;
            }
        }
        finally
        {
            _shardRefresh.Release();
        }
    }

    /// <summary>Why appends cannot go to the active Rekor v1 shard, when a rotation left this process without its key.</summary>
    public string? ActiveShardUnavailable { get; private set; }

    /// <summary>The Rekor v1 shard holding a global index (frozen shards by their final size, the active one from its start).</summary>
    public (LogInstance Log, long LocalIndex)? ShardOf(long globalIndex)
    {
        foreach (var shard in FrozenRekorShards)
        {
            if (globalIndex >= shard.Log.ShardStart && globalIndex < shard.Log.ShardStart + shard.Size)
            {
                return (shard.Log, globalIndex - shard.Log.ShardStart);
            }
        }

        var active = Get(LogKind.RekorV1);
        return globalIndex >= active.ShardStart ? (active, globalIndex - active.ShardStart) : null;
    }

    private static async Task<IReadOnlyList<RekorShard>> ReadFrozenShardsAsync(NpgsqlConnection connection, LogOptions options, CancellationToken cancellationToken)
    {
        await using var read = new NpgsqlCommand(
            "SELECT id, tree_id, public_key, shard_start, tree_size, frozen_at FROM logs WHERE name = $1 AND kind = 'rekor-v1' AND frozen_at IS NOT NULL ORDER BY shard_start, id",
            connection);
        read.Parameters.AddWithValue(options.Name);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        var shards = new List<RekorShard>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var signer = LogSigner.FromSigner(new FrozenShardKey((byte[])reader[2]));
            var log = new LogInstance(reader.GetInt32(0), options.Name, LogKind.RekorV1, reader.GetInt64(1), signer, options)
            {
                ShardStart = reader.GetInt64(3),
                FrozenAt = reader.GetFieldValue<DateTimeOffset>(5),
            };
            shards.Add(new RekorShard(log, reader.GetInt64(4)));
        }

        return shards;
    }

    internal static long RandomTreeId()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        return (long)(BitConverter.ToUInt64(bytes) >> 1) | 1;
    }
}

/// <summary>A Rekor v2 period log and the path segment it is served under (<c>/{Path}/api/v2</c>).</summary>
internal sealed record RekorV2Period(string Path, LogInstance Log);

/// <summary>A frozen Rekor v1 shard and its final size (its head never moves again).</summary>
internal sealed record RekorShard(LogInstance Log, long Size);
