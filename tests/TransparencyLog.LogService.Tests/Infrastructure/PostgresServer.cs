using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace TransparencyLog.LogService.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server tests run against: the one <c>./test.sh</c> started (<c>TLOG_TEST_PG</c>, an admin connection
/// string), or else a private cluster this process starts with <c>scripts/pg.sh</c> and removes when it exits.
/// There is no fallback to anything else: without PostgreSQL these tests fail, they never skip.
/// </summary>
internal static class PostgresServer
{
    private static readonly Lazy<string> Admin = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Connection string of a superuser, without a database.</summary>
    public static string AdminConnectionString => Admin.Value;

    /// <summary>Creates an empty, migrated database and returns (admin, app-role) connection strings for it.</summary>
    public static async Task<(string Admin, string App)> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)].ToLowerInvariant();
        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = "postgres" }.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        var admin = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
        await new global::TransparencyLog.LogService.Storage.Migrator(admin, Path.Combine(RepositoryPaths.Root, "migrations"), TextWriter.Null)
            .RunAsync("tlog_app", null, CancellationToken.None);
        var app = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, Username = "tlog_app", MaxPoolSize = 50 }.ConnectionString;
        return (admin, app);
    }

    private static string Start()
    {
        var configured = Environment.GetEnvironmentVariable("TLOG_TEST_PG");
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        var directory = Path.Combine(Path.GetTempPath(), "tlog-test-pg-" + Environment.ProcessId);
        var port = FreePort();
        Run(Path.Combine(RepositoryPaths.Root, "scripts", "pg.sh"), $"start {directory} {port}");
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
        return $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Maximum Pool Size=20";
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Run(string script, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", $"{script} {arguments}")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"PostgreSQL could not be started for the tests ({script} {arguments}): {error.Result}");
        }
    }
}
