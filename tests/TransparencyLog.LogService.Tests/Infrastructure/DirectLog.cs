using TransparencyLog.Tests.Shared;
using System.Security.Cryptography;
using Npgsql;
using NpgsqlTypes;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.LogService.Tests.Infrastructure;

/// <summary>
/// A log written the way the sequencer writes one, but straight through the database's append functions as the
/// service role: each batch's entries, the tiles they change (from <see cref="TreeEdge"/>), and a checkpoint signed
/// with a real key. Tests use it to build logs of every kind quickly, and to alter one argument of an otherwise
/// valid batch and see the database refuse it.
/// </summary>
internal sealed class DirectLog : IDisposable
{
    private readonly string _appConnection;
    private readonly List<Hash> _leaves = [];
    private readonly LogSigner _signer;

    private DirectLog(string appConnection, LogInstance instance, LogSigner signer)
    {
        _appConnection = appConnection;
        Instance = instance;
        _signer = signer;
    }

    public LogInstance Instance { get; }

    public int Id => Instance.Id;

    public long Size => _leaves.Count;

    public static async Task<DirectLog> CreateAsync(string appConnection, string name, LogKind kind)
    {
        var signer = LogSigner.Generate(kind == LogKind.RekorV2 ? LogKeyType.Ed25519 : LogKeyType.EcdsaP256);
        var treeId = RandomNumberGenerator.GetInt32(1, int.MaxValue);
        var probe = new LogInstance(0, name, kind, treeId, signer, new LogOptions { Name = name });
        await using var connection = new NpgsqlConnection(appConnection);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("SELECT log_create($1, $2, $3, $4, $5, $6)", connection))
        {
            create.Parameters.AddWithValue(name);
            create.Parameters.AddWithValue(LogInstance.KindName(kind));
            create.Parameters.AddWithValue((long)treeId);
            create.Parameters.AddWithValue(signer.PublicKeySpki);
            create.Parameters.AddWithValue(await probe.SignCheckpointAsync(0, Rfc6962.EmptyRoot, DateTimeOffset.UtcNow, CancellationToken.None));
            create.Parameters.AddWithValue(DateTimeOffset.UtcNow);
            await create.ExecuteNonQueryAsync();
        }

