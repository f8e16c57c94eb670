using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.LogService.Tests.Tuf;

/// <summary>A log service with the TUF repository on, its online key and admin token in a temporary directory.</summary>
internal sealed class TufService : IAsyncDisposable
{
    private readonly bool _ownsDirectory;

    /// <summary>The database, for the first replica only (a replica started with <c>replicaOf</c> shares it).</summary>
    private readonly TestDatabase? _database;

    private TufService(LogServiceProcess process, string directory, LogSigner online, string token, string app, bool ownsDirectory, TestDatabase? database)
    {
        _ownsDirectory = ownsDirectory;
        _database = database;
        Process = process;
        Directory = directory;
        Online = online;
        Token = token;
        AppConnectionString = app;
    }

    public LogServiceProcess Process { get; }

    public HttpClient Client => Process.Client;

    public string Directory { get; }

    public LogSigner Online { get; }

    public string Token { get; }

    public string AppConnectionString { get; }

    /// <summary>Starts a service; with <paramref name="replicaOf"/>, a second replica on the same database, keys and token.</summary>
    public static async Task<TufService> StartAsync(IReadOnlyDictionary<string, string>? extra = null, TufService? replicaOf = null)
    {
        var directory = replicaOf?.Directory ?? System.IO.Directory.CreateTempSubdirectory("tlog-tuf-").FullName;
        var online = replicaOf?.Online ?? LogSigner.Generate(LogKeyType.EcdsaP256);
        var token = replicaOf?.Token ?? Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var appConnectionString = replicaOf?.AppConnectionString;
        await File.WriteAllTextAsync(Path.Combine(directory, "online.pem"), online.ExportPkcs8Pem(null));
        await File.WriteAllTextAsync(Path.Combine(directory, "token"), token + "\n");
        TestDatabase? database = null;
        var app = appConnectionString;
        if (app is null)
        {
            database = await PostgresServer.CreateDatabaseAsync("tuf");
            app = database.App;
        }
        var settings = new Dictionary<string, string>
        {
            ["Tuf__Enabled"] = "true",
            ["Tuf__OnlineKeyPath"] = Path.Combine(directory, "online.pem"),
            ["Tuf__AdminTokenFile"] = Path.Combine(directory, "token"),
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        var process = await LogServiceProcess.StartAsync(app, directory, settings: settings);
        return new TufService(process, directory, online, token, app, replicaOf is null, database);
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
        if (_ownsDirectory)
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
