using Npgsql;
using TransparencyLog.LogService.Tests.Infrastructure;

namespace TransparencyLog.LogService.Tests.Storage;

/// <summary>The database itself refuses to lose or rewrite log data, whatever the service (or its role) attempts.</summary>
public sealed class InvariantTests(LogFixture log) : IClassFixture<LogFixture>
{
    [Theory]
    [InlineData("UPDATE entries SET integrated_time = 0")]
    [InlineData("DELETE FROM entries")]
    [InlineData("TRUNCATE entries")]
    [InlineData("DELETE FROM checkpoints")]
    [InlineData("UPDATE checkpoints SET note = 'x'")]
    [InlineData("DELETE FROM search_index")]
    [InlineData("DELETE FROM tiles")]
    [InlineData("UPDATE tiles SET hashes = substring(hashes from 33) || substring(hashes from 1 for 32) WHERE length(hashes) > 32")]
    [InlineData("UPDATE tiles SET hashes = substring(hashes from 1 for 32)")]
    [InlineData("UPDATE logs SET tree_size = tree_size - 1")]
    [InlineData("UPDATE logs SET root_hash = sha256(root_hash)")]
    [InlineData("UPDATE logs SET public_key = '\\x00'")]
    [InlineData("DELETE FROM logs")]
    public async Task ServiceRole_RewritingLogData_IsRefused(string sql)
    {
        await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => log.AppendAsync(log.Entries.NewHashedRekord().Json)));
        await using var connection = new NpgsqlConnection(log.AppConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
    }

    [Theory]
    [InlineData("DELETE FROM entries")]
    [InlineData("UPDATE tiles SET hashes = sha256(hashes)")]
    [InlineData("UPDATE logs SET tree_size = 0")]
    public async Task Owner_RewritingLogData_IsRefusedByTriggers(string sql)
    {
        await log.AppendAsync(log.Entries.NewHashedRekord().Json);
        await using var connection = new NpgsqlConnection(log.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.IntegrityConstraintViolation, error.SqlState);
    }

    [Fact]
    public async Task Migrate_RunAgain_AppliesNothingAndRefusesEditedMigrations()
    {
        var directory = Directory.CreateTempSubdirectory("tlog-migrations-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(Path.Combine(RepositoryPaths.Root, "migrations")))
            {
                File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
            }

            var output = new StringWriter();
            Assert.Equal(0, await new global::TransparencyLog.LogService.Storage.Migrator(log.AdminConnectionString, directory, output).RunAsync("tlog_app", null, CancellationToken.None));
            Assert.Contains("up to date", output.ToString(), StringComparison.Ordinal);

            var first = Directory.GetFiles(directory).Order(StringComparer.Ordinal).First();
            await File.AppendAllTextAsync(first, "\n-- edited\n");
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                new global::TransparencyLog.LogService.Storage.Migrator(log.AdminConnectionString, directory, TextWriter.Null).RunAsync(null, null, CancellationToken.None));
            Assert.Contains("changed after it was applied", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
