using Npgsql;
using TransparencyLog.LogService.Integrity;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Tests.Storage;

/// <summary>A migrated database whose logs the tests write as the service role, without a running service.</summary>
public sealed class AppendPathFixture : IAsyncLifetime
{
    internal string Admin { get; private set; } = "";

    internal string App { get; private set; } = "";

    private TestDatabase? _database;

    public async Task InitializeAsync()
    {
        _database = await PostgresServer.CreateDatabaseAsync("append");
        (Admin, App) = _database;
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}

/// <summary>
/// The service role can only extend a log consistently: every direct write is refused, and the append functions
/// refuse a batch that is off by one index, one tile hash or one checkpoint line.
/// </summary>
public sealed class AppendPathTests(AppendPathFixture database) : IClassFixture<AppendPathFixture>
{
    [Fact]
    public async Task AppendFunction_ConsistentBatches_ExtendTheLogAndPassFsck()
    {
        using var log = await DirectLog.CreateAsync(database.App, "consistent-" + Guid.NewGuid().ToString("N")[..8], LogKind.RekorV1);

        // 600 entries in uneven batches: tiles fill and cross, and level 1 gains the roots of two full tiles.
        await log.AppendAsync(600, 1, 99, 200, 300);

        var (size, checkpoints) = await HeadAsync(log.Id);
        Assert.Equal(600, size);
        Assert.Equal(4, checkpoints);
        await AssertFullyConsistentAsync(log.Id, 600);
    }

    [Theory]
    [InlineData("UPDATE logs SET tree_size = tree_size + 5, root_hash = sha256(root_hash) WHERE id = {LOG}")]
    [InlineData("UPDATE logs SET checkpoint = 'forged' WHERE id = {LOG}")]
    [InlineData("UPDATE logs SET checkpoint_time = now() WHERE id = {LOG}")]
    [InlineData("UPDATE tiles SET hashes = hashes || decode(repeat('00', 32), 'hex') WHERE log_id = {LOG}")]
    [InlineData("INSERT INTO tiles (log_id, level, idx, hashes) VALUES ({LOG}, 0, 99, decode(repeat('00', 32), 'hex'))")]
    [InlineData("INSERT INTO entries (log_id, idx, leaf_hash, body, integrated_time, kind, api_version) SELECT {LOG}, tree_size + 3, sha256('\\x0078'::bytea), 'x'::bytea, 0, 'k', 'v' FROM logs WHERE id = {LOG}")]
    [InlineData("INSERT INTO entries (log_id, idx, leaf_hash, body, integrated_time, kind, api_version) SELECT {LOG}, tree_size, sha256('\\x0078'::bytea), 'x'::bytea, 0, 'k', 'v' FROM logs WHERE id = {LOG}")]
    [InlineData("INSERT INTO checkpoints (log_id, tree_size, root_hash, note, signed_at) VALUES ({LOG}, 1000000, sha256(''::bytea), 'x', now())")]
    [InlineData("INSERT INTO search_index (log_id, key, idx) VALUES ({LOG}, 'sha256:00', 3)")]
    [InlineData("INSERT INTO logs (name, kind, tree_id, public_key, tree_size, root_hash, checkpoint, checkpoint_time) VALUES ('x', 'ct', 1, '\\x00', 7, sha256(''::bytea), 'x', now())")]
    [InlineData("SELECT * FROM logs WHERE id = {LOG} FOR UPDATE")]
    public async Task ServiceRole_DirectWrite_IsRefused(string sql)
    {
        using var log = await DirectLog.CreateAsync(database.App, "direct-" + Guid.NewGuid().ToString("N")[..8], LogKind.RekorV1);
        await log.AppendAsync(20, 20);
        var before = await HeadAsync(log.Id);

        await using var connection = new NpgsqlConnection(database.App);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql.Replace("{LOG}", log.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), connection);
        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
        Assert.Equal(before, await HeadAsync(log.Id));
    }

