using System.Net;
using System.Security.Cryptography;
using TransparencyLog.LogService.Tests.Timestamping;
using System.Text;
using System.Text.Json;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.LogService.Tests.Operations;

/// <summary><c>/metrics</c> of the real log service process, scraped before and after real requests.</summary>
public sealed class MetricsTests(LogFixture fixture) : IClassFixture<LogFixture>
{
    [Fact]
    public async Task Metrics_AfterAppendsReadsAndTimestamps_SeriesMoved()
    {
        var client = fixture.Client;
        var log = fixture.Service.LogName;
        var before = await PrometheusScrape.GetAsync(client);

        var first = fixture.Entries.NewHashedRekord().Json;
        await fixture.AppendAsync(first);
        await fixture.AppendAsync(fixture.Entries.NewHashedRekord().Json);
        using (var duplicate = await fixture.PostAsync("/api/v1/log/entries", first))
        {
            Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        }

        using var info = JsonDocument.Parse(await client.GetStringAsync("/api/v1/log"));
        var size = info.RootElement.GetProperty("treeSize").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/log/entries?logIndex=0")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/v1/log/proof?firstSize=1&lastSize={size}")).StatusCode);
        using (var timestamp = await PostTimestampAsync(client, TimestampRequests.Der(digest: SHA256.HashData(Encoding.UTF8.GetBytes("metrics")), certReq: true)))
        {
            Assert.Equal(HttpStatusCode.OK, timestamp.StatusCode);
        }

        using (var badTimestamp = await PostTimestampAsync(client, [0x30, 0x03, 0x02, 0x01]))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badTimestamp.StatusCode);
        }

        var after = await PrometheusScrape.GetAsync(client);

        Assert.Equal(2, Moved("rekor_new_entries", ("log", log)));
        Assert.Equal(1, Moved("tlog_duplicate_entries_total", ("log", log)));
        Assert.Equal(size, after.Sum("tlog_tree_size", ("log", log)));
        Assert.True(Moved("tlog_sequencer_batch_size_count", ("log", log)) >= 2, "batch sizes observed");
        Assert.Equal(3, Moved("tlog_sequencer_batch_size_sum", ("log", log)));
        Assert.Equal(3, Moved("tlog_sequencer_wait_seconds_count", ("log", log)));
        Assert.True(Moved("tlog_commit_duration_seconds_count", ("log", log)) >= 2, "commit latency observed");
        Assert.Contains(after.Series("tlog_sequencer_queue_depth"), labels => labels["log"] == log);
        Assert.True(Moved("tlog_proofs_served_total", ("log", log), ("kind", "inclusion")) >= 1, "inclusion proof counted");
        Assert.Equal(1, Moved("tlog_proofs_served_total", ("log", log), ("kind", "consistency")));
        Assert.Equal(1, Moved("tlog_timestamps_total", ("outcome", "issued")));
        Assert.Equal(1, Moved("tlog_timestamps_total", ("outcome", "rejected")));
        Assert.Equal(2, Moved("rekor_qps_by_api", ("path", "/api/v1/log/entries"), ("method", "POST"), ("code", "201")));
        Assert.Equal(1, Moved("rekor_qps_by_api", ("path", "/api/v1/log/entries"), ("method", "POST"), ("code", "409")));
        Assert.Equal(3, Moved("rekor_api_latency_count", ("path", "/api/v1/log/entries"), ("code", "201")) + Moved("rekor_api_latency_count", ("path", "/api/v1/log/entries"), ("code", "409")));
        Assert.Equal(2, Moved("http_request_duration_seconds_count", ("endpoint", "/api/v1/log/entries"), ("method", "POST"), ("code", "201")));
        Assert.Equal(1, Moved("http_requests_received_total", ("endpoint", "/api/v1/log"), ("method", "GET"), ("code", "200")));
        Assert.True(after.Has("process_cpu_seconds_total"), "process metrics exported");
        Assert.True(after.Has("dotnet_total_memory_bytes"), "runtime metrics exported");

        double Moved(string name, params (string, string)[] labels) => after.Sum(name, labels) - before.Sum(name, labels);
    }

    private static Task<HttpResponseMessage> PostTimestampAsync(HttpClient client, byte[] der)
    {
        var content = new ByteArrayContent(der);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/timestamp-query");
        return client.PostAsync("/api/v1/timestamp", content);
    }
}
