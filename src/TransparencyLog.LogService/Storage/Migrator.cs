using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace TransparencyLog.LogService.Storage;

/// <summary>
/// Applies the hand-written migrations in <c>migrations/</c>, in file-name order, each in its own transaction, and
/// grants the service role exactly what it needs. A separate step (<c>migrate</c>), never run implicitly by replicas.
/// </summary>
internal sealed class Migrator(string adminConnectionString, string migrationsDirectory, TextWriter output)
{
    // Any constant works; it only has to be the same for every concurrent migrate run.
    private const long AdvisoryLockKey = 0x746C6F675F6D6967;

    public async Task<int> RunAsync(string? appRole, string? appPassword, CancellationToken cancellationToken)
    {
        var files = Directory.GetFiles(migrationsDirectory, "*.sql").OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            throw new InvalidOperationException($"no migrations found in {migrationsDirectory}");
        }

        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync(cancellationToken);
        await ExecuteAsync(connection, null, """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     text        PRIMARY KEY,
                checksum    text        NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            )
            """, cancellationToken);

        var applied = 0;
        foreach (var file in files)
        {
            var version = Path.GetFileNameWithoutExtension(file);
            var sql = await File.ReadAllTextAsync(file, cancellationToken);
            var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({AdvisoryLockKey})", cancellationToken);
            await using (var check = new NpgsqlCommand("SELECT checksum FROM schema_migrations WHERE version = $1", connection, transaction))
            {
                check.Parameters.AddWithValue(version);
                if (await check.ExecuteScalarAsync(cancellationToken) is string existing)
                {
                    // A reviewed migration is history: editing it after it ran would make databases disagree silently.
                    if (existing != checksum)
                    {
                        throw new InvalidOperationException($"migration {version} was changed after it was applied");
                    }

                    await transaction.CommitAsync(cancellationToken);
                    continue;
                }
            }

            await ExecuteAsync(connection, transaction, sql, cancellationToken);
            await using (var record = new NpgsqlCommand("INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)", connection, transaction))
            {
                record.Parameters.AddWithValue(version);
                record.Parameters.AddWithValue(checksum);
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            output.WriteLine($"applied {version}");
            applied++;
        }

        if (!string.IsNullOrEmpty(appRole))
        {
            await GrantAsync(connection, appRole, appPassword, cancellationToken);
        }

        output.WriteLine(applied == 0 ? "schema is up to date" : $"{applied} migration(s) applied");
        return applied;
    }

    private static async Task GrantAsync(NpgsqlConnection connection, string role, string? password, CancellationToken cancellationToken)
    {
        var quoted = QuoteIdentifier(role);

        // Roles are cluster-wide, so migrate runs for two databases of one cluster can race to create it: losing that
        // race is fine. (Advisory locks are per database and cannot serialize this.)
        try
        {
            await ExecuteAsync(connection, null, $"""
                DO $$ BEGIN
                    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {QuoteLiteral(role)}) THEN CREATE ROLE {quoted} LOGIN; END IF;
                END $$
                """, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateObject)
        {
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (!string.IsNullOrEmpty(password))
        {
            await ExecuteAsync(connection, transaction, SetPasswordSql(quoted, password), cancellationToken);
        }

        // The service reads every table and writes only through the append-path functions of migration 0003, which
        // accept nothing but a consistent extension of a log. Revoking first also takes back what older versions
        // granted (direct INSERT and UPDATE).
        await ExecuteAsync(connection, transaction, $"""
            GRANT USAGE ON SCHEMA public TO {quoted};
            REVOKE ALL ON entries, checkpoints, search_index, tiles, logs, schema_migrations FROM {quoted};
            GRANT SELECT ON entries, checkpoints, search_index, tiles, logs TO {quoted};
            GRANT EXECUTE ON FUNCTION log_lock_head(integer), log_lock_head_logged(integer, bytea[]), log_lock_head_logged(integer, bytea[], text[]), log_create(text, text, bigint, bytea, text, timestamptz),
                log_refresh_checkpoint(integer, text, timestamptz),
                log_append(integer, bigint[], bytea[], text[], text[], bytea[], bytea[], bigint, smallint[], bigint[], bytea[], text[], bigint[], bytea, text, timestamptz),
                log_append_predicted(bigint, bytea, bytea[], integer, bigint[], bytea[], text[], text[], bytea[], bytea[], bigint, smallint[], bigint[], bytea[], text[], bigint[], bytea, text, timestamptz),
                log_append_predicted(bigint, bytea, bytea[], text[], integer, bigint[], bytea[], text[], text[], bytea[], bytea[], bigint, smallint[], bigint[], bytea[], text[], bigint[], bytea, text, timestamptz)
                TO {quoted};
            GRANT SELECT, INSERT, UPDATE ON witness_log, witness_state, log_cosigned_checkpoints TO {quoted};
            GRANT SELECT, INSERT ON witness_evidence TO {quoted};
            """, cancellationToken);

        // Tile summaries (0015): the start-up pass fills those of tiles stored before the migration.
        await ExecuteAsync(connection, transaction, $"GRANT EXECUTE ON FUNCTION tile_summaries_fill(integer, integer) TO {quoted}", cancellationToken);

        // The TUF repository (0006): rows are immutable once published; the advisory lock serializes writers.
        await ExecuteAsync(connection, transaction, $"GRANT SELECT, INSERT ON tuf_metadata, tuf_target TO {quoted}", cancellationToken);

        // Monitor state (0009): `tlog monitor --state-db` with the service role's connection; the explorer reads alerts.
        await ExecuteAsync(connection, transaction, $"GRANT SELECT, INSERT, UPDATE ON monitor_position, monitor_alert TO {quoted}", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static string QuoteIdentifier(string name)
    {
        if (name.Length is 0 or > 63 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException("role names are 1-63 ASCII letters, digits or underscores", nameof(name));
        }

        return "\"" + name + "\"";
    }

    /// <summary>
    /// The statement setting a role's password. Role passwords cannot be bound as parameters, and a literal password
    /// would reach whatever records statements (the server log with <c>log_statement = ddl</c>, pg_stat_statements), so
    /// the SCRAM-SHA-256 secret is computed here, as psql's <c>\password</c> does, and PostgreSQL stores it as given:
    /// the password itself never leaves this process. A password outside printable ASCII, which PostgreSQL would
    /// normalise with SASLprep first, is sent as a literal and hashed by the server instead.
    /// </summary>
    internal static string SetPasswordSql(string quotedRole, string password) =>
        password.All(static c => c is >= ' ' and <= '~')
            ? $"ALTER ROLE {quotedRole} PASSWORD {QuoteLiteral(ScramSecret(password, RandomNumberGenerator.GetBytes(16)))}"
            : $"ALTER ROLE {quotedRole} PASSWORD {QuoteLiteral(password)}";

    /// <summary>
    /// PostgreSQL's stored form of a SCRAM-SHA-256 password (RFC 5802, RFC 7677):
    /// <c>SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey</c>, 4,096 iterations as PostgreSQL's default.
    /// </summary>
    internal static string ScramSecret(string password, byte[] salt)
    {
        const int Iterations = 4096;
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, Iterations, HashAlgorithmName.SHA256, 32);
        var storedKey = SHA256.HashData(HMACSHA256.HashData(salted, "Client Key"u8));
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        return $"SCRAM-SHA-256${Iterations}:{Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}";
    }

    private static string QuoteLiteral(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