    [Theory]
    [InlineData("entry-beyond-head")]
    [InlineData("entry-at-old-index")]
    [InlineData("entries-out-of-order")]
    [InlineData("zero-hash-appended-to-tile")]
    [InlineData("tile-hash-not-the-leaf")]
    [InlineData("level-1-hash-not-the-tile-root")]
    [InlineData("tile-wider-than-entries")]
    [InlineData("tiles-missing")]
    [InlineData("checkpoint-for-another-size")]
    [InlineData("checkpoint-for-another-root")]
    [InlineData("checkpoint-of-another-log")]
    [InlineData("root-differs-from-checkpoint")]
    [InlineData("search-key-for-an-old-entry")]
    public async Task AppendFunction_InconsistentBatch_IsRefusedAndChangesNothing(string damage)
    {
        using var log = await DirectLog.CreateAsync(database.App, "damage-" + Guid.NewGuid().ToString("N")[..8], LogKind.RekorV1);
        await log.AppendAsync(250, 250);
        var before = await HeadAsync(log.Id);

        // The next batch takes the log from 250 to 260: level-0 tile 0 fills, tile 1 starts, level 1 gets its first hash.
        var batch = log.Next(10);
        var original = (batch.Indices, batch.TileLevels, batch.TileIndices, batch.TileHashes, batch.Checkpoint, batch.Root, batch.SearchIndices);
        Damage(batch, damage, log);

        var error = await Assert.ThrowsAsync<PostgresException>(() => log.WriteAsync(batch));
        Assert.Equal(PostgresErrorCodes.IntegrityConstraintViolation, error.SqlState);
        Assert.Equal(before, await HeadAsync(log.Id));

        // The same batch undamaged is accepted: the refusal was the damage's, not the batch's.
        (batch.Indices, batch.TileLevels, batch.TileIndices, batch.TileHashes, batch.Checkpoint, batch.Root, batch.SearchIndices) = original;
        await log.WriteAsync(batch);
        Assert.Equal(260, (await HeadAsync(log.Id)).Size);
    }

    /// <summary>
    /// The pipelined sequencer's write (migrations 0012, 0013): written only if the locked head is the prediction, no probed
    /// leaf is logged and no later checkpoint time is stored; otherwise NULL and nothing changes, and the same batch with
    /// a true prediction is written.
    /// </summary>
    [Theory]
    [InlineData("size-behind")]
    [InlineData("size-ahead")]
    [InlineData("other-root")]
    [InlineData("leaf-already-logged")]
    [InlineData("older-checkpoint-time")]
    [InlineData("none")]
    public async Task PredictedAppend_GuardFails_WritesNothingAndAnswersNull(string wrong)
    {
        using var log = await DirectLog.CreateAsync(database.App, "predicted-" + Guid.NewGuid().ToString("N")[..8], LogKind.RekorV1);
        await log.AppendAsync(250, 250);
        var before = await HeadAsync(log.Id);
        var root = log.HeadRoot;
        var logged = log.Leaves[17];
        var batch = log.Next(10);

        var size = wrong switch { "size-behind" => 249L, "size-ahead" => 251L, _ => 250L };
        var expectedRoot = wrong == "other-root" ? Hash.FromBytes(System.Security.Cryptography.SHA256.HashData(root.ToArray())) : root;
        var probed = wrong == "leaf-already-logged" ? batch.Leaves.Append(logged) : batch.Leaves;
        var signedAt = wrong == "older-checkpoint-time" ? DateTimeOffset.UtcNow.AddHours(-1) : DateTimeOffset.UtcNow;
        var written = await log.WritePredictedAsync(batch, size, expectedRoot, probed, signedAt);

        if (wrong == "none")
        {
            Assert.Equal(260, written);
            Assert.Equal((260L, before.Checkpoints + 1), await HeadAsync(log.Id));
        }
        else
        {
            Assert.Null(written);
            Assert.Equal(before, await HeadAsync(log.Id));
            Assert.Equal(260, await log.WritePredictedAsync(batch, 250, root, batch.Leaves, DateTimeOffset.UtcNow));
        }

        await AssertFullyConsistentAsync(log.Id, 260);
    }

