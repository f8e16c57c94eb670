using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Npgsql;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// A throughput benchmark of the log service as deployed: a real process, real HTTP, PostgreSQL with fsync on.
/// It prints figures; it asserts nothing (targets are reported as met or missed, the exit code stays 0).
/// </summary>
internal static class LogBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        BenchmarkOptions options;
        try
        {
            options = BenchmarkOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 2;
        }

        var durability = await ReadDurabilitySettingsAsync(options.AdminConnectionString);
        if (durability["fsync"] != "on" || durability["synchronous_commit"] != "on")
        {
            // A figure measured without durable commits says nothing about a transparency log (spec §5).
            await Console.Error.WriteLineAsync($"refusing to benchmark: fsync={durability["fsync"]}, synchronous_commit={durability["synchronous_commit"]}");
            return 1;
        }

        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Clients,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        };
        using var http = new HttpClient(handler) { BaseAddress = options.ServiceUrl, Timeout = TimeSpan.FromSeconds(30) };
        // One client per service process (several processes on one database); worker w talks to process w mod N.
        var clients = options.ServiceUrls.Select(u => u == options.ServiceUrl ? http : new HttpClient(handler, disposeHandler: false) { BaseAddress = u, Timeout = TimeSpan.FromSeconds(30) }).ToArray();
        foreach (var client in clients)
        {
            await WaitHealthyAsync(client);
        }

        if (clients.Length > 1)
        {
            Console.WriteLine($"{clients.Length} service processes on one database; clients spread round-robin");
        }

        Console.WriteLine($"pre-signing {options.EntriesToSign:N0} hashedrekord proposals (ECDSA P-256{(options.ProposalKey == ProposalKey.Certificate ? ", each key in a CA-issued certificate" : "")})...");
        var signing = Stopwatch.StartNew();
        var proposals = Proposals.Sign(options.EntriesToSign, options.SignerKeys, options.ProposalKey);
        Console.WriteLine($"  done in {signing.Elapsed.TotalSeconds:F1} s");

        await using var sampler = new ProcessSampler(options.ServicePids.Count > 0 ? options.ServicePids : [0], options.PostgresDataDirectory);
        var json = new MediaTypeHeaderValue("application/json");
        async Task<Outcome> AppendAsync(int worker, CancellationToken cancellationToken)
        {
            if (proposals.Take() is not { } proposal)
            {
                return Outcome.NoMoreWork;
            }

            using var content = new ByteArrayContent(proposal);
            content.Headers.ContentType = json;
            using var response = await clients[worker % clients.Length].PostAsync("/api/v1/log/entries", content, cancellationToken);
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            return response.StatusCode == HttpStatusCode.Created ? Outcome.Ok : Outcome.Failed($"HTTP {(int)response.StatusCode}");
        }

        if (options.WarmupSeconds > 0)
        {
            Console.WriteLine($"warm-up: {options.WarmupSeconds} s of appends, not counted");
            await LoadPhase.RunAsync("warm-up", options.Clients, TimeSpan.FromSeconds(options.WarmupSeconds), AppendAsync);
        }

        var sizeBefore = await TreeSizeAsync(http);
        Console.WriteLine($"appends: {options.Clients} clients for {options.DurationSeconds} s");
        var statements = new StatementStats(options.AdminConnectionString);
        await statements.ResetAsync();
        var before = sampler.Take();
        var writes = await LoadPhase.RunAsync("log appends (POST)", options.Clients, TimeSpan.FromSeconds(options.DurationSeconds), AppendAsync);
        var writeCpu = ProcessSampler.Between(before, sampler.Take());
        await statements.PrintAsync("append", writes.Succeeded);
        var peakAfterWrites = sampler.PeakRssMiB;
        var treeSize = await TreeSizeAsync(http);
        var bodyBytes = await AverageBodyBytesAsync(http, treeSize);
        Console.WriteLine($"  {writes.Succeeded:N0} acknowledged; tree grew {sizeBefore:N0} -> {treeSize:N0}; canonical bodies average {bodyBytes} bytes");

        PhaseResult? reads = null;
        CpuUsage? readCpu = null;
        if (options.ReadDurationSeconds > 0)
        {
            Console.WriteLine($"inclusion-proof reads: {options.Clients} clients for {options.ReadDurationSeconds} s over {treeSize:N0} entries");
            await statements.ResetAsync();
            before = sampler.Take();
            // The reader's own CPU counts against the machine's two cores, so it stays lean: one absolute URI parsed per
            // read (a relative one is parsed, then combined with the base address), and the body drained into a
            // buffer per worker instead of being copied into a fresh one per response.
            var bases = clients.Select(c => c.BaseAddress!.GetLeftPart(UriPartial.Authority) + "/api/v1/log/entries?logIndex=").ToArray();
            var drains = Enumerable.Range(0, options.Clients).Select(_ => new byte[16 * 1024]).ToArray();
            reads = await LoadPhase.RunAsync("inclusion-proof reads (GET)", options.Clients, TimeSpan.FromSeconds(options.ReadDurationSeconds), async (worker, cancellationToken) =>
            {
                var index = Random.Shared.NextInt64(treeSize);
                var target = worker % clients.Length;
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(bases[target] + index.ToString(CultureInfo.InvariantCulture)));
                using var response = await clients[target].SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
                await using (var body = await response.Content.ReadAsStreamAsync(cancellationToken))
                {
                    while (await body.ReadAsync(drains[worker], cancellationToken) > 0)
                    {
                    }
                }

                return response.StatusCode == HttpStatusCode.OK ? Outcome.Ok : Outcome.Failed($"HTTP {(int)response.StatusCode}");
            });
            readCpu = ProcessSampler.Between(before, sampler.Take());
            await statements.PrintAsync("read", reads.Succeeded);
        }

        var peakRss = sampler.PeakRssMiB;
        var polledRss = sampler.MaxPolledRssMiB;

        var raw = new RawInsertBaseline(options.AdminConnectionString, options.Clients, bodyBytes);
        Console.WriteLine($"raw PostgreSQL, 1 row per commit: {options.Clients} connections for {options.DurationSeconds} s");
        before = sampler.Take();
        var single = await raw.SingleRowAsync(TimeSpan.FromSeconds(options.DurationSeconds));
        var singleCpu = ProcessSampler.Between(before, sampler.Take());
        Console.WriteLine($"raw PostgreSQL, {options.RawBatchRows} rows per commit: {options.Clients} connections for {options.DurationSeconds} s");
        before = sampler.Take();
        var (batched, batchedRows) = await raw.BatchedAsync(TimeSpan.FromSeconds(options.DurationSeconds), options.RawBatchRows);
        var batchedCpu = ProcessSampler.Between(before, sampler.Take());

        Report.Print(new Report(
            options, durability, proposals.Count, writes, writeCpu, reads, readCpu, single, singleCpu, batched, batchedRows, batchedCpu,
            peakAfterWrites, peakRss, polledRss, bodyBytes, sampler.HasPostgres));
        return 0;
    }

    private static async Task<Dictionary<string, string>> ReadDurabilitySettingsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in new[] { "fsync", "synchronous_commit", "wal_sync_method", "full_page_writes", "server_version" })
        {
            await using var show = new NpgsqlCommand($"SHOW {name}", connection);
            settings[name] = (string?)await show.ExecuteScalarAsync() ?? "";
        }

        return settings;
    }

    private static async Task WaitHealthyAsync(HttpClient http)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await http.GetAsync("/healthz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("the log service did not become healthy within 60 s");
            }

            await Task.Delay(200);
        }
    }

    private static async Task<long> TreeSizeAsync(HttpClient http)
    {
        using var document = JsonDocument.Parse(await http.GetStringAsync("/api/v1/log"));
        return document.RootElement.GetProperty("treeSize").GetInt64();
    }

    // The raw-insert rows carry bodies of the size the log really stores, measured rather than guessed.
    private static async Task<int> AverageBodyBytesAsync(HttpClient http, long treeSize)
    {
        if (treeSize == 0)
        {
            return 600;
        }

        long total = 0;
        const int Samples = 20;
        for (var i = 0; i < Samples; i++)
        {
            using var document = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/log/entries?logIndex={Random.Shared.NextInt64(treeSize)}"));
            var entry = document.RootElement.EnumerateObject().First().Value;
            total += Convert.FromBase64String(entry.GetProperty("body").GetString() ?? "").Length;
        }

        return (int)(total / Samples);
    }
}
