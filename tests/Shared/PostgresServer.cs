using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Npgsql;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Testing;

/// <summary>
/// The PostgreSQL server tests run against: the one <c>./test.sh</c> started (<c>TLOG_TEST_PG</c>, an admin connection
/// string with its password), or else a private cluster this process starts with <c>scripts/pg.sh</c> and removes
/// when it exits. Both require passwords. There is no fallback to anything else: without PostgreSQL these tests fail,
/// they never skip. Each test project says how a new database gets the schema (<see cref="MigrateAsync"/>).
/// </summary>
internal static partial class PostgresServer
{
    private const string AppRole = "tlog_app";

    private static readonly Lazy<string> Admin = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    private static readonly Lazy<Task> AppRoleReady = new(EnsureAppRoleAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Connection string of a superuser, without a database.</summary>
    public static string AdminConnectionString => Admin.Value;

    /// <summary>
    /// Connection string of the service role, without a database. Its password is derived from the superuser's, so
    /// every test process using this cluster agrees on it without writing it anywhere.
    /// </summary>
    public static string AppConnectionString => new NpgsqlConnectionStringBuilder(AdminConnectionString)
    {
        Username = AppRole,
        Password = AppPassword,
        MaxPoolSize = 50,
    }.ConnectionString;

    private static string AppPassword => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
        System.Text.Encoding.UTF8.GetBytes("tlog_app test password:" + new NpgsqlConnectionStringBuilder(AdminConnectionString).Password)));

    /// <summary>
    /// This process's migrated database that <see cref="CreateDatabaseAsync"/> copies: migrated once, as every test
    /// database was before (the same migrations, the same grants), instead of once per test class. Nothing else
    /// connects to it after the migration (PostgreSQL copies a template only while it has no sessions).
    /// </summary>
    private static readonly Lazy<Task<string>> Template = new(CreateTemplateAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Marks every database this process creates (<c>COMMENT ON DATABASE</c>): the process holds an advisory lock on
    /// this key in the <c>postgres</c> database for its whole life, so a later process can tell a database whose
    /// creator is gone (its lock is free, however the creator ended) from one still in use.
    /// </summary>
    private static readonly long OwnerKey = Random.Shared.NextInt64(1, long.MaxValue);

    private const string OwnerCommentPrefix = "tlog test database, owner ";

    /// <summary>The databases of this process not dropped yet (a test that does not dispose its own is dropped at exit).</summary>
    private static readonly ConcurrentDictionary<string, byte> Databases = new(StringComparer.Ordinal);

    /// <summary>The connection holding <see cref="OwnerKey"/>'s lock, open until the process ends.</summary>
    private static NpgsqlConnection? _owner;

    /// <summary>
    /// Creates an empty, migrated database (or a copy of <paramref name="template"/>, a test's own database without
    /// sessions); disposing the answer drops it (a fixture's or a test's last step, after whatever used it has
    /// stopped). Deconstructs into (admin, app-role) connection strings.
    /// </summary>
    public static async Task<TestDatabase> CreateDatabaseAsync(string prefix, string? template = null)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)].ToLowerInvariant();
        var migrated = await Template.Value;
        await CreateEmptyDatabaseAsync(name, template ?? migrated);
        var admin = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
        var app = new NpgsqlConnectionStringBuilder(AppConnectionString) { Database = name }.ConnectionString;
        return new TestDatabase(name, admin, app);
    }

    /// <summary>
    /// Drops a test's database, ending its sessions (<c>WITH (FORCE)</c>, PostgreSQL 13+). Never throws: a database
    /// left behind is reported on standard error, and a later test process on the same cluster drops it once this one
    /// has ended.
    /// </summary>
    internal static async Task DropDatabaseAsync(string name)
    {
        if (!Databases.TryRemove(name, out _))
        {
            return;
        }

        ClearPools(name);
        try
        {
            await using var connection = new NpgsqlConnection(PostgresDatabase);
            await connection.OpenAsync();
            await DropAsync(connection, name);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            Console.Error.WriteLine($"test database {name} was not dropped: {e.Message}");
        }
    }

    /// <summary>Idle pooled connections to a database would only be terminated by its drop; closing them first is quieter.</summary>
    private static void ClearPools(string name)
    {
        NpgsqlConnection.ClearPool(new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString));
        NpgsqlConnection.ClearPool(new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AppConnectionString) { Database = name }.ConnectionString));
    }

    private static string PostgresDatabase => new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = "postgres" }.ConnectionString;

    private static async Task DropAsync(NpgsqlConnection connection, string name)
    {
        await using var drop = new NpgsqlCommand(DropSql(name), connection);
        await drop.ExecuteNonQueryAsync();
    }

    private static string DropSql(string name) => $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)";

    private static async Task<string> CreateTemplateAsync()
    {
        var name = $"template_{Guid.NewGuid():N}";
        if (Private)
        {
            // A private cluster is removed whole at exit (Start).
            await CreateEmptyDatabaseAsync(name, template: null);
        }
        else
        {
            await HoldOwnerLockAsync();
            await DropDatabasesOfEndedProcessesAsync();
            await CreateEmptyDatabaseAsync(name, template: null);
            // The template goes when the process ends; test databases are copies of it, not sessions on it, so
            // dropping it never disturbs a test. A test database not disposed by then goes too.
            AppDomain.CurrentDomain.ProcessExit += (_, _) => DropAllAtExit();
        }
        await AppRoleReady.Value;
        var admin = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
        await MigrateAsync(admin, AppRole);
        // The in-process migration (the log service's tests) leaves its connection in the pool: close it.
        await using (var pooled = new NpgsqlConnection(admin))
        {
            NpgsqlConnection.ClearPool(pooled);
        }

        return name;
    }

    private static async Task CreateEmptyDatabaseAsync(string name, string? template)
    {
        await using var connection = new NpgsqlConnection(PostgresDatabase);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand(template is null ? $"CREATE DATABASE \"{name}\"" : $"CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"", connection);
        await create.ExecuteNonQueryAsync();
        Databases.TryAdd(name, 0);
        await using var mark = new NpgsqlCommand($"COMMENT ON DATABASE \"{name}\" IS '{OwnerCommentPrefix}{OwnerKey.ToString(CultureInfo.InvariantCulture)}'", connection);
        await mark.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// Takes this process's owner lock on a connection of its own (not pooled, never closed: PostgreSQL releases the
    /// lock when the process ends, whether it exits, crashes or is killed).
    /// </summary>
    private static async Task HoldOwnerLockAsync()
    {
        var owner = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(PostgresDatabase) { Pooling = false, KeepAlive = 30 }.ConnectionString);
        await owner.OpenAsync();
        await using var take = new NpgsqlCommand("SELECT pg_advisory_lock($1)", owner);
        take.Parameters.AddWithValue(OwnerKey);
        await take.ExecuteNonQueryAsync();
        _owner = owner;
    }

    /// <summary>
    /// Drops the databases left by test processes that have ended (a crash, a kill, an exit that skipped its handler):
    /// those marked with an owner whose lock nobody holds. The lock is held while dropping, so two processes starting
    /// together do not both drop, and a live owner's databases are never touched.
    /// </summary>
    private static async Task DropDatabasesOfEndedProcessesAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(PostgresDatabase);
            await connection.OpenAsync();
            var marked = new List<(string Name, long Owner)>();
            await using (var list = new NpgsqlCommand("""
                SELECT d.datname, s.description FROM pg_database d
                JOIN pg_shdescription s ON s.objoid = d.oid AND s.classoid = 'pg_database'::regclass
                WHERE starts_with(s.description, $1)
                """, connection))
            {
                list.Parameters.AddWithValue(OwnerCommentPrefix);
                await using var reader = await list.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    if (long.TryParse(reader.GetString(1).AsSpan(OwnerCommentPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var key) && key != OwnerKey)
                    {
                        marked.Add((reader.GetString(0), key));
                    }
                }
            }

            foreach (var (name, key) in marked)
            {
                await using var take = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection);
                take.Parameters.AddWithValue(key);
                if (await take.ExecuteScalarAsync() is not true)
                {
                    continue;
                }

                try
                {
                    await DropAsync(connection, name);
                }
                catch (PostgresException e)
                {
                    Console.Error.WriteLine($"test database {name} of an ended process was not dropped: {e.Message}");
                }
                finally
                {
                    await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", connection);
                    release.Parameters.AddWithValue(key);
                    await release.ExecuteNonQueryAsync();
                }
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            Console.Error.WriteLine($"the test databases of ended processes were not dropped: {e.Message}");
        }
    }

    /// <summary>
    /// At exit: every database of this process still there, the template last (copies never need it), on the owner
    /// connection, already open. The test host is ended soon after its tests (within a second, not waiting for this
    /// handler); PostgreSQL finishes a DROP it has received even if the client is gone, and whatever is not sent in
    /// time the next test process on this cluster drops (<see cref="DropDatabasesOfEndedProcessesAsync"/>).
    /// </summary>
    private static void DropAllAtExit()
    {
        if (_owner is not { } owner)
        {
            return;
        }

        foreach (var name in Databases.Keys.OrderBy(static n => n.StartsWith("template_", StringComparison.Ordinal)))
        {
            if (!Databases.TryRemove(name, out _))
            {
                continue;
            }

            try
            {
                ClearPools(name);
                using var drop = new NpgsqlCommand(DropSql(name), owner);
                drop.ExecuteNonQuery();
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                Console.Error.WriteLine($"test database {name} was not dropped at exit: {e.Message}");
            }
        }
    }

    /// <summary>Applies <c>migrations/</c> to the database of <paramref name="admin"/>, granting <paramref name="appRole"/>.</summary>
    private static partial Task MigrateAsync(string admin, string appRole);

    /// <summary>
    /// Creates the service role and sets its password once per process (roles are cluster-wide, and concurrent
    /// ALTER ROLE statements from parallel test classes would conflict), so each migrate only grants.
    /// </summary>
    private static async Task EnsureAppRoleAsync()
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = "postgres" }.ConnectionString);
        await connection.OpenAsync();
        await using var role = new NpgsqlCommand($$"""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{{AppRole}}') THEN CREATE ROLE {{AppRole}} LOGIN; END IF;
            END $$;
            ALTER ROLE {{AppRole}} PASSWORD '{{AppPassword}}';
            """, connection);
        await role.ExecuteNonQueryAsync();
    }

    /// <summary>Whether this process starts its own cluster (no <c>TLOG_TEST_PG</c>).</summary>
    private static bool Private => string.IsNullOrEmpty(Environment.GetEnvironmentVariable("TLOG_TEST_PG"));

    private static string Start()
    {
        var configured = Environment.GetEnvironmentVariable("TLOG_TEST_PG");
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        var directory = Path.Combine(Path.GetTempPath(), "tlog-test-pg-" + Environment.ProcessId);
        var port = TestPorts.Next();
        Run(Path.Combine(RepositoryPaths.Root, "scripts", "pg.sh"), $"start {directory} {port}");
        var password = Run(Path.Combine(RepositoryPaths.Root, "scripts", "pg.sh"), $"password {directory}").Trim();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            Run(Path.Combine(RepositoryPaths.Root, "scripts", "pg.sh"), $"stop {directory}");
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        };
        return new NpgsqlConnectionStringBuilder($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Maximum Pool Size=20")
        {
            Password = password,
        }.ConnectionString;
    }


    internal static string Run(string script, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", $"{script} {arguments}")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"PostgreSQL could not be started for the tests ({script} {arguments}): {error.Result}");
        }

        return output;
    }
}

/// <summary>
/// A test's migrated database: (admin, app-role) connection strings, dropped when disposed. Dispose it after whatever
/// used it (a service, a process) has stopped; disposing twice drops once.
/// </summary>
internal sealed class TestDatabase(string name, string admin, string app) : IAsyncDisposable
{
    /// <summary>Superuser connection string for this database.</summary>
    public string Admin => admin;

    /// <summary>Service-role connection string for this database.</summary>
    public string App => app;

    public void Deconstruct(out string adminConnectionString, out string appConnectionString)
    {
        adminConnectionString = admin;
        appConnectionString = app;
    }

    public ValueTask DisposeAsync() => new(PostgresServer.DropDatabaseAsync(name));
}
