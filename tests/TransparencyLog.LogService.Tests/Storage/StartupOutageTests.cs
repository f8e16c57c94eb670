using System.Net;
using System.Text;
using System.Text.Json;
using Npgsql;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.LogService.Tests.Storage;

/// <summary>
/// The service started while PostgreSQL is not there (a cluster of this class's own, migrated and then stopped): it
/// stays up, alive but not ready, answers its APIs with 503 and Retry-After in their error shape, logs the outage once,
/// and opens its logs by itself once PostgreSQL listens on that port.
/// </summary>
public sealed class StartupOutageTests : IAsyncLifetime
{
    private readonly PrivateCluster _cluster = new(Path.Combine(Path.GetTempPath(), "tlog-startup-pg-" + Guid.NewGuid().ToString("N")[..8]));
    private readonly string _stateDirectory = Directory.CreateTempSubdirectory("tlog-startup-").FullName;
    private readonly Entries _entries = new();
    private string _connectionString = "";

    public async Task InitializeAsync()
    {
        _cluster.Start();
        _connectionString = await _cluster.CreateMigratedDatabaseAsync("startup", Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        NpgsqlConnection.ClearAllPools();
        _cluster.Stop();
    }

    public Task DisposeAsync()
    {
        _cluster.Dispose();
        _entries.Dispose();
        TryDelete(_stateDirectory);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Start_PostgresUnreachable_AliveNotReadyAnswers503ThenOpensWhenPostgresStarts()
    {
        var servicePort = ServiceProcess.FreePort();
        var start = ServiceProcess.Dotnet(RepositoryPaths.ProjectOutput("TransparencyLog.LogService"));
        start.Environment["Urls"] = $"http://127.0.0.1:{servicePort}";
        start.Environment["Storage__ConnectionString"] = _connectionString;
        start.Environment["Logs__Rekor__Name"] = "startup.test.local";
        start.Environment["Logs__Rekor__StateDirectory"] = _stateDirectory;
        start.Environment["Serilog__MinimumLevel__Default"] = "Information";
        start.Environment["Serilog__MinimumLevel__Override__Microsoft"] = "Warning";
        start.Environment["Serilog__MinimumLevel__Override__System"] = "Warning";
        await using var service = ServiceProcess.Start("the log service", start);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{servicePort}"), Timeout = TimeSpan.FromSeconds(30) };

        // Alive although PostgreSQL does not listen: the process stayed up and serves its liveness probe.
        await service.WaitReadyAsync(new Uri(client.BaseAddress, "/healthz"), client, TimeSpan.FromSeconds(90));
        for (var round = 0; round < 3; round++)
        {
            using (var ready = await client.GetAsync("/readyz"))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            }

            await AssertRekorUnavailableAsync(await client.GetAsync("/api/v1/log"));
            await AssertRekorUnavailableAsync(await client.GetAsync("/api/v1/log/publicKey"));
            await AssertRekorUnavailableAsync(await client.GetAsync("/api/v1/log/stream?from=0"));
            await AssertRekorUnavailableAsync(await client.PostAsync("/api/v1/log/entries", Json(_entries.NewHashedRekord().Json)));
            using (var page = await client.GetAsync("/explorer/"))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
                Assert.NotNull(page.Headers.RetryAfter);
                Assert.Contains("Temporarily unavailable", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            using (var checkpoint = await client.GetAsync("/checkpoint"))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, checkpoint.StatusCode);
                Assert.NotNull(checkpoint.Headers.RetryAfter);
            }

            // Several one-second retries pass between rounds; each must stay quiet.
            await Task.Delay(TimeSpan.FromSeconds(1.5));
        }

        Assert.False(service.HasExited, service.Output);
        Assert.Equal(1, Count(service.Output, "PostgreSQL is unavailable"));
        Assert.DoesNotContain("   at ", service.Output, StringComparison.Ordinal);

        _cluster.Start();

        await service.WaitReadyAsync(new Uri(client.BaseAddress, "/readyz"), client, TimeSpan.FromSeconds(90));
        using var appended = await client.PostAsync("/api/v1/log/entries", Json(_entries.NewHashedRekord().Json));
        Assert.Equal(HttpStatusCode.Created, appended.StatusCode);
        using var info = JsonDocument.Parse(await client.GetStringAsync("/api/v1/log"));
        Assert.Equal(1, info.RootElement.GetProperty("treeSize").GetInt64());
        Assert.Equal(1, Count(service.Output, "PostgreSQL is unavailable"));
        Assert.Equal(1, Count(service.Output, "PostgreSQL is available again"));
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

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

    private static int Count(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
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
