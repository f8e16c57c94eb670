using System.Globalization;
using Npgsql;
using TransparencyLog.Hosting;
using TransparencyLog.LogService.Storage;

namespace TransparencyLog.LogService.Integrity;

/// <summary>
/// <c>TransparencyLog.LogService fsck --connection CS [--password-file FILE] [--full] [--entries N] [--checkpoints N]</c>:
/// checks every log in the database (<see cref="LogChecker"/>), prints one line per log and, for a log that fails,
/// the first divergence. Without <c>--full</c> it checks what the service checks at start-up: the last
/// <c>--entries</c> entries (65,536) with their tiles and the last <c>--checkpoints</c> checkpoints (100).
/// Exit codes: 0 every log is consistent, 1 a divergence was found, 2 usage, 3 the database could not be read.
/// Any role that can read the tables will do (the service role can).
/// </summary>
internal static class FsckCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        string? connection = Environment.GetEnvironmentVariable("Storage__ConnectionString");
        string? passwordFile = Environment.GetEnvironmentVariable("Storage__PasswordFile");
        var full = false;
        var defaults = new IntegrityOptions();
        long entries = defaults.CheckEntries;
        int checkpoints = defaults.CheckCheckpoints;
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--connection": connection = Next(); break;
                    case "--password-file": passwordFile = Next(); break;
                    case "--full": full = true; break;
                    case "--entries": entries = long.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture); break;
                    case "--checkpoints": checkpoints = int.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture); break;
                    default: throw new ArgumentException($"unknown option {args[i]}");
                }
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            await Console.Error.WriteLineAsync($"fsck: {e.Message}");
            await Console.Error.WriteLineAsync("usage: fsck --connection CS [--password-file FILE] [--full] [--entries N] [--checkpoints N]");
            return 2;
        }

        if (string.IsNullOrEmpty(connection))
        {
            await Console.Error.WriteLineAsync("fsck needs --connection (or Storage__ConnectionString): a role that can read the log tables");
            return 2;
        }

        try
        {
            connection = PostgresConnections.WithPasswordFile(connection, passwordFile);

            await using var dataSource = NpgsqlDataSource.Create(connection);
            var scope = full ? CheckScope.Full : new CheckScope(entries, checkpoints);
            var results = await new LogChecker(dataSource).CheckAllAsync(scope, CancellationToken.None);
            foreach (var result in results)
            {
                Console.WriteLine(result.ToString());
            }

            var failed = results.Count(r => !r.Consistent);
            Console.WriteLine(failed == 0
                ? $"fsck: {results.Count} log(s) consistent ({(full ? "full check" : "bounded check; --full checks everything")})"
                : $"fsck: {failed} of {results.Count} log(s) diverge; the service must not sign on top of them (docs/operations.md)");
            return failed == 0 ? 0 : 1;
        }
        catch (Exception e) when (e is NpgsqlException or IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            // Npgsql's messages name host, port and role, never the password.
            await Console.Error.WriteLineAsync($"fsck: cannot read the database: {e.Message}");
            return 3;
        }
    }
}
