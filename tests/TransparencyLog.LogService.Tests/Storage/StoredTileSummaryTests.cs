using Npgsql;
using TransparencyLog.LogService.Integrity;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Tests.Storage;

/// <summary>
/// Migration 0015: a full level-0 tile's row holds its summary (16 nodes at height 4), computed by the database in the
/// statement that makes the tile full; no other value can be stored; tiles stored without one are filled by
/// <c>tile_summaries_fill</c>; fsck refuses a summary that is not the tile's.
/// </summary>
public sealed class StoredTileSummaryTests(AppendPathFixture database) : IClassFixture<AppendPathFixture>
{
    [Fact]
    public async Task AppendFunction_TilesBecomeFull_RowsHoldTheirSummaries()
    {
        using var log = await DirectLog.CreateAsync(database.App, "summary-" + Guid.NewGuid().ToString("N")[..8], LogKind.RekorV1);

        // 600 entries in uneven batches: tile 0 fills inside a batch, tile 1 across two, tile 2 stays partial (88).
        await log.AppendAsync(600, 1, 99, 200, 300);

        var tiles = await TilesAsync(log.Id);
        Assert.Equal([(0, 0L), (0, 1L), (0, 2L), (1, 0L)], tiles.Keys.Select(k => ((int)k.Level, k.Idx)).Order());
        foreach (var idx in new long[] { 0, 1 })
        {
            var (hashes, summary) = tiles[(0, idx)];
            Assert.NotNull(summary);
            Assert.Equal(TileSummaries.Summarize(TileStore.Decode(hashes)), TileStore.Decode(summary));
        }

        Assert.Null(tiles[(0, 2)].Summary);
        Assert.Null(tiles[(1, 0)].Summary);
    }

    [Theory]
    [InlineData("UPDATE tiles SET summary = decode(repeat('00', 512), 'hex') WHERE log_id = {LOG} AND level = 0 AND idx = 0")]
    [InlineData("UPDATE tiles SET summary = decode(repeat('00', 512), 'hex') WHERE log_id = {LOG} AND level = 0 AND idx = 1")]
    [InlineData("UPDATE tiles SET summary = summary || summary WHERE log_id = {LOG} AND level = 0 AND idx = 0")]
    public async Task Summary_NotTheTilesNodes_IsRefusedEvenToTheOwner(string sql)
    {
        using var log = await DirectLog.CreateAsync(database.App, "refused-" + Guid.NewGuid().ToString("N")[..8], LogKind.RekorV1);
        await log.AppendAsync(300, 300);
        var before = await TilesAsync(log.Id);

        await using var connection = new NpgsqlConnection(database.Admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql.Replace("{LOG}", log.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), connection);
        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
        Assert.StartsWith("23", error.SqlState, StringComparison.Ordinal);

        var after = await TilesAsync(log.Id);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.All(before, tile => Assert.Equal(tile.Value.Summary, after[tile.Key].Summary));
    }

    [Fact]
    public async Task FillFunction_TilesStoredWithoutSummaries_FillsThemNewestFirstAndFsckAccepts()
    {
        using var log = await DirectLog.CreateAsync(database.App, "fill-" + Guid.NewGuid().ToString("N")[..8], LogKind.RekorV1);
        await log.AppendAsync(800, 400, 400);
        var written = await TilesAsync(log.Id);

        // As a tile stored before migration 0015: no summary (only the owner, with the trigger off, can do this).
        await AdminAsync($"""
            BEGIN;
            ALTER TABLE tiles DISABLE TRIGGER tiles_summary;
            UPDATE tiles SET summary = NULL WHERE log_id = {log.Id};
            ALTER TABLE tiles ENABLE TRIGGER tiles_summary;
            COMMIT;
            """);
        Assert.All((await TilesAsync(log.Id)).Values, tile => Assert.Null(tile.Summary));
        await AssertFsckAsync(log.Id, consistent: true);

        // The service role fills them (it has no other write on tiles), newest first, as many as asked per call.
        Assert.Equal(1, await FillAsync(log.Id, 1));
        var afterOne = await TilesAsync(log.Id);
        Assert.NotNull(afterOne[(0, 2)].Summary);
        Assert.Null(afterOne[(0, 1)].Summary);
        Assert.Equal(2, await FillAsync(log.Id, 256));
        Assert.Equal(0, await FillAsync(log.Id, 256));

        var filled = await TilesAsync(log.Id);
        Assert.All(written, tile => Assert.Equal(tile.Value.Summary, filled[tile.Key].Summary));
        await AssertFsckAsync(log.Id, consistent: true);
    }

