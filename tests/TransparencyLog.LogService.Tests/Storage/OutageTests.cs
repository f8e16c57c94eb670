using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text;
using Npgsql;
using TransparencyLog.LogService.Tests.CertificateTransparency;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.LogService.Tests.Storage;

/// <summary>
/// PostgreSQL stopped under a running service, then started again: a cluster of this class's own (scripts/pg.sh),
/// since the shared one cannot be stopped. While it is down, what a signed head or an immutable tile answers is
/// served from memory, everything else is 503 with Retry-After in the API's error shape; the outage is logged once
/// when it begins and once when it ends.
/// </summary>
public sealed class OutageTests : IAsyncLifetime
{
    private const int EntryCount = 257;

    private readonly PrivateCluster _cluster = new(Path.Combine(Path.GetTempPath(), "tlog-outage-pg-" + Guid.NewGuid().ToString("N")[..8]));
    private readonly string _stateDirectory = Directory.CreateTempSubdirectory("tlog-outage-").FullName;
    private readonly TestCa _ca = new("outage-test");
    private readonly Entries _entries = new();
    private LogServiceProcess? _service;

    private LogServiceProcess Service => _service ?? throw new InvalidOperationException("not started");

    private HttpClient Client => Service.Client;

    public async Task InitializeAsync()
    {
        _cluster.Start();
        var connectionString = await _cluster.CreateMigratedDatabaseAsync("outage", Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        var rootsPath = Path.Combine(_stateDirectory, "roots.pem");
        await File.WriteAllTextAsync(rootsPath, _ca.Intermediate.ExportCertificatePem() + "\n" + _ca.RootPem);
        _service = await LogServiceProcess.StartAsync(connectionString, _stateDirectory, settings: new Dictionary<string, string>
        {
            ["Logs__RekorV2__Enabled"] = "true",
            ["Logs__RekorV2__Name"] = "outage-v2.test.local",
            ["Logs__RekorV2__StateDirectory"] = _stateDirectory,
            ["Logs__Ct__Enabled"] = "true",
            ["Logs__Ct__Name"] = "outage.test.local/ct",
            ["Logs__Ct__StateDirectory"] = _stateDirectory,
            ["CertificateTransparency__RootsPath"] = rootsPath,
            ["Serilog__MinimumLevel__Default"] = "Information",
            ["Serilog__MinimumLevel__Override__Microsoft"] = "Warning",
            ["Serilog__MinimumLevel__Override__System"] = "Warning",
        });
    }

    public async Task DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        _cluster.Dispose();
        _ca.Dispose();
        _entries.Dispose();
        TryDelete(_stateDirectory);
    }