    /// <summary>
    /// The ordinary path's read (migration 0013): the head, and which of the batch's leaves the log holds with their
    /// indices, found by key; the head row stays locked until the transaction ends.
    /// </summary>
    [Fact]
    public async Task LockHeadLogged_SomeLeavesLogged_AnswersHeadTheirIndicesAndHoldsTheLock()
    {
        using var log = await DirectLog.CreateAsync(database.App, "logged-" + Guid.NewGuid().ToString("N")[..8], LogKind.RekorV1);
        await log.AppendAsync(300, 100, 200);
        var fresh = log.Next(2).Leaves;
        var probed = new[] { log.Leaves[17], fresh[0], log.Leaves[299], log.Leaves[0], fresh[1] };

        await using var connection = new NpgsqlConnection(database.App);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var read = new NpgsqlCommand("SELECT tree_size, root_hash, logged_leaves, logged_indices FROM log_lock_head_logged($1, $2)", connection, transaction))
        {
            read.Parameters.AddWithValue(log.Id);
            read.Parameters.AddWithValue(probed.Select(static l => l.ToArray()).ToArray());
            await using var reader = await read.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(300, reader.GetInt64(0));
            Assert.Equal(log.HeadRoot, Hash.FromBytes((byte[])reader[1]));
            var leaves = reader.GetFieldValue<byte[][]>(2).Select(static l => Hash.FromBytes(l)).ToArray();
            Assert.Equal([log.Leaves[17], log.Leaves[299], log.Leaves[0]], leaves);
            Assert.Equal([17L, 299L, 0L], reader.GetFieldValue<long[]>(3));
            Assert.False(await reader.ReadAsync());
        }

