using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Npgsql;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// How fast the log explorer's pages render on a large log: fills the Rekor v1 log through its API with hashedrekord
/// entries signed under 64 certificate identities (so identity searches hit tens of thousands of entries each) unless
/// it already holds enough, then requests every kind of page one after another and prints latency percentiles.
/// With <c>--postgres-log</c> and <c>--admin-connection</c> (the cluster logging every statement's executor time
/// through auto_explain), it also prints the database's time per page request, which a loaded machine inflates far
/// less than the wall time. Measures; asserts nothing.
/// </summary>
internal static partial class ExplorerBenchmark
{
    private const int Identities = 64;

    public static async Task<int> RunAsync(string[] args)
    {
        var url = new Uri(Option(args, "--url") ?? "http://127.0.0.1:3000");
        var entries = long.Parse(Option(args, "--entries") ?? "1000000", CultureInfo.InvariantCulture);
        var clients = int.Parse(Option(args, "--clients") ?? "32", CultureInfo.InvariantCulture);
        var samples = int.Parse(Option(args, "--samples") ?? "100", CultureInfo.InvariantCulture);
        var postgresLog = Option(args, "--postgres-log");
        var admin = Option(args, "--admin-connection");

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = clients, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
        var signers = MakeSigners();
        var size = await TreeSizeAsync(http);
        if (size < entries)
        {
            await FillAsync(http, signers, entries - size, clients);
        }

        var digest = await FillAsync(http, signers, 1, 1);
        size = await TreeSizeAsync(http);
        Console.WriteLine(Inv($"log size {size:N0} entries; {samples} sequential requests per page after 3 warm-up requests"));

        var random = new Random(42);
        var hot = Uri.EscapeDataString(signers[0].Email);
        var other = Uri.EscapeDataString(signers[37].Email);
        var firstPage = await http.GetStringAsync($"/explorer/search?q={hot}&type=identity");
        var next = NextLink().Match(firstPage) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups[1].Value) : $"/explorer/search?q={hot}&type=identity";
        // Keyset paging: any (log, index) is a page position, so a page deep in the list is one whose cursor is an old index.
        var logId = CursorLog().Match(next) is { Success: true } c ? c.Groups[1].Value : "1";
        var uuids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            uuids.Add(await UuidAsync(http, random.NextInt64(size)));
        }

        var pages = new (string Name, Func<string> Path)[]
        {
            ("search: identity (email), page 1", () => $"/explorer/search?q={hot}&type=identity"),
            ("search: identity, detected", () => $"/explorer/search?q={other}"),
            ("search: identity, page 2", () => next),
            ("search: identity, deep page", () => $"/explorer/search?q={hot}&type=identity&after={logId}.{random.NextInt64(size / 2)}"),
            ("search: identity, no match", () => "/explorer/search?q=nobody%40bench.example&type=identity"),
            ("search: sha256:<digest>", () => $"/explorer/search?q=sha256:{digest}"),
            ("search: bare SHA-256 (or UUID)", () => $"/explorer/search?q={digest}"),
            ("search: log index", () => $"/explorer/search?q={random.NextInt64(size)}"),
            ("search: entry UUID", () => $"/explorer/search?q={uuids[random.Next(uuids.Count)]}"),
            ("entry page (random index)", () => $"/explorer/entries/rekor-v1/{random.NextInt64(size)}"),
            ("log page, 48 h chart", () => "/explorer/logs/rekor-v1"),
            ("log page, 30 d chart", () => "/explorer/logs/rekor-v1?range=30d"),
            ("log page + consistency 1..size", () => $"/explorer/logs/rekor-v1?first=1&second={size}"),
            ("log page, older entries", () => $"/explorer/logs/rekor-v1?before={random.NextInt64(size)}"),
            ("health page", () => "/explorer/health"),
        };

        await using var database = postgresLog is not null && admin is not null ? NpgsqlDataSource.Create(admin) : null;
        await using var marker = database is null ? null : await database.OpenConnectionAsync();
        var markerNumber = 0;
        async Task<int> MarkAsync()
        {
            if (marker is null)
            {
                return 0;
            }

            var n = ++markerNumber;
            // A LOG line in the server log between two requests; utility statements are not logged by auto_explain.
            await using var command = new NpgsqlCommand($"DO $$BEGIN RAISE LOG 'explorer-bench mark {n}'; END$$", marker);
            await command.ExecuteNonQueryAsync();
            return n;
        }

        Console.WriteLine(Inv($"{"page",-34}{"p50 ms",9}{"p99 ms",9}{"max ms",9}") + (marker is null ? "" : Inv($"{"db p50",9}{"db p99",9}{"db max",9}{"stmts",7}")) + "  load average");
        foreach (var (name, path) in pages)
        {
            for (var i = 0; i < 3; i++)
            {
                await GetAsync(http, path());
            }

            var logStart = postgresLog is null ? 0 : new FileInfo(postgresLog).Length;
            var times = new List<double>();
            var marks = new int[samples + 1];
            for (var i = 0; i < samples; i++)
            {
                marks[i] = await MarkAsync();
                var target = path();
                var watch = Stopwatch.StartNew();
                await GetAsync(http, target);
                times.Add(watch.Elapsed.TotalMilliseconds);
            }

            marks[samples] = await MarkAsync();
            times.Sort();
            var line = Inv($"{name,-34}{Percentile(times, 0.5),9:F1}{Percentile(times, 0.99),9:F1}{times[^1],9:F1}");
            if (marker is not null)
            {
                var (databaseTimes, statements) = await DatabaseTimesAsync(postgresLog!, logStart, marks);
                databaseTimes.Sort();
                line += Inv($"{Percentile(databaseTimes, 0.5),9:F2}{Percentile(databaseTimes, 0.99),9:F2}{databaseTimes[^1],9:F2}{statements / (double)samples,7:F1}");
            }

            Console.WriteLine(line + "  " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)));
        }

        return 0;
    }

    /// <summary>
    /// The executor time auto_explain logged for each request (the sum over its statements, between two marks), and
    /// the number of statements in all of them. The server log is written as statements end, so it is read once the
    /// last mark is in it.
    /// </summary>
    private static async Task<(List<double> Times, int Statements)> DatabaseTimesAsync(string postgresLog, long start, int[] marks)
    {
        var first = marks[0];
        var last = marks[^1];
        var perRequest = new double[marks.Length - 1];
        var statements = 0;
        for (var attempt = 0; ; attempt++)
        {
            await using var stream = new FileStream(postgresLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            stream.Seek(start, SeekOrigin.Begin);
            using var reader = new StreamReader(stream);
            var text = await reader.ReadToEndAsync();
            if (!text.Contains($"explorer-bench mark {last}\n", StringComparison.Ordinal) && attempt < 50)
            {
                await Task.Delay(100);
                continue;
            }

            var current = -1;
            foreach (var line in text.Split('\n'))
            {
                if (MarkLine().Match(line) is { Success: true } mark)
                {
                    var n = int.Parse(mark.Groups[1].Value, CultureInfo.InvariantCulture);
                    current = n >= first && n < last ? n - first : -1;
                }
                else if (current >= 0 && DurationLine().Match(line) is { Success: true } duration)
                {
                    perRequest[current] += double.Parse(duration.Groups[1].Value, CultureInfo.InvariantCulture);
                    statements++;
                }
            }

            return ([.. perRequest], statements);
        }
    }

    /// <summary>Appends <paramref name="count"/> entries with <paramref name="clients"/> concurrent clients; returns the last digest (hex).</summary>
    private static async Task<string> FillAsync(HttpClient http, (ECDsa Key, string Email, string CertificateBase64)[] signers, long count, int clients)
    {
        Console.WriteLine(Inv($"appending {count:N0} entries with {clients} clients..."));
        var watch = Stopwatch.StartNew();
        long issued = -1;
        long done = 0;
        var last = "";
        var json = new MediaTypeHeaderValue("application/json");
        using var progress = new Timer(_ => Console.WriteLine(Inv($"  {Interlocked.Read(ref done):N0} appended, {Interlocked.Read(ref done) / watch.Elapsed.TotalSeconds:N0}/s")), null, 30_000, 30_000);
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            long n;
            while ((n = Interlocked.Increment(ref issued)) < count)
            {
                var (key, _, certificate) = signers[n % Identities];
                var digest = SHA256.HashData(RandomNumberGenerator.GetBytes(32));
                var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
                var hex = Convert.ToHexStringLower(digest);
                var body = new JsonObject
                {
                    ["apiVersion"] = "0.0.1",
                    ["kind"] = "hashedrekord",
                    ["spec"] = new JsonObject
                    {
                        ["data"] = new JsonObject { ["hash"] = new JsonObject { ["algorithm"] = "sha256", ["value"] = hex } },
                        ["signature"] = new JsonObject
                        {
                            ["content"] = Convert.ToBase64String(signature),
                            ["publicKey"] = new JsonObject { ["content"] = certificate },
                        },
                    },
                }.ToJsonString();
                using var content = new StringContent(body, Encoding.UTF8);
                content.Headers.ContentType = json;
                for (var attempt = 0; ; attempt++)
                {
                    using var response = await http.PostAsync("/api/v1/log/entries", content);
                    if (response.StatusCode == HttpStatusCode.Created)
                    {
                        break;
                    }

                    if (attempt > 20)
                    {
                        throw new InvalidOperationException($"append failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }

                    await Task.Delay(200);
                }

                Interlocked.Increment(ref done);
                last = hex;
            }
        }));
        Console.WriteLine(Inv($"  {count:N0} appended in {watch.Elapsed.TotalSeconds:F0} s ({count / watch.Elapsed.TotalSeconds:N0}/s)"));
        return last;
    }

    /// <summary>Self-signed certificates with an email SAN, like short-lived keyless certificates (the log checks no chain).</summary>
    internal static (ECDsa Key, string Email, string CertificateBase64)[] MakeSigners() =>
        [.. Enumerable.Range(0, Identities).Select(i =>
        {
            var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var email = $"signer-{i}@bench.example";
            var request = new CertificateRequest("CN=bench", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddEmailAddress(email);
            request.CertificateExtensions.Add(san.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            return (key, email, Convert.ToBase64String(Encoding.UTF8.GetBytes(certificate.ExportCertificatePem() + "\n")));
        })];

    private static async Task<long> TreeSizeAsync(HttpClient http)
    {
        using var document = JsonDocument.Parse(await http.GetStringAsync("/api/v1/log"));
        return document.RootElement.GetProperty("treeSize").GetInt64();
    }

    /// <summary>The entry UUID (tree ID and leaf hash, 80 hex digits) of the entry at <paramref name="index"/>, from the Rekor API.</summary>
    private static async Task<string> UuidAsync(HttpClient http, long index)
    {
        using var document = JsonDocument.Parse(await http.GetStringAsync(Inv($"/api/v1/log/entries?logIndex={index}")));
        return document.RootElement.EnumerateObject().First().Name;
    }

    private static async Task GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        await response.Content.ReadAsByteArrayAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{path} answered {(int)response.StatusCode}");
        }
    }

    private static double Percentile(List<double> sorted, double p) => sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(p * sorted.Count) - 1)];

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex("href=\"([^\"]*after=[^\"]*)\"")]
    private static partial Regex NextLink();

    [GeneratedRegex(@"after=(\d+)\.")]
    private static partial Regex CursorLog();

    [GeneratedRegex(@"LOG:  explorer-bench mark (\d+)$")]
    private static partial Regex MarkLine();

    [GeneratedRegex(@"LOG:  duration: ([0-9.]+) ms  plan:")]
    private static partial Regex DurationLine();
}