    [Fact]
    public async Task Reads_PostgresStoppedThenStarted_ServeFromMemoryOr503AndLogEachTransitionOnce()
    {
        // A full tile (256 entries) and one entry beyond it; everything the outage should still serve is read once.
        var sha256 = await AppendEntriesAsync();
        var logInfo = await GetJsonAsync("/api/v1/log");
        var checkpoint = await Client.GetStringAsync("/checkpoint");
        var v2Checkpoint = await Client.GetStringAsync("/api/v2/checkpoint");
        var sthSize = (await GetJsonAsync("/ct/v1/get-sth")).GetProperty("tree_size").GetInt64();
        var hashTile = await Client.GetByteArrayAsync("/tile/0/000");
        var entryBundle = await Client.GetByteArrayAsync("/tile/entries/000");
        var found = await PostJsonAsync("/api/v1/index/retrieve", $$"""{"hash":"sha256:{{sha256}}"}""");
        var entryUuid = JsonDocument.Parse(found.Content).RootElement[0].GetString();

        _cluster.Stop();

        for (var round = 0; round < 3; round++)
        {
            // Served from memory: the last signed heads and the full tiles.
            Assert.Equal(EntryCount, (await GetJsonAsync("/api/v1/log")).GetProperty("treeSize").GetInt64());
            Assert.Equal(logInfo.GetProperty("signedTreeHead").GetString(), (await GetJsonAsync("/api/v1/log")).GetProperty("signedTreeHead").GetString());
            Assert.Equal(checkpoint, await Client.GetStringAsync("/checkpoint"));
            Assert.Equal(v2Checkpoint, await Client.GetStringAsync("/api/v2/checkpoint"));
            Assert.Equal(sthSize, (await GetJsonAsync("/ct/v1/get-sth")).GetProperty("tree_size").GetInt64());
            Assert.Equal(hashTile, await Client.GetByteArrayAsync("/tile/0/000"));
            Assert.Equal(entryBundle, await Client.GetByteArrayAsync("/tile/entries/000"));

            // Needs the database: 503, Retry-After, the API's own error shape.
            await AssertRekorUnavailableAsync(await Client.GetAsync("/api/v1/log/entries?logIndex=0"));
            await AssertRekorUnavailableAsync(await Client.GetAsync($"/api/v1/log/entries/{entryUuid}"));
            await AssertRekorUnavailableAsync(await Client.GetAsync($"/api/v1/log/proof?firstSize=1&lastSize={EntryCount}"));
            await AssertRekorUnavailableAsync(await PostAsync("/api/v1/index/retrieve", $$"""{"hash":"sha256:{{sha256}}"}"""));
            await AssertRekorUnavailableAsync(await PostAsync("/api/v1/log/entries/retrieve", """{"logIndexes":[0]}"""));
            await AssertRekorUnavailableAsync(await PostAsync("/api/v1/log/entries", _entries.NewHashedRekord().Json));
            await AssertTextUnavailableAsync(await Client.GetAsync("/ct/v1/get-entries?start=0&end=0"));
            await AssertTextUnavailableAsync(await Client.GetAsync("/tile/0/001.p/5"));
        }

        var output = Service.Output;
        Assert.Equal(1, Count(output, "PostgreSQL is unavailable"));
        Assert.DoesNotContain(" ERR]", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);

        _cluster.Start();

        // Back: the database answers again (the pool's broken connections are replaced), and recovery is logged once.
        await WaitUntilAsync(async () => (await Client.GetAsync("/api/v1/log/entries?logIndex=0")).StatusCode == HttpStatusCode.OK);
        await WaitUntilAsync(() => Task.FromResult(Count(Service.Output, "PostgreSQL is available again") == 1));
        var appended = await PostAsync("/api/v1/log/entries", _entries.NewHashedRekord().Json);
        Assert.Equal(HttpStatusCode.Created, appended.StatusCode);
        Assert.Equal(EntryCount + 1, (await GetJsonAsync("/api/v1/log")).GetProperty("treeSize").GetInt64());
        Assert.Equal(1, Count(Service.Output, "PostgreSQL is unavailable"));
        Assert.Equal(1, Count(Service.Output, "PostgreSQL is available again"));
    }

    private async Task<string> AppendEntriesAsync()
    {
        var proposals = Enumerable.Range(0, EntryCount).Select(_ => _entries.NewHashedRekord()).ToList();
        foreach (var chunk in proposals.Chunk(32))
        {
            var responses = await Task.WhenAll(chunk.Select(p => PostAsync("/api/v1/log/entries", p.Json)));
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        }

        return proposals[0].ArtifactSha256;
    }

    private static async Task AssertRekorUnavailableAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {body}");
            Assert.NotNull(response.Headers.RetryAfter);
            using var error = JsonDocument.Parse(body);
            Assert.Equal(503, error.RootElement.GetProperty("code").GetInt32());
            Assert.Contains("unavailable", error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
    }

    private static async Task AssertTextUnavailableAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {body}");
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.Contains("unavailable", body, StringComparison.Ordinal);
        }
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private async Task<(HttpStatusCode Status, string Content)> PostJsonAsync(string path, string json)
    {
        using var response = await PostAsync(path, json);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private Task<HttpResponseMessage> PostAsync(string path, string json) =>
        Client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private static int Count(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>Waits for a condition with a generous bound (a slow machine restarts PostgreSQL slowly); never asserts time.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 90 s");
            await Task.Delay(200);
        }
    }

    private static void TryDelete(string directory)
    {
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
    }
}
