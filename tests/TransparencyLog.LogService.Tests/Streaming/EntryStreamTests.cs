using System.Net;
using System.Text;
using System.Text.Json;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Tests.Streaming;

/// <summary>A log service allowing two concurrent entry streams, with its own database.</summary>
public sealed class EntryStreamFixture : IAsyncLifetime
{
    private LogServiceProcess? _service;

    private TestDatabase? _database;

    internal HttpClient Client => (_service ?? throw new InvalidOperationException("not started")).Client;

    internal Entries Entries { get; } = new();

    private string KeyDirectory { get; } = Directory.CreateTempSubdirectory("tlog-keys-").FullName;

    public async Task InitializeAsync()
    {
        _database = await PostgresServer.CreateDatabaseAsync("stream");
        var app = _database.App;
        _service = await LogServiceProcess.StartAsync(app, KeyDirectory, settings: new Dictionary<string, string>
        {
            ["EntryStream__MaxSubscribers"] = "2",
            ["EntryStream__HeartbeatSeconds"] = "1",
        });
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

    internal async Task<long> AppendAsync()
    {
        using var response = await Client.PostAsync("/api/v1/log/entries", new StringContent(Entries.NewHashedRekord().Json, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return RekorEntry.Parse(body).LogIndex;
    }

    internal async Task<long> SizeAsync()
    {
        using var document = JsonDocument.Parse(await Client.GetStringAsync("/api/v1/log"));
        return document.RootElement.GetProperty("treeSize").GetInt64();
    }
}

public sealed class EntryStreamTests(EntryStreamFixture log) : IClassFixture<EntryStreamFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Stream_DroppedAndResumedWithLastEventId_DeliversEveryEntryExactlyOnceInOrder()
    {
        var start = await log.SizeAsync();
        for (var i = 0; i < 5; i++)
        {
            await log.AppendAsync();
        }

        var appending = Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++)
            {
                await log.AppendAsync();
            }
        });
        var seen = new List<StreamEvent>();
        await using (var first = await SseStream.OpenAsync(log.Client, $"/api/v1/log/stream?from={start}"))
        {
            while (seen.Count < 12)
            {
                seen.Add(await first.NextAsync());
            }
        }

        await using (var second = await SseStream.OpenAsync(log.Client, "/api/v1/log/stream", lastEventId: seen[^1].Id))
        {
            while (seen.Count < 30)
            {
                seen.Add(await second.NextAsync());
            }
        }

        await appending;
        Assert.Equal(Enumerable.Range(0, 30).Select(i => start + i), seen.Select(static e => e.Id));
        foreach (var e in seen)
        {
            using var data = JsonDocument.Parse(e.Data);
            Assert.Equal("entry", e.Event);
            Assert.Equal(e.Id, data.RootElement.GetProperty("logIndex").GetInt64());
            var body = Convert.FromBase64String(data.RootElement.GetProperty("body").GetString()!);
            Assert.Equal(Rfc6962.HashLeaf(body).ToString(), data.RootElement.GetProperty("uuid").GetString());
            using var stored = JsonDocument.Parse(await log.Client.GetStringAsync($"/api/v1/log/entries?logIndex={e.Id}"));
            Assert.Equal(Convert.ToBase64String(body), stored.RootElement.EnumerateObject().Single().Value.GetProperty("body").GetString());
        }
    }

    [Fact]
    public async Task Stream_WithoutFrom_StartsAtTheCurrentSize()
    {
        await log.AppendAsync();
        var size = await log.SizeAsync();
        await using var stream = await SseStream.OpenAsync(log.Client, "/api/v1/log/stream");

        var index = await log.AppendAsync();
        var first = await stream.NextAsync();

        Assert.Equal(size, index);
        Assert.Equal(index, first.Id);
    }

    [Theory]
    [InlineData("from=-1")]
    [InlineData("from=abc")]
    [InlineData("from=99999999999999999999999")]
    public async Task Stream_BadFrom_Returns400InRekorShape(string query)
    {
        using var response = await log.Client.GetAsync($"/api/v1/log/stream?{query}");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(400, body.RootElement.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Stream_MoreSubscribersThanAllowed_Returns503UntilOneLeaves()
    {
        var first = await SseStream.OpenAsync(log.Client, "/api/v1/log/stream");
        await using var second = await SseStream.OpenAsync(log.Client, "/api/v1/log/stream");

        using (var third = await log.Client.GetAsync("/api/v1/log/stream", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, third.StatusCode);
            Assert.NotNull(third.Headers.RetryAfter);
        }

        await first.DisposeAsync();
        var deadline = DateTime.UtcNow + Patience;
        HttpStatusCode status;
        do
        {
            await Task.Delay(100);
            using var again = await log.Client.GetAsync("/api/v1/log/stream", HttpCompletionOption.ResponseHeadersRead);
            status = again.StatusCode;
        }
        while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.OK, status);
    }
}

internal sealed record StreamEvent(long Id, string Event, string Data);

/// <summary>A minimal text/event-stream reader (id, event, data lines; comments skipped).</summary>
internal sealed class SseStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));

    private SseStream(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public static async Task<SseStream> OpenAsync(HttpClient client, string path, long? lastEventId = null)
    {
        // A stream closed by an earlier test frees its slot only once the server sees the disconnect, so a 503 (all
        // slots taken) is retried for a while, as a client honouring Retry-After would; any other status fails at once.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        HttpResponseMessage response;
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (lastEventId is { } id)
            {
                request.Headers.Add("Last-Event-ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable || DateTime.UtcNow > deadline)
            {
                break;
            }

            response.Dispose();
            await Task.Delay(100);
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseStream(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    public async Task<StreamEvent> NextAsync()
    {
        string? id = null, name = null, data = null;
        while (true)
        {
            var line = await _reader.ReadLineAsync(_timeout.Token) ?? throw new EndOfStreamException("the stream ended");
            if (line.Length == 0)
            {
                if (data is not null)
                {
                    return new StreamEvent(long.Parse(id ?? "-1", System.Globalization.CultureInfo.InvariantCulture), name ?? "message", data);
                }

                continue;
            }

            if (line.StartsWith(':'))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
            switch (field)
            {
                case "id":
                    id = value;
                    break;
                case "event":
                    name = value;
                    break;
                case "data":
                    data = data is null ? value : data + "\n" + value;
                    break;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        _timeout.Dispose();
        return ValueTask.CompletedTask;
    }
}