    [Fact]
    public async Task Fsck_StoredSummaryNotTheTiles_ReportsTheRow()
    {
        using var log = await DirectLog.CreateAsync(database.App, "fsck-" + Guid.NewGuid().ToString("N")[..8], LogKind.RekorV1);
        await log.AppendAsync(300, 300);

        // Only possible past the trigger (a restored backup, a hand edit): one node of tile 0's summary changed.
        await AdminAsync($"""
            BEGIN;
            ALTER TABLE tiles DISABLE TRIGGER tiles_summary;
            UPDATE tiles SET summary = overlay(summary PLACING sha256(summary) FROM 33 FOR 32) WHERE log_id = {log.Id} AND level = 0 AND idx = 0;
            ALTER TABLE tiles ENABLE TRIGGER tiles_summary;
            COMMIT;
            """);

        var result = await AssertFsckAsync(log.Id, consistent: false);
        Assert.Contains("tiles row 0/0, summary", result, StringComparison.Ordinal);
    }

    /// <summary>
    /// Migration 0016: <c>tile_root</c> and <c>tile_summary</c> are one fold (<c>tile_fold</c>) stopping at 1 and 16
    /// nodes; both still answer what the Merkle code computes for the same 256 leaf hashes.
    /// </summary>
    [Fact]
    public async Task TileFunctions_RandomFullTile_EqualTheMerkleCodesRootAndSummary()
    {
        var leaves = Enumerable.Range(0, 256).Select(static _ => Hash.FromBytes(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))).ToArray();
        var hashes = leaves.SelectMany(static h => h.ToArray()).ToArray();

        await using var connection = new NpgsqlConnection(database.App);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT tile_root($1), tile_summary($1), tile_fold($1, 16)", connection);
        command.Parameters.AddWithValue(hashes);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());

        Assert.Equal(Rfc6962.RootFromLeafHashes(leaves), Hash.FromBytes((byte[])reader[0]));
        Assert.Equal(TileSummaries.Summarize(leaves), TileStore.Decode((byte[])reader[1]));
        Assert.Equal((byte[])reader[1], (byte[])reader[2]);
    }

    private async Task<string> AssertFsckAsync(int logId, bool consistent)
    {
        await using var dataSource = NpgsqlDataSource.Create(database.App);
        var result = await new LogChecker(dataSource).CheckAsync(logId, CheckScope.Full, CancellationToken.None);
        Assert.True(result.Consistent == consistent, result.ToString());
        return result.ToString();
    }

    private async Task<int> FillAsync(int logId, int limit)
    {
        await using var connection = new NpgsqlConnection(database.App);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT tile_summaries_fill($1, $2)", connection);
        command.Parameters.AddWithValue(logId);
        command.Parameters.AddWithValue(limit);
        return (int)(await command.ExecuteScalarAsync())!;
    }

    private async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(database.Admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<Dictionary<(short Level, long Idx), (byte[] Hashes, byte[]? Summary)>> TilesAsync(int logId)
    {
        await using var connection = new NpgsqlConnection(database.App);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT level, idx, hashes, summary FROM tiles WHERE log_id = $1", connection);
        command.Parameters.AddWithValue(logId);
        var tiles = new Dictionary<(short, long), (byte[], byte[]?)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            tiles[(reader.GetInt16(0), reader.GetInt64(1))] = ((byte[])reader[2], reader.IsDBNull(3) ? null : (byte[])reader[3]);
        }

        return tiles;
    }
}
