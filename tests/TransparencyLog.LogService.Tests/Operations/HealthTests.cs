using System.Net;
using System.Text.Json;
using Npgsql;
using TransparencyLog.LogService.Tests.Infrastructure;

namespace TransparencyLog.LogService.Tests.Operations;

/// <summary><c>/healthz</c> (alive) and <c>/readyz</c> (PostgreSQL reachable, keys loaded) of the real service.</summary>
public sealed class HealthTests
{
    [Fact]
    public async Task Readyz_DatabaseReachable_Returns200WithEachCheck()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("ready");
        var (_, app) = testDatabase;
        var keys = Directory.CreateTempSubdirectory("tlog-ready-").FullName;
        await using var service = await LogServiceProcess.StartAsync(app, keys);

        using var response = await service.Client.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("postgresql").GetProperty("status").GetString());
        Assert.Equal("Healthy", body.RootElement.GetProperty("checks").GetProperty("keys").GetProperty("status").GetString());
        Assert.Equal("ok", await service.Client.GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task Readyz_DatabaseDown_Returns503UntilItIsBack()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("down");
        var (admin, app) = testDatabase;
        var database = new NpgsqlConnectionStringBuilder(admin).Database!;
        var keys = Directory.CreateTempSubdirectory("tlog-down-").FullName;
        await using var service = await LogServiceProcess.StartAsync(app, keys);

        await SetConnectionsAllowedAsync(database, allowed: false);
        try
        {
            var down = await WaitForStatusAsync(service.Client, HttpStatusCode.ServiceUnavailable);
            using var body = JsonDocument.Parse(down);
            Assert.Equal("Unhealthy", body.RootElement.GetProperty("status").GetString());
            Assert.Equal("Unhealthy", body.RootElement.GetProperty("checks").GetProperty("postgresql").GetProperty("status").GetString());
            Assert.DoesNotContain("Npgsql", down, StringComparison.Ordinal);
            // Alive, just not ready: an orchestrator keeps the process and stops routing to it.
            Assert.Equal("ok", await service.Client.GetStringAsync("/healthz"));
        }
        finally
        {
            await SetConnectionsAllowedAsync(database, allowed: true);
        }

        await WaitForStatusAsync(service.Client, HttpStatusCode.OK);
    }

    /// <summary>Refuses (or allows again) new connections to the database and ends the existing ones.</summary>
    private static async Task SetConnectionsAllowedAsync(string database, bool allowed)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(PostgresServer.AdminConnectionString) { Database = "postgres" }.ConnectionString);
        await connection.OpenAsync();
        await using var alter = new NpgsqlCommand($"ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS {(allowed ? "true" : "false")}", connection);
        await alter.ExecuteNonQueryAsync();
        if (!allowed)
        {
            await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", connection);
            terminate.Parameters.AddWithValue(database);
            await terminate.ExecuteNonQueryAsync();
        }
    }

    /// <summary>Polls <c>/readyz</c> until it answers <paramref name="expected"/>; returns that body.</summary>
    private static async Task<string> WaitForStatusAsync(HttpClient client, HttpStatusCode expected)
    {
        var last = "";
        for (var attempt = 0; attempt < 120; attempt++)
        {
            using var response = await client.GetAsync("/readyz");
            last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            if (response.StatusCode == expected)
            {
                return await response.Content.ReadAsStringAsync();
            }

            await Task.Delay(250);
        }

        throw new Xunit.Sdk.XunitException($"/readyz never answered {(int)expected}; last: {last}");
    }
}
