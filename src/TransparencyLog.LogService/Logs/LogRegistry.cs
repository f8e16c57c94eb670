using System.Security.Cryptography;
using Npgsql;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Logs;

/// <summary>
/// The logs this service serves. At start-up each configured log's row is created if missing, and the configured key
/// is checked against the key the log was created with: a log never changes its key or name (rotation is a new log).
/// </summary>
internal sealed class LogRegistry(NpgsqlDataSource dataSource, TimeProvider time)
{
    private readonly Dictionary<LogKind, LogInstance> _logs = [];

    public LogInstance Get(LogKind kind) =>
        _logs.TryGetValue(kind, out var log) ? log : throw new InvalidOperationException($"log {kind} is not configured");

    public bool TryGet(LogKind kind, out LogInstance? log) => _logs.TryGetValue(kind, out log);

    public IEnumerable<LogInstance> All => _logs.Values;

    public async Task<LogInstance> OpenAsync(LogKind kind, LogOptions options, CancellationToken cancellationToken)
    {
        var label = LogInstance.KindName(kind);
        var signer = LogKeys.Load(options, label);
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

        await using var read = new NpgsqlCommand("SELECT id, kind, tree_id, public_key FROM logs WHERE name = $1", connection);
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

        if (!storedKey.AsSpan().SequenceEqual(signer.PublicKeySpki))
        {
            throw new InvalidOperationException(
                $"log {options.Name} was created with key {Convert.ToHexStringLower(SHA256.HashData(storedKey))[..16]}…, " +
                $"but the configured key is {signer.LogIdHex[..16]}…; a log never changes its key (rotate by starting a new log)");
        }

        if (options.TreeId is { } configured && configured != storedTreeId)
        {
            throw new InvalidOperationException($"log {options.Name} has tree ID {storedTreeId}, not the configured {configured}");
        }

        var instance = new LogInstance(id, options.Name, kind, storedTreeId, signer, options);
        _logs[kind] = instance;
        return instance;
    }

    private static long RandomTreeId()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        return (long)(BitConverter.ToUInt64(bytes) >> 1) | 1;
    }
}
