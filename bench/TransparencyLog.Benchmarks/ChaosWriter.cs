using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Merkle;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// One writer of the fault trials (scripts/chaos.sh): appends signed hashedrekord entries at a modest rate while the
/// service and PostgreSQL are killed under it, and records, one JSON line each, every acknowledged entry (index, UUID,
/// body, the checkpoint of its inclusion proof, latency) and every signed tree head it reads. The verifier later holds
/// the log to each of these promises. Failed requests are counted, never recorded as acknowledged: a 201 is the only
/// promise the service makes.
/// </summary>
internal static class ChaosWriter
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = ChaosOptions.Parse(args);
        var url = new Uri(options.Get("--url"));
        var output = options.Get("--out");
        var name = options.Get("--name", "writer");
        var rate = double.Parse(options.Get("--rate", "5"), CultureInfo.InvariantCulture);
        var stopFile = options.Get("--stop-file");

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var publicKey = Convert.ToBase64String(Encoding.UTF8.GetBytes(key.ExportSubjectPublicKeyInfoPem() + "\n"));
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(20) };
        await using var log = new StreamWriter(new FileStream(output, FileMode.Append, FileAccess.Write, FileShare.Read));
        var interval = TimeSpan.FromSeconds(1 / rate);
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var lastHead = Stopwatch.StartNew();
        var acknowledged = 0;

        while (!File.Exists(stopFile))
        {
            var started = Stopwatch.StartNew();
            var digest = SHA256.HashData(RandomNumberGenerator.GetBytes(64));
            var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
            var proposal = Proposals.HashedRekord(Convert.ToHexStringLower(digest), Convert.ToBase64String(signature), publicKey);
            string outcome;
            try
            {
                using var content = new StringContent(proposal, Encoding.UTF8);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await http.PostAsync("/api/v1/log/entries", content);
                var text = await response.Content.ReadAsStringAsync();
                var latency = started.Elapsed.TotalMilliseconds;
                if ((int)response.StatusCode == 201)
                {
                    var line = Acknowledgement(name, text, latency);
                    await log.WriteLineAsync(line);
                    await log.FlushAsync();
                    acknowledged++;
                    outcome = "201";
                }
                else
                {
                    outcome = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                }
            }
            catch (HttpRequestException)
            {
                outcome = "connection";
            }
            catch (TaskCanceledException)
            {
                outcome = "timeout";
            }

            counts[outcome] = counts.GetValueOrDefault(outcome) + 1;
            if (lastHead.Elapsed > TimeSpan.FromSeconds(2))
            {
                lastHead.Restart();
                await RecordHeadAsync(http, log, name);
            }

            var wait = interval - started.Elapsed;
            if (outcome != "201")
            {
                // The service or database is down: back off a little rather than spin.
                wait = TimeSpan.FromMilliseconds(250);
            }

            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
        }

        Console.WriteLine($"{name}: {acknowledged} acknowledged; outcomes {string.Join(", ", counts.Select(c => $"{c.Key}={c.Value}"))}");
        return 0;
    }

    /// <summary>
    /// The 201 body is <c>{uuid: {body, logIndex, verification: {inclusionProof: {...}}}}</c>; the inclusion proof is
    /// checked here, so that a recorded acknowledgement is one the client could rely on.
    /// </summary>
    private static string Acknowledgement(string writer, string responseBody, double latencyMs)
    {
        var root = JsonNode.Parse(responseBody)!.AsObject();
        var (uuid, entryNode) = root.Single();
        var entry = entryNode!.AsObject();
        var body = (string)entry["body"]!;
        var index = (long)entry["logIndex"]!;
        var proof = entry["verification"]!["inclusionProof"]!;
        var treeSize = (long)proof["treeSize"]!;
        var leaf = Rfc6962.HashLeaf(Convert.FromBase64String(body));
        var hashes = proof["hashes"]!.AsArray().Select(h => Hash.FromHex((string)h!)).ToList();
        if (!ProofVerifier.VerifyInclusion(index, treeSize, leaf, hashes, Hash.FromHex((string)proof["rootHash"]!)))
        {
            throw new InvalidOperationException($"entry {index}: the inclusion proof in the 201 response does not verify");
        }

        return new JsonObject
        {
            ["type"] = "ack",
            ["writer"] = writer,
            ["index"] = index,
            ["uuid"] = uuid,
            ["body"] = body,
            ["checkpoint"] = (string)proof["checkpoint"]!,
            ["latencyMs"] = Math.Round(latencyMs, 2),
            ["at"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        }.ToJsonString();
    }

    private static async Task RecordHeadAsync(HttpClient http, StreamWriter log, string writer)
    {
        try
        {
            using var response = await http.GetAsync("/api/v1/log");
            if (!response.IsSuccessStatusCode)
            {
                return;
            }

            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var checkpoint = document.RootElement.GetProperty("signedTreeHead").GetString();
            await log.WriteLineAsync(new JsonObject
            {
                ["type"] = "head",
                ["writer"] = writer,
                ["checkpoint"] = checkpoint,
                ["at"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            }.ToJsonString());
            await log.FlushAsync();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
            // Down at this moment: the next head read will catch up.
        }
    }
}

/// <summary><c>--name value</c> pairs; a flag may repeat (<see cref="All"/>).</summary>
internal sealed class ChaosOptions
{
    private readonly List<(string Name, string Value)> _pairs = [];

    public static ChaosOptions Parse(string[] args)
    {
        var options = new ChaosOptions();
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            options._pairs.Add((args[i], args[i + 1]));
        }

        return options;
    }

    public string Get(string name, string? fallback = null) =>
        _pairs.LastOrDefault(p => p.Name == name).Value ?? fallback ?? throw new ArgumentException($"{name} is required");

    public IEnumerable<string> All(string name) => _pairs.Where(p => p.Name == name).Select(p => p.Value);
}
