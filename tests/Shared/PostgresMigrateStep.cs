using System.Diagnostics;

namespace TransparencyLog.Testing;

/// <summary>
/// For test projects that do not reference the log service (the CLI and witness tests): the schema is applied the way
/// operators apply it, by the service's migrate step.
/// </summary>
internal static partial class PostgresServer
{
    private static async partial Task MigrateAsync(string admin, string appRole)
    {
        var migrate = Process.Start(new ProcessStartInfo("dotnet", [RepositoryPaths.ProjectOutput("TransparencyLog.LogService"), "migrate",
            "--migrations", Path.Combine(RepositoryPaths.Root, "migrations"), "--app-role", appRole])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["MIGRATE_CONNECTION"] = admin },
        }) ?? throw new InvalidOperationException("cannot start migrate");
        var errors = migrate.StandardError.ReadToEndAsync();
        await migrate.StandardOutput.ReadToEndAsync();
        await migrate.WaitForExitAsync();
        if (migrate.ExitCode != 0)
        {
            throw new InvalidOperationException($"migrate failed: {await errors}");
        }
    }
}
