using System.Net;
using System.Text.Json;
using TransparencyLog.LogService.Tests.Infrastructure;

namespace TransparencyLog.LogService.Tests.Operations;

/// <summary>The shared log formats, as the real process writes them, and request logging without secrets.</summary>
public sealed class LoggingTests
{
    [Fact]
    public async Task Logs_JsonFormatFromEnvironment_EveryLineJsonWithRequestLinesAndNoSecrets()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("json");
        var (_, app) = testDatabase;
        var keys = Directory.CreateTempSubdirectory("tlog-json-").FullName;
        await using var service = await LogServiceProcess.StartAsync(app, keys, settings: new Dictionary<string, string>
        {
            ["TLOG_LOG_FORMAT"] = "json",
            ["Serilog__MinimumLevel__Default"] = "Information",
            ["Serilog__MinimumLevel__Override__Microsoft.AspNetCore"] = "Warning",
        });

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/log/entries?logIndex=0&password=hunter2-secret");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "token-secret-abc");
        using var response = await service.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        var lines = await WaitForLineAsync(service, "/api/v1/log/entries");
        foreach (var line in lines)
        {
            using var parsed = JsonDocument.Parse(line);
            Assert.True(parsed.RootElement.TryGetProperty("@t", out _), line);
        }

        var requestLine = Assert.Single(lines, l => l.Contains("\"RequestPath\":\"/api/v1/log/entries\"", StringComparison.Ordinal));
        using var requestEvent = JsonDocument.Parse(requestLine);
        Assert.Equal(404, requestEvent.RootElement.GetProperty("StatusCode").GetInt32());
        Assert.Equal("/api/v1/log/entries", requestEvent.RootElement.GetProperty("RoutePattern").GetString());
        Assert.DoesNotContain("hunter2-secret", service.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("token-secret-abc", service.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_PlainFormatFromSetting_OneReadableLinePerEvent()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("plain");
        var (_, app) = testDatabase;
        var keys = Directory.CreateTempSubdirectory("tlog-plain-").FullName;
        await using var service = await LogServiceProcess.StartAsync(app, keys, settings: new Dictionary<string, string>
        {
            ["Serilog__Format"] = "plain",
            ["Serilog__MinimumLevel__Default"] = "Information",
        });

        Assert.Equal(HttpStatusCode.OK, (await service.Client.GetAsync("/api/v1/log")).StatusCode);

        var lines = await WaitForLineAsync(service, "HTTP GET /api/v1/log responded 200");
        Assert.All(lines, line => Assert.Matches(@"^\[\d\d:\d\d:\d\d (VRB|DBG|INF|WRN|ERR|FTL)\] ", line));
    }

    [Fact]
    public async Task Service_UnknownLogFormat_RefusesToStartNamingTheSetting()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("badfmt");
        var (_, app) = testDatabase;
        var keys = Directory.CreateTempSubdirectory("tlog-badfmt-").FullName;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => LogServiceProcess.StartAsync(app, keys, settings: new Dictionary<string, string>
        {
            ["TLOG_LOG_FORMAT"] = "xml",
        }));

        Assert.Contains("TLOG_LOG_FORMAT", error.Message, StringComparison.Ordinal);
    }

    private static async Task<List<string>> WaitForLineAsync(LogServiceProcess service, string text)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var lines = service.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
            if (lines.Any(l => l.Contains(text, StringComparison.Ordinal)))
            {
                return lines;
            }

            await Task.Delay(100);
        }

        throw new Xunit.Sdk.XunitException($"no log line with '{text}' in:\n{service.Output}");
    }
}
