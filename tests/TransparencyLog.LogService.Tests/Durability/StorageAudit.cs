using Npgsql;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Tests.Durability;

/// <summary>An fsck: re-derives the tree from every stored entry and compares it with the signed head.</summary>
internal static class StorageAudit
{
    public static async Task<(long Size, Hash Root, string Checkpoint, Dictionary<long, Hash> Leaves)> ReadAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        long size;
        Hash root;
        string checkpoint;
        await using (var head = new NpgsqlCommand("SELECT tree_size, root_hash, checkpoint FROM logs WHERE kind = 'rekor-v1'", connection))
        await using (var reader = await head.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            size = reader.GetInt64(0);
            root = Hash.FromBytes((byte[])reader[1]);
            checkpoint = reader.GetString(2);
        }

        var leaves = new Dictionary<long, Hash>();
        await using (var entries = new NpgsqlCommand("SELECT e.idx, e.body, e.leaf_hash FROM entries e JOIN logs l ON l.id = e.log_id WHERE l.kind = 'rekor-v1' ORDER BY e.idx", connection))
        await using (var reader = await entries.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var leaf = Rfc6962.HashLeaf((byte[])reader[1]);
                Assert.Equal(leaf, Hash.FromBytes((byte[])reader[2]));
                leaves[reader.GetInt64(0)] = leaf;
            }
        }

        return (size, root, checkpoint, leaves);
    }

    /// <summary>Indices 0..size-1 all present, nothing beyond, and the root over them equals the signed root.</summary>
    public static async Task<(long Size, Hash Root, string Checkpoint)> AssertConsistentAsync(string connectionString)
    {
        var (size, root, checkpoint, leaves) = await ReadAsync(connectionString);
        Assert.Equal(size, leaves.Count);
        Assert.Equal(Enumerable.Range(0, (int)size).Select(i => (long)i), leaves.Keys.Order());
        var ordered = Enumerable.Range(0, (int)size).Select(i => leaves[i]).ToArray();
        Assert.Equal(root, Rfc6962.RootFromLeafHashes(ordered));

        // The service's own fsck agrees: tiles, roots and every checkpoint signature, for every log in the database.
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var results = await new LogService.Integrity.LogChecker(dataSource).CheckAllAsync(LogService.Integrity.CheckScope.Full, CancellationToken.None);
        Assert.All(results, r => Assert.True(r.Consistent, r.ToString()));
        return (size, root, checkpoint);
    }
}
