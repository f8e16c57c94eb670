using System.Net;
using System.Text;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.LogService.Tests.Infrastructure;

/// <summary>A fresh database and a running log service for one test class.</summary>
public sealed class LogFixture : IAsyncLifetime
{
    private LogServiceProcess? _service;

    private TestDatabase? _database;

    internal LogServiceProcess Service => _service ?? throw new InvalidOperationException("not started");

    internal HttpClient Client => Service.Client;

    internal LogPublicKey PublicKey { get; private set; } = null!;

    internal string AdminConnectionString { get; private set; } = "";

    internal string AppConnectionString { get; private set; } = "";

    internal string KeyDirectory { get; } = Directory.CreateTempSubdirectory("tlog-keys-").FullName;

    internal Entries Entries { get; } = new();

    public async Task InitializeAsync()
    {
        _database = await PostgresServer.CreateDatabaseAsync("log");
        (AdminConnectionString, AppConnectionString) = _database;
        _service = await LogServiceProcess.StartAsync(AppConnectionString, KeyDirectory);
        PublicKey = LogPublicKey.FromPem(await Client.GetStringAsync("/api/v1/log/publicKey"));
    }

    public async Task DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        Entries.Dispose();
        Directory.Delete(KeyDirectory, recursive: true);
    }

    internal async Task<RekorEntry> AppendAsync(string proposal)
    {
        using var response = await PostAsync("/api/v1/log/entries", proposal);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"expected 201, got {(int)response.StatusCode}: {body}");
        return RekorEntry.Parse(body);
    }

    internal Task<HttpResponseMessage> PostAsync(string path, string json) =>
        Client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
}