        // Another writer's head lock waits for this transaction.
        await using (var other = new NpgsqlConnection(database.App))
        {
            await other.OpenAsync();
            await using var command = new NpgsqlCommand("SET lock_timeout = '200ms'; SELECT tree_size FROM log_lock_head(" + log.Id + ")", other);
            var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());
            Assert.Equal(PostgresErrorCodes.LockNotAvailable, error.SqlState);
        }

        await transaction.RollbackAsync();

        // No leaves: the head and empty lists. A log that does not exist: no row.
        await using (var empty = new NpgsqlCommand("SELECT cardinality(logged_leaves), cardinality(logged_indices) FROM log_lock_head_logged($1, '{}')", connection))
        {
            empty.Parameters.AddWithValue(log.Id);
            await using var reader = await empty.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(0, reader.GetInt32(0));
            Assert.Equal(0, reader.GetInt32(1));
        }

        var missing = await ScalarAsync<long>("SELECT count(*) FROM log_lock_head_logged((SELECT coalesce(max(id), 0) + 1000 FROM logs), '{}')");
        Assert.Equal(0, missing);
    }

    /// <summary>
    /// Migration 0016: 0013's overload is 0014's with no unique keys, and a process of the previous version still calls
    /// it: for the same log and leaves both answer the same head and the same logged leaves and indices (and for a log
    /// that does not exist, no row).
    /// </summary>
    [Fact]
    public async Task LockHeadLogged_BothOverloads_AnswerTheSameHeadAndLoggedLeaves()
    {
        using var log = await DirectLog.CreateAsync(database.App, "overloads-" + Guid.NewGuid().ToString("N")[..8], LogKind.RekorV1);
        await log.AppendAsync(300, 120, 180);
        var fresh = log.Next(2).Leaves;
        var probed = new[] { fresh[0], log.Leaves[255], log.Leaves[3], fresh[1], log.Leaves[256] }.Select(static l => l.ToArray()).ToArray();

        var withoutKeys = await LockHeadLoggedAsync("SELECT tree_size, root_hash, logged_leaves, logged_indices FROM log_lock_head_logged($1, $2)", log.Id, probed);
        var withKeys = await LockHeadLoggedAsync("SELECT tree_size, root_hash, logged_leaves, logged_indices FROM log_lock_head_logged($1, $2, '{}')", log.Id, probed);

        Assert.NotNull(withoutKeys);
        Assert.Equal(300, withoutKeys.Value.Size);
        Assert.Equal(log.HeadRoot, withoutKeys.Value.Root);
        Assert.Equal([log.Leaves[255], log.Leaves[3], log.Leaves[256]], withoutKeys.Value.Leaves);
        Assert.Equal([255L, 3L, 256L], withoutKeys.Value.Indices);
        Assert.NotNull(withKeys);
        Assert.Equal(withoutKeys.Value.Size, withKeys.Value.Size);
        Assert.Equal(withoutKeys.Value.Root, withKeys.Value.Root);
        Assert.Equal(withoutKeys.Value.Leaves, withKeys.Value.Leaves);
        Assert.Equal(withoutKeys.Value.Indices, withKeys.Value.Indices);

        var missing = await ScalarAsync<int>("SELECT coalesce(max(id), 0) + 1000 FROM logs");
        Assert.Null(await LockHeadLoggedAsync("SELECT tree_size, root_hash, logged_leaves, logged_indices FROM log_lock_head_logged($1, $2)", missing, probed));
        Assert.Null(await LockHeadLoggedAsync("SELECT tree_size, root_hash, logged_leaves, logged_indices FROM log_lock_head_logged($1, $2, '{}')", missing, probed));
    }

    private async Task<(long Size, Hash Root, Hash[] Leaves, long[] Indices)?> LockHeadLoggedAsync(string sql, int logId, byte[][] leaves)
    {
        await using var connection = new NpgsqlConnection(database.App);
        await connection.OpenAsync();
        await using var read = new NpgsqlCommand(sql, connection);
        read.Parameters.AddWithValue(logId);
        read.Parameters.AddWithValue(leaves);
        await using var reader = await read.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return null;
        }

        var answer = (reader.GetInt64(0), Hash.FromBytes((byte[])reader[1]),
            reader.GetFieldValue<byte[][]>(2).Select(static l => Hash.FromBytes(l)).ToArray(), reader.GetFieldValue<long[]>(3));
        Assert.False(await reader.ReadAsync());
        return answer;
    }

    /// <summary>
    /// Unique keys (migration 0014, a CT certificate's <c>ct:</c> key): under the head lock, the ordinary path's read
    /// answers which of them the log holds with the earliest index of each, and the predicted write refuses a batch
    /// holding one (NULL, nothing written).
    /// </summary>
    [Fact]
    public async Task UniqueKeys_OneLogged_LockHeadAnswersItsEarliestIndexAndPredictedWriteRefuses()
    {
        using var log = await DirectLog.CreateAsync(database.App, "unique-" + Guid.NewGuid().ToString("N")[..8], LogKind.RekorV1);
        await log.AppendAsync(20, 20);
        var first = log.Next(3);
        first.SearchKeys = ["ct:aa", "ct:aa"];
        first.SearchIndices = [20, 22];
        await log.WriteAsync(first);

        await using (var connection = new NpgsqlConnection(database.App))
        {
            await connection.OpenAsync();
            await using var read = new NpgsqlCommand("SELECT tree_size, logged_leaves, logged_keys, logged_key_indices FROM log_lock_head_logged($1, $2, $3)", connection);
            read.Parameters.AddWithValue(log.Id);
            read.Parameters.AddWithValue(new[] { log.Leaves[21].ToArray() });
            read.Parameters.AddWithValue(new[] { "ct:bb", "ct:aa" });
            await using var reader = await read.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(23, reader.GetInt64(0));
            Assert.Single(reader.GetFieldValue<byte[][]>(1));
            Assert.Equal(["ct:aa"], reader.GetFieldValue<string[]>(2));
            Assert.Equal([20L], reader.GetFieldValue<long[]>(3));
        }

        var batch = log.Next(2);
        var before = await HeadAsync(log.Id);
        Assert.Null(await log.WritePredictedAsync(batch, 23, log.HeadRoot, batch.Leaves, DateTimeOffset.UtcNow, ["ct:bb", "ct:aa"]));
        Assert.Equal(before, await HeadAsync(log.Id));
        Assert.Equal(25, await log.WritePredictedAsync(batch, 23, log.HeadRoot, batch.Leaves, DateTimeOffset.UtcNow, ["ct:bb", "ct:cc"]));
    }

    [Theory]
    [InlineData("rekor-v1")]
    [InlineData("ct")]
    [InlineData("rekor-v2")]
    public async Task AppendFunction_CheckpointWithTheOtherKindsOrigin_IsRefusedAndChangesNothing(string kindName)
    {
        // Rekor v1 names its checkpoints' origin "<name> - <tree ID>", C2SP logs by their name alone; since migration
        // 0011 log_append compares the first line itself. A checkpoint with the other form names another log.
        var kind = kindName switch { "rekor-v1" => LogKind.RekorV1, "ct" => LogKind.CertificateTransparency, _ => LogKind.RekorV2 };
        using var log = await DirectLog.CreateAsync(database.App, "origin-" + Guid.NewGuid().ToString("N")[..8], kind);
        await log.AppendAsync(3, 3);
        var before = await HeadAsync(log.Id);
        var batch = log.Next(2);
        var signed = batch.Checkpoint;
        var origin = signed[..signed.IndexOf('\n', StringComparison.Ordinal)];
        var other = kind == LogKind.RekorV1
            ? log.Instance.Name
            : log.Instance.Name + " - " + log.Instance.TreeId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.NotEqual(origin, other);
        batch.Checkpoint = other + signed[origin.Length..];

        var error = await Assert.ThrowsAsync<PostgresException>(() => log.WriteAsync(batch));
        Assert.Equal(PostgresErrorCodes.IntegrityConstraintViolation, error.SqlState);
        Assert.Equal(before, await HeadAsync(log.Id));

        batch.Checkpoint = signed;
        await log.WriteAsync(batch);
        Assert.Equal(5, (await HeadAsync(log.Id)).Size);
    }

    [Fact]
    public async Task AppendFunction_LogThatDoesNotExist_IsRefusedAndWritesNothing()
    {
        // No foreign key guards entries and search_index since migration 0010: the head lock in log_append does.
        using var log = await DirectLog.CreateAsync(database.App, "nolog-" + Guid.NewGuid().ToString("N")[..8], LogKind.RekorV1);
        var batch = log.Next(3);
        var missing = await ScalarAsync<int>("SELECT coalesce(max(id), 0) + 1000 FROM logs");

        var error = await Assert.ThrowsAsync<PostgresException>(() => log.WriteAsync(batch, missing));

        Assert.Equal(PostgresErrorCodes.IntegrityConstraintViolation, error.SqlState);
        Assert.Equal(0, await ScalarAsync<long>($"SELECT (SELECT count(*) FROM entries WHERE log_id = {missing}) + (SELECT count(*) FROM search_index WHERE log_id = {missing})"));
    }

    [Fact]
    public async Task AppendFunction_SearchKeyRepeatedInBatch_IsStoredOnce()
    {
        using var log = await DirectLog.CreateAsync(database.App, "keys-" + Guid.NewGuid().ToString("N")[..8], LogKind.RekorV1);
        await log.AppendAsync(5, 5);
        var batch = log.Next(2);
        batch.SearchKeys = ["sha256:aa", "sha256:aa", "sha256:bb", "sha256:aa"];
        batch.SearchIndices = [5, 5, 5, 6];

        await log.WriteAsync(batch);

        var rows = await ScalarAsync<string>($"SELECT string_agg(key || '@' || idx, ',' ORDER BY key, idx) FROM search_index WHERE log_id = {log.Id} AND key IN ('sha256:aa', 'sha256:bb')");
        Assert.Equal("sha256:aa@5,sha256:aa@6,sha256:bb@5", rows);
    }

    [Fact]
    public async Task AppendFunction_TilesAcrossTheInlineLimit_PassFsck()
    {
        // Since migration 0010 a partial tile stays inline until it nears 8 KiB and a full one goes to TOAST: a tile
        // grown one batch at a time across that limit must still be exactly the tree, prefix by prefix.
        using var log = await DirectLog.CreateAsync(database.App, "inline-" + Guid.NewGuid().ToString("N")[..8], LogKind.RekorV1);
        await log.AppendAsync(250, 250);
        await log.AppendAsync(10, 1, 2, 3, 4);

        await AssertFullyConsistentAsync(log.Id, 260);
    }

    [Fact]
    public async Task RefreshFunction_CheckpointNamingAnotherHead_IsRefused()
    {
        using var log = await DirectLog.CreateAsync(database.App, "refresh-" + Guid.NewGuid().ToString("N")[..8], LogKind.RekorV2);
        await log.AppendAsync(5, 5);
        var root = await RootAsync(log.Id);
        await using var connection = new NpgsqlConnection(database.App);
        await connection.OpenAsync();

        foreach (var forged in new[] { log.Sign(6, root), log.Sign(5, Rfc6962.EmptyRoot), "forged\n5\n" })
        {
            await using var refresh = new NpgsqlCommand("SELECT log_refresh_checkpoint($1, $2, now())", connection);
            refresh.Parameters.AddWithValue(log.Id);
            refresh.Parameters.AddWithValue(forged);
            var error = await Assert.ThrowsAsync<PostgresException>(() => refresh.ExecuteNonQueryAsync());
            Assert.Equal(PostgresErrorCodes.IntegrityConstraintViolation, error.SqlState);
        }

        await using var valid = new NpgsqlCommand("SELECT log_refresh_checkpoint($1, $2, now())", connection);
        valid.Parameters.AddWithValue(log.Id);
        valid.Parameters.AddWithValue(log.Sign(5, root));
        await valid.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task CreateFunction_CheckpointOfANonEmptyTree_IsRefused()
    {
        using var log = await DirectLog.CreateAsync(database.App, "create-" + Guid.NewGuid().ToString("N")[..8], LogKind.CertificateTransparency);
        await using var connection = new NpgsqlConnection(database.App);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand("SELECT log_create('another', 'ct', 7, '\\x00'::bytea, $1, now())", connection);
        create.Parameters.AddWithValue(log.Sign(3, Rfc6962.EmptyRoot));
        var error = await Assert.ThrowsAsync<PostgresException>(() => create.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.IntegrityConstraintViolation, error.SqlState);
    }

    private static void Damage(DirectLog.Batch batch, string damage, DirectLog log)
    {
        var zero = new byte[32];
        switch (damage)
        {
            case "entry-beyond-head":
                batch.Indices = batch.Indices.Select(i => i + 1).ToArray();
                break;
            case "entry-at-old-index":
                batch.Indices = batch.Indices.Select(i => i - 1).ToArray();
                break;
            case "entries-out-of-order":
                batch.Indices = batch.Indices.Reverse().ToArray();
                break;
            case "zero-hash-appended-to-tile":
                batch.TileHashes = batch.TileHashes.Select((h, i) => batch.TileLevels[i] == 0 && batch.TileIndices[i] == 1 ? [.. h, .. zero] : h).ToArray();
                break;
            case "tile-hash-not-the-leaf":
                batch.TileHashes = batch.TileHashes.Select((h, i) => batch.TileLevels[i] == 0 && batch.TileIndices[i] == 0 ? Flip(h, h.Length - 1) : h).ToArray();
                break;
            case "level-1-hash-not-the-tile-root":
                Assert.Contains((short)1, batch.TileLevels);
                batch.TileHashes = batch.TileHashes.Select((h, i) => batch.TileLevels[i] == 1 ? Flip(h, 0) : h).ToArray();
                break;
            case "tile-wider-than-entries":
                batch.TileLevels = [.. batch.TileLevels, 0];
                batch.TileIndices = [.. batch.TileIndices, 2];
                batch.TileHashes = [.. batch.TileHashes, zero];
                break;
            case "tiles-missing":
                batch.TileLevels = [];
                batch.TileIndices = [];
                batch.TileHashes = [];
                break;
            case "checkpoint-for-another-size":
                batch.Checkpoint = log.Sign(261, Hash.FromBytes(batch.Root));
                break;
            case "checkpoint-for-another-root":
                batch.Checkpoint = log.Sign(260, Rfc6962.EmptyRoot);
                break;
            case "checkpoint-of-another-log":
                batch.Checkpoint = "another.log - 1\n260\n" + Convert.ToBase64String(batch.Root) + "\n\n— another.log AAAA\n";
                break;
            case "root-differs-from-checkpoint":
                batch.Root = Rfc6962.EmptyRoot.ToArray();
                break;
            case "search-key-for-an-old-entry":
                batch.SearchIndices = [0];
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(damage));
        }
    }

    private static byte[] Flip(byte[] bytes, int position)
    {
        var copy = bytes.ToArray();
        copy[position] ^= 0x01;
        return copy;
    }

    /// <summary>The service's own full check (fsck) finds the log consistent, with exactly this many entries.</summary>
    private async Task AssertFullyConsistentAsync(int logId, long entries)
    {
        await using var dataSource = NpgsqlDataSource.Create(database.App);
        var result = await new LogChecker(dataSource).CheckAsync(logId, CheckScope.Full, CancellationToken.None);
        Assert.True(result.Consistent, result.ToString());
        Assert.Equal(entries, result.Entries);
    }

    private async Task<(long Size, long Checkpoints)> HeadAsync(int logId)
    {
        await using var connection = new NpgsqlConnection(database.App);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT tree_size, (SELECT count(*) FROM checkpoints WHERE log_id = $1) FROM logs WHERE id = $1", connection);
        command.Parameters.AddWithValue(logId);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(database.App);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync() ?? throw new InvalidOperationException("no value"));
    }

    private async Task<Hash> RootAsync(int logId)
    {
        await using var connection = new NpgsqlConnection(database.App);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT root_hash FROM logs WHERE id = $1", connection);
        command.Parameters.AddWithValue(logId);
        return await command.ExecuteScalarAsync() is byte[] root ? Hash.FromBytes(root) : throw new InvalidOperationException("no head");
    }
}
