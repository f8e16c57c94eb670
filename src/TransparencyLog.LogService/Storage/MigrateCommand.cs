using TransparencyLog.Hosting;

namespace TransparencyLog.LogService.Storage;

/// <summary>
/// <c>TransparencyLog.LogService migrate --connection CS [--password-file FILE] [--app-role ROLE] [--app-password-file FILE]</c>: applies the
/// schema as a separate step (the service role needs no DDL rights), then exits.
/// </summary>
internal static class MigrateCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        string? connection = Environment.GetEnvironmentVariable("MIGRATE_CONNECTION");
        string? role = null;
        string? passwordFile = null;
        string? adminPasswordFile = null;
        string? directory = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--connection": connection = Next(); break;
                case "--app-role": role = Next(); break;
                case "--app-password-file": passwordFile = Next(); break;
                case "--migrations": directory = Next(); break;
                case "--password-file": adminPasswordFile = Next(); break;
                default:
                    await Console.Error.WriteLineAsync($"unknown option {args[i]}");
                    return 2;
            }
        }

        if (string.IsNullOrEmpty(connection))
        {
            await Console.Error.WriteLineAsync("migrate needs --connection (or MIGRATE_CONNECTION): a role allowed to create tables");
            return 2;
        }

        connection = PostgresConnections.WithPasswordFile(connection, adminPasswordFile);

        directory ??= Path.Combine(AppContext.BaseDirectory, "migrations");
        var password = passwordFile is null ? null : PostgresConnections.ReadPasswordFile(passwordFile);
        try
        {
            await new Migrator(connection, directory, Console.Out).RunAsync(role, password, CancellationToken.None);
            return 0;
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or ArgumentException or IOException)
        {
            await Console.Error.WriteLineAsync($"migrate failed: {e.Message}");
            return 1;
        }
    }
}
