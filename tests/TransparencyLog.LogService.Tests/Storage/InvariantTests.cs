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
    public async Task Migrate_AppRolePassword_IsSentAsScramSecretAndLogsIn()
    {
        var role = $"tlog_pw_{Guid.NewGuid():N}"[..20];
        var password = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        // What the server receives holds the SCRAM secret, never the password (statement logs, pg_stat_statements).
        var sql = global::TransparencyLog.LogService.Storage.Migrator.SetPasswordSql($"\"{role}\"", password);
        Assert.DoesNotContain(password, sql, StringComparison.Ordinal);
        Assert.Contains("'SCRAM-SHA-256$4096:", sql, StringComparison.Ordinal);

        await using var admin = new NpgsqlConnection(log.AdminConnectionString);
        await admin.OpenAsync();
        try
        {
            Assert.Equal(0, await new global::TransparencyLog.LogService.Storage.Migrator(log.AdminConnectionString, Path.Combine(RepositoryPaths.Root, "migrations"), TextWriter.Null)
                .RunAsync(role, password, CancellationToken.None));
            await using (var stored = new NpgsqlCommand("SELECT rolpassword FROM pg_authid WHERE rolname = $1", admin))
            {
                stored.Parameters.AddWithValue(role);
                Assert.StartsWith("SCRAM-SHA-256$4096:", (string?)await stored.ExecuteScalarAsync(), StringComparison.Ordinal);
            }

            // The secret computed here is the one PostgreSQL checks a SCRAM login against.
            var asRole = new NpgsqlConnectionStringBuilder(log.AdminConnectionString) { Username = role, Password = password, Pooling = false };
            await using (var connection = new NpgsqlConnection(asRole.ConnectionString))
            {
                await connection.OpenAsync();
                await using var read = new NpgsqlCommand("SELECT count(*) FROM logs", connection);
                Assert.True((long)(await read.ExecuteScalarAsync())! >= 1);
            }

            asRole.Password = password + "x";
            await using var wrong = new NpgsqlConnection(asRole.ConnectionString);
            await Assert.ThrowsAsync<PostgresException>(() => wrong.OpenAsync());
        }
        finally
        {
            await using var drop = new NpgsqlCommand($"DROP OWNED BY \"{role}\"; DROP ROLE IF EXISTS \"{role}\"", admin);
            await drop.ExecuteNonQueryAsync();
        }
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
