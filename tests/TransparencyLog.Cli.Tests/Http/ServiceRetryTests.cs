using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Http;

namespace TransparencyLog.Cli.Tests.Http;

/// <summary>
/// tlog's clients of the CA, the log and the TSA against a real HTTP server on loopback that answers 503 or 429 with
/// Retry-After: retried within the bounds, announced on stderr, and given up with a clear error.
/// </summary>
public sealed class ServiceRetryTests : IAsyncLifetime
{
    private const string LogInfo = """{"rootHash":"aa","treeSize":7,"signedTreeHead":"fake.log - 1\n7\nqq==\n","treeID":"1"}""";

    private readonly FlakyService _service = new();

    public Task InitializeAsync() => _service.StartAsync();

    public Task DisposeAsync() => _service.DisposeAsync().AsTask();

    [Fact]
    public async Task LogInfo_503And429WithRetryAfterThenSuccess_RetriesAndSucceeds()
    {
        _service.Answers.Enqueue((503, "0"));
        _service.Answers.Enqueue((429, "0"));

        var (exitCode, output, error) = await RunAsync(new ServiceRetryOptions(5, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30)), "log", "info", "--rekor-url", _service.Url);

        Assert.True(exitCode == 0, error);
        Assert.Contains("Tree size:  7", output, StringComparison.Ordinal);
        Assert.Equal(3, _service.Requests.Count);
        Assert.Contains($"the transparency log at {_service.Url}/api/v1/log answered 503; retrying in 0 s (try 2 of 5)", error, StringComparison.Ordinal);
        Assert.Contains($"the transparency log at {_service.Url}/api/v1/log answered 429; retrying in 0 s (try 3 of 5)", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogInfo_503ForeverWithLongRetryAfter_WaitsCappedAndGivesUpAfterMaxAttempts()
    {
        _service.Forever = (503, "3600");

        var (exitCode, _, error) = await RunAsync(new ServiceRetryOptions(3, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30)), "log", "info", "--rekor-url", _service.Url);

        Assert.Equal(ExitCodes.Error, exitCode);
        Assert.Equal(3, _service.Requests.Count);
        Assert.Equal(2, error.Split('\n').Count(static l => l.Contains("answered 503; retrying in 0.2 s", StringComparison.Ordinal)));
        Assert.Contains($"the transparency log at {_service.Url}/api/v1/log still answered 503 after 3 tries over 0.4 s; giving up: busy", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogInfo_503ForeverWithinTheBudget_StopsWhenTheNextWaitWouldPassTheBudget()
    {
        _service.Forever = (503, "1");

        var (exitCode, _, error) = await RunAsync(new ServiceRetryOptions(10, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30)), "log", "info", "--rekor-url", _service.Url);

        Assert.Equal(ExitCodes.Error, exitCode);
        Assert.Equal(3, _service.Requests.Count);
        Assert.Contains("still answered 503 after 3 tries over 2 s; giving up", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LogInfo_503WithoutRetryAfter_NotRetried()
    {
        _service.Forever = (503, null);

        var (exitCode, _, error) = await RunAsync(ServiceRetryOptions.Default, "log", "info", "--rekor-url", _service.Url);

        Assert.Equal(ExitCodes.Error, exitCode);
        Assert.Single(_service.Requests);
        Assert.DoesNotContain("retrying", error, StringComparison.Ordinal);
        Assert.Contains($"the transparency log at {_service.Url}/api/v1/log answered 503: busy", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostJson_503WithRetryAfterThenSuccess_TheSameBodyIsSentAgain()
    {
        _service.Answers.Enqueue((503, "0"));
        var notes = new List<string>();
        using var http = ServiceRetryHandler.CreateClient(ServiceRetryOptions.Default, TimeProvider.System, notes.Add);
        var payload = new JsonObject { ["artifactHash"] = "abc", ["hashAlgorithm"] = "sha256" };

        var (status, _, response) = await ServiceCall.PostJsonAsync(http, new Uri(_service.Url + "/api/v1/timestamp"), payload, "the timestamp authority", CancellationToken.None);
        response.Dispose();

        Assert.Equal(200, (int)status);
        Assert.Equal(2, _service.Requests.Count);
        Assert.All(_service.Requests, static r => Assert.Equal("POST /api/v1/timestamp {\"artifactHash\":\"abc\",\"hashAlgorithm\":\"sha256\"}", r));
        Assert.Single(notes);
    }

    private static async Task<(int ExitCode, string Out, string Err)> RunAsync(ServiceRetryOptions options, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var http = ServiceRetryHandler.CreateClient(options, TimeProvider.System, TlogContext.Announcer(error));
        var home = Path.Combine(Path.GetTempPath(), "tlog-retry-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(home);
        try
        {
            var exitCode = await TlogApp.RunAsync(args, output, error, new TlogContext(http, static _ => null, home, TimeProvider.System));
            return (exitCode, output.ToString(), error.ToString());
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    /// <summary>A service that answers the queued failures first, then <see cref="Forever"/> or success, recording each request.</summary>
    private sealed class FlakyService : IAsyncDisposable
    {
        private WebApplication? _app;

        public ConcurrentQueue<(int Status, string? RetryAfter)> Answers { get; } = new();

        public (int Status, string? RetryAfter)? Forever { get; set; }

        public ConcurrentQueue<string> Requests { get; } = new();

        public string Url => _app!.Urls.First();

        public async Task StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            _app = builder.Build();
            _app.Run(async context =>
            {
                using var reader = new StreamReader(context.Request.Body);
                var body = await reader.ReadToEndAsync();
                Requests.Enqueue($"{context.Request.Method} {context.Request.Path}{(body.Length > 0 ? " " + body : string.Empty)}");
                var failure = Answers.TryDequeue(out var queued) ? queued : Forever;
                if (failure is { } answer)
                {
                    context.Response.StatusCode = answer.Status;
                    if (answer.RetryAfter is not null)
                    {
                        context.Response.Headers.RetryAfter = answer.RetryAfter;
                    }

                    await context.Response.WriteAsJsonAsync(new { code = answer.Status, message = "busy" });
                    return;
                }

                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(LogInfo);
            });
            await _app.StartAsync();
        }

        public async ValueTask DisposeAsync()
        {
            if (_app is not null)
            {
                await _app.DisposeAsync();
            }
        }
    }
}
