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

namespace TransparencyLog.Benchmarks;

/// <summary>
/// How fast the log explorer's pages render on a large log: fills the Rekor v1 log through its API with hashedrekord
/// entries signed under 64 certificate identities (so identity searches hit tens of thousands of entries each), then
/// requests every kind of page one after another and prints latency percentiles. Measures; asserts nothing.
/// </summary>
internal static partial class ExplorerBenchmark
{
    private const int Identities = 64;

    public static async Task<int> RunAsync(string[] args)
    {
        var url = new Uri(Option(args, "--url") ?? "http://127.0.0.1:3000");
        var entries = long.Parse(Option(args, "--entries") ?? "1000000", CultureInfo.InvariantCulture);
        var clients = int.Parse(Option(args, "--clients") ?? "32", CultureInfo.InvariantCulture);
        var samples = int.Parse(Option(args, "--samples") ?? "30", CultureInfo.InvariantCulture);

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = clients, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
        var signers = MakeSigners();
        var size = await TreeSizeAsync(http);
        if (size < entries)
        {
            await FillAsync(http, signers, entries - size, clients);
        }

        size = await TreeSizeAsync(http);
        var digest = await FillAsync(http, signers, 1, 1);
        size = await TreeSizeAsync(http);
        Console.WriteLine(Inv($"log size {size:N0} entries; {samples} sequential requests per page after 3 warm-up requests"));

        var random = new Random(42);
        var hot = Uri.EscapeDataString(signers[0].Email);
        var firstPage = await http.GetStringAsync($"/explorer/search?q={hot}&type=identity");
        var next = NextLink().Match(firstPage) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups[1].Value) : $"/explorer/search?q={hot}&type=identity";
        var pages = new (string Name, Func<string> Path)[]
        {
            ("search: identity (first page)", () => $"/explorer/search?q={hot}&type=identity"),
            ("search: identity (next page)", () => next),
            ("search: artifact digest", () => $"/explorer/search?q=sha256:{digest}"),
            ("search: log index", () => $"/explorer/search?q={random.NextInt64(size)}"),
            ("entry page (random index)", () => $"/explorer/entries/rekor-v1/{random.NextInt64(size)}"),
            ("log page, 48 h chart", () => "/explorer/logs/rekor-v1"),
            ("log page, 30 d chart", () => "/explorer/logs/rekor-v1?range=30d"),
            ("log page + consistency 1..size", () => $"/explorer/logs/rekor-v1?first=1&second={size}"),
            ("log page, older entries", () => $"/explorer/logs/rekor-v1?before={random.NextInt64(size)}"),
            ("health page", () => "/explorer/health"),
        };

        Console.WriteLine(Inv($"{"page",-34}{"p50 ms",9}{"p95 ms",9}{"max ms",9}"));
        foreach (var (name, path) in pages)
        {
            for (var i = 0; i < 3; i++)
            {
                await GetAsync(http, path());
            }

            var times = new List<double>();
            for (var i = 0; i < samples; i++)
            {
                var watch = Stopwatch.StartNew();
                await GetAsync(http, path());
                times.Add(watch.Elapsed.TotalMilliseconds);
            }

            times.Sort();
            Console.WriteLine(Inv($"{name,-34}{Percentile(times, 0.5),9:F1}{Percentile(times, 0.95),9:F1}{times[^1],9:F1}"));
        }

        return 0;
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
}
