using TransparencyLog.LogService.Storage;

namespace TransparencyLog.Testing;

/// <summary>This project references the log service, so each test database is migrated in process (fast).</summary>
internal static partial class PostgresServer
{
    private static partial Task MigrateAsync(string admin, string appRole) =>
        new Migrator(admin, Path.Combine(RepositoryPaths.Root, "migrations"), TextWriter.Null).RunAsync(appRole, null, CancellationToken.None);
}
