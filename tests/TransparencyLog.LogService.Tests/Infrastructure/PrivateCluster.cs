using Npgsql;
using TransparencyLog.LogService.Storage;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.LogService.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL cluster of one test class's own (<c>scripts/pg.sh</c>), for tests that stop and start it or replicate
/// it, which the shared cluster must never be. Disposing stops it and deletes its directory.
/// </summary>
internal sealed class PrivateCluster : IDisposable
{
    private static readonly string Script = Path.Combine(RepositoryPaths.Root, "scripts", "pg.sh");

    public PrivateCluster(string directory)
    {
        Directory = directory;
        Port = TestPorts.Next();
    }

    public string Directory { get; }

    public int Port { get; }

    /// <summary>The superuser's connection string to the <c>postgres</c> database; set once started.</summary>
    public string Admin { get; private set; } = "";

    public void Start()
    {
        PostgresServer.Run(Script, $"start {Directory} {Port}");
        var password = PostgresServer.Run(Script, $"password {Directory}").Trim();
        Admin = $"Host=127.0.0.1;Port={Port};Username=postgres;Password={password};Database=postgres";
    }

    public void Stop() => PostgresServer.Run(Script, $"stop {Directory}");

    /// <summary>Starts this cluster as a streaming hot standby of <paramref name="primary"/> (<c>pg_basebackup -R</c>).</summary>
    public void StartAsStandbyOf(PrivateCluster primary) =>
        PostgresServer.Run(Script, $"standby {Directory} {Port} {primary.Directory} {primary.Port}");

    /// <summary>
    /// Creates <paramref name="database"/> migrated as the services' migrate step does, with the login role
    /// <c>tlog_app</c>; returns tlog_app's connection string to it.
    /// </summary>
    public async Task<string> CreateMigratedDatabaseAsync(string database, string appPassword)
    {
        await using (var connection = new NpgsqlConnection(Admin))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {database}; CREATE ROLE tlog_app LOGIN PASSWORD '{appPassword}'", connection);
            await create.ExecuteNonQueryAsync();
        }

        var admin = new NpgsqlConnectionStringBuilder(Admin) { Database = database };
        await new Migrator(admin.ConnectionString, Path.Combine(RepositoryPaths.Root, "migrations"), TextWriter.Null)
            .RunAsync("tlog_app", null, CancellationToken.None);
        return new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Username = "tlog_app", Password = appPassword }.ConnectionString;
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        Stop();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