        await using var read = new NpgsqlCommand("SELECT id FROM logs WHERE name = $1", connection);
        read.Parameters.AddWithValue(name);
        var id = (int)(await read.ExecuteScalarAsync() ?? throw new InvalidOperationException("log not created"));
        return new DirectLog(appConnection, new LogInstance(id, name, kind, treeId, signer, new LogOptions { Name = name }), signer);
    }

    /// <summary>The arguments of the next batch of <paramref name="count"/> fresh entries, not yet written.</summary>
    public Batch Next(int count)
    {
        var bodies = Enumerable.Range(0, count).Select(_ => RandomNumberGenerator.GetBytes(40)).ToArray();
        var leaves = bodies.Select(b => Rfc6962.HashLeaf(b)).ToArray();
        var edge = TreeEdge.Empty;
        edge.Append(_leaves.ToArray());
        var touched = edge.Append(leaves);
        var size = edge.Size;
        return new Batch
        {
            Leaves = leaves,
            Indices = Enumerable.Range(0, count).Select(i => Size + i).ToArray(),
            Bodies = bodies,
            TileLevels = touched.Select(t => (short)t.Tile.Level).ToArray(),
            TileIndices = touched.Select(t => t.Tile.Index).ToArray(),
            TileHashes = touched.Select(t => TileStore.Encode(t.Entries)).ToArray(),
            SearchKeys = ["sha256:" + Convert.ToHexStringLower(bodies[0][..32])],
            SearchIndices = [Size],
            Root = edge.Root.ToArray(),
            Checkpoint = Instance.SignCheckpointAsync(size, edge.Root, DateTimeOffset.UtcNow, CancellationToken.None).Completed(),
        };
    }

    /// <summary>A checkpoint for any size and root, signed with this log's key (valid signature, maybe wrong content).</summary>
    public string Sign(long size, Hash root) => Instance.SignCheckpointAsync(size, root, DateTimeOffset.UtcNow, CancellationToken.None).Completed();

    /// <summary>
    /// Writes a batch through <c>log_append</c> (to this log, or to the log id <paramref name="logId"/> names); on
    /// success the log remembers its leaves.
    /// </summary>
    public async Task WriteAsync(Batch batch, int? logId = null)
    {
        await using var connection = new NpgsqlConnection(_appConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT log_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)", connection);
        AddAppendParameters(command, batch, logId ?? Id, DateTimeOffset.UtcNow);
        await command.ExecuteNonQueryAsync();
        _leaves.AddRange(batch.Leaves);
    }

    /// <summary>The root of the entries written so far (the head a predicted batch expects).</summary>
    public Hash HeadRoot
    {
        get
        {
            var edge = TreeEdge.Empty;
            edge.Append(_leaves.ToArray());
            return edge.Root;
        }
    }

    /// <summary>The leaves written so far, in index order.</summary>
    public IReadOnlyList<Hash> Leaves => _leaves;

    /// <summary>
    /// Writes a batch as the pipelined sequencer does, through <c>log_append_predicted</c> after <c>log_lock_head</c>
    /// in one transaction: the new size, or null when the guard refused and nothing was written. With
    /// <paramref name="uniqueKeys"/>, migration 0014's overload, which also refuses when one of them is logged.
    /// </summary>
    public async Task<long?> WritePredictedAsync(Batch batch, long expectedSize, Hash expectedRoot, IEnumerable<Hash> probed, DateTimeOffset signedAt, string[]? uniqueKeys = null)
    {
        await using var connection = new NpgsqlConnection(_appConnection);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var lockHead = new NpgsqlCommand("SELECT tree_size FROM log_lock_head($1)", connection, transaction))
        {
            lockHead.Parameters.AddWithValue(Id);
            await lockHead.ExecuteScalarAsync();
        }

        await using var command = new NpgsqlCommand(
            uniqueKeys is null
                ? "SELECT log_append_predicted($17, $18, $19, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
                : "SELECT log_append_predicted($17, $18, $19, $20, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            connection, transaction);
        AddAppendParameters(command, batch, Id, signedAt);
        command.Parameters.AddWithValue(expectedSize);
        command.Parameters.AddWithValue(expectedRoot.ToArray());
        command.Parameters.Add(Array(probed.Select(static h => h.ToArray()).ToArray(), NpgsqlDbType.Bytea));
        if (uniqueKeys is not null)
        {
            command.Parameters.Add(Array(uniqueKeys, NpgsqlDbType.Text));
        }

        var result = await command.ExecuteScalarAsync();
        await transaction.CommitAsync();
        if (result is long size)
        {
            _leaves.AddRange(batch.Leaves);
            return size;
        }

        return null;
    }

    private static void AddAppendParameters(NpgsqlCommand command, Batch batch, int logId, DateTimeOffset signedAt)
    {
        var n = batch.Indices.Length;
        command.Parameters.AddWithValue(logId);
        command.Parameters.Add(Array(batch.Indices, NpgsqlDbType.Bigint));
        command.Parameters.Add(Array(batch.Bodies, NpgsqlDbType.Bytea));
        command.Parameters.Add(Array(Enumerable.Repeat("hashedrekord", n).ToArray(), NpgsqlDbType.Text));
        command.Parameters.Add(Array(Enumerable.Repeat("0.0.1", n).ToArray(), NpgsqlDbType.Text));
        command.Parameters.Add(Array(new byte[]?[n], NpgsqlDbType.Bytea));
        command.Parameters.Add(Array(new byte[]?[n], NpgsqlDbType.Bytea));
        command.Parameters.AddWithValue(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        command.Parameters.Add(Array(batch.TileLevels, NpgsqlDbType.Smallint));
        command.Parameters.Add(Array(batch.TileIndices, NpgsqlDbType.Bigint));
        command.Parameters.Add(Array(batch.TileHashes, NpgsqlDbType.Bytea));
        command.Parameters.Add(Array(batch.SearchKeys, NpgsqlDbType.Text));
        command.Parameters.Add(Array(batch.SearchIndices, NpgsqlDbType.Bigint));
        command.Parameters.AddWithValue(batch.Root);
        command.Parameters.AddWithValue(batch.Checkpoint);
        command.Parameters.AddWithValue(signedAt);
    }

    /// <summary>Appends <paramref name="count"/> entries in batches of the given sizes, cycling through them.</summary>
    public async Task AppendAsync(int count, params int[] batchSizes)
    {
        for (int written = 0, batch = 0; written < count; batch++)
        {
            var size = Math.Min(count - written, batchSizes[batch % batchSizes.Length]);
            await WriteAsync(Next(size));
            written += size;
        }
    }

    public void Dispose() => _signer.Dispose();

    private static NpgsqlParameter Array(object values, NpgsqlDbType type) => new() { Value = values, NpgsqlDbType = NpgsqlDbType.Array | type };

    /// <summary>The arguments of one <c>log_append</c> call; tests alter one of them.</summary>
    internal sealed class Batch
    {
        public required Hash[] Leaves { get; init; }

        public required long[] Indices { get; set; }

        public required byte[][] Bodies { get; set; }

        public required short[] TileLevels { get; set; }

        public required long[] TileIndices { get; set; }

        public required byte[][] TileHashes { get; set; }

        public required string[] SearchKeys { get; set; }

        public required long[] SearchIndices { get; set; }

        public required byte[] Root { get; set; }

        public required string Checkpoint { get; set; }
    }
}
