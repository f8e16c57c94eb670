using System.Diagnostics;
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

    /// <summary>Creates an empty, migrated database and returns (admin, app-role) connection strings for it.</summary>
    public static async Task<(string Admin, string App)> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)].ToLowerInvariant();
        await CreateEmptyDatabaseAsync(name, await Template.Value);
        var admin = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
        var app = new NpgsqlConnectionStringBuilder(AppConnectionString) { Database = name }.ConnectionString;
        return (admin, app);
    }

    private static async Task<string> CreateTemplateAsync()
    {
        var name = $"template_{Guid.NewGuid():N}";
        await CreateEmptyDatabaseAsync(name, template: null);
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
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = "postgres" }.ConnectionString);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand(template is null ? $"CREATE DATABASE \"{name}\"" : $"CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"", connection);
        await create.ExecuteNonQueryAsync();
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
