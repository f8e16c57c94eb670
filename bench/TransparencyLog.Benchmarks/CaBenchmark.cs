using System.Formats.Asn1;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// Certificates per second from the CA as <c>./run.sh</c> deploys it (every issuance embeds an SCT from our CT log,
/// whose appends go through the log's batched sequencer: one PostgreSQL commit per batch, not per certificate), with the latency clients see, where the CPU went (CA, log service,
/// PostgreSQL), and beside it what the signatures alone cost in-process. Prints figures; asserts nothing.
/// </summary>
internal static class CaBenchmark
{
    /// <summary>Keys per client, rotated: each request is a fresh certificate, but key generation stays off the clock.</summary>
    private const int KeysPerClient = 16;

    private const string EmbeddedSctOid = "1.3.6.1.4.1.11129.2.4.2";

    private static readonly string[] CpuColumns = ["CA", "log (CT)"];

    public static async Task<int> RunAsync(string[] args)
    {
        ServiceBenchmarkOptions options;
        try
        {
            options = ServiceBenchmarkOptions.Parse(args);
            if (options.FulcioUrl is null || options.OidcIssuer is null)
            {
                throw new ArgumentException("--fulcio-url and --oidc-issuer are required (bench/run-service-benchmarks.sh passes them)");
            }
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 2;
        }

        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Clients,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        var signingCert = new Uri(options.FulcioUrl, "/api/v2/signingCert");

        Console.WriteLine($"minting {options.Clients} identity tokens from {options.OidcIssuer} (one per client)...");
        var (tokens, ttl) = await MintTokensAsync(http, options.OidcIssuer, options.Clients);
        if (options.WarmupSeconds + options.DurationSeconds + 60 > ttl)
        {
            Console.WriteLine($"  warning: tokens live {ttl} s, less than the run; late requests will fail with 401");
        }

        Console.WriteLine($"pre-generating {options.Clients * KeysPerClient:N0} ephemeral P-256 keys with proofs of possession...");
        var bodies = new byte[options.Clients][][];
        for (var c = 0; c < options.Clients; c++)
        {
            bodies[c] = new byte[KeysPerClient][];
            for (var k = 0; k < KeysPerClient; k++)
            {
                bodies[c][k] = SigningCertRequest(tokens[c], Email(c));
            }
        }

        var json = new MediaTypeHeaderValue("application/json");
        var first = await PostAsync(http, signingCert, bodies[0][0], json);
        if (first.Status != HttpStatusCode.Created)
        {
            await Console.Error.WriteLineAsync($"the CA refused the first request: HTTP {(int)first.Status}: {Truncate(first.Body)}");
            return 1;
        }

        var check = CheckResponse(first.Body, Email(0));
        Console.WriteLine($"  check: {check.Summary}");

        var next = new int[options.Clients];
        async Task<Outcome> IssueAsync(int worker, CancellationToken cancellationToken)
        {
            var body = bodies[worker][next[worker]++ % KeysPerClient];
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = json;
            using var response = await http.PostAsync(signingCert, content, cancellationToken);
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            return response.StatusCode == HttpStatusCode.Created ? Outcome.Ok : Outcome.Failed($"HTTP {(int)response.StatusCode}");
        }

        if (options.WarmupSeconds > 0)
        {
            Console.WriteLine($"warm-up: {options.WarmupSeconds} s of certificate requests, not counted");
            await LoadPhase.RunAsync("warm-up", options.Clients, TimeSpan.FromSeconds(options.WarmupSeconds), IssueAsync);
        }

        var treeBefore = await CtTreeSizeAsync(http, options.CtLogUrl);
        var jitSources = JitSources(options);
        var jitBefore = await JitAsync(http, jitSources);
        Console.WriteLine($"certificates: {options.Clients} clients for {options.DurationSeconds} s");
        await using var sampler = new ProcessSampler([options.CaPid, options.LogPid], options.PostgresDataDirectory);
        var before = sampler.Take();
        var phase = await LoadPhase.RunAsync("certificates (POST signingCert)", options.Clients, TimeSpan.FromSeconds(options.DurationSeconds), IssueAsync);
        var cpu = ProcessSampler.Between(before, sampler.Take());
        var jitAfter = await JitAsync(http, jitSources);
        var treeAfter = await CtTreeSizeAsync(http, options.CtLogUrl);

        Console.WriteLine($"crypto alone: {options.CryptoIterations:N0} iterations per line, one thread...");
        var crypto = CertificateCrypto.Measure(check.LeafTbs, tokens[0], Email(0), check.CaCurve, options.CryptoIterations);

        Console.Write(Render(options, ttl, check, phase, cpu, sampler.HasPostgres, treeBefore, treeAfter, crypto, JitDuring(jitSources, jitBefore, jitAfter)));
        return 0;
    }

    private static string Email(int client) => $"bench-{client}@example.com";

    /// <summary>Mints one token per client; asks for an hour so a long run does not outlive them, else the default.</summary>
    private static async Task<(string[] Tokens, int TtlSeconds)> MintTokensAsync(HttpClient http, Uri issuer, int clients)
    {
        var tokenUri = new Uri(issuer.ToString().TrimEnd('/') + "/token");
        var tokens = new string[clients];
        var ttl = 3600;
        for (var c = 0; c < clients; c++)
        {
            var request = new JsonObject { ["email"] = Email(c) };
            if (ttl == 3600)
            {
                request["ttl"] = ttl;
            }

            using var response = await http.PostAsJsonAsync(tokenUri, request);
            if (!response.IsSuccessStatusCode && c == 0 && ttl == 3600)
            {
                ttl = 600; // the issuer's default lifetime
                c--;
                continue;
            }

            response.EnsureSuccessStatusCode();
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            tokens[c] = document.RootElement.GetProperty("id_token").GetString()
                        ?? throw new InvalidOperationException("the issuer returned no id_token");
            if (document.RootElement.TryGetProperty("expires_in", out var expiresIn))
            {
                ttl = expiresIn.GetInt32();
            }
        }

        return (tokens, ttl);
    }

    /// <summary>The body sigstore-js sends: a fresh P-256 key as PEM and a DER ECDSA-SHA256 signature over the email.</summary>
    private static byte[] SigningCertRequest(string token, string email)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var proof = key.SignData(Encoding.UTF8.GetBytes(email), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var body = new JsonObject
        {
            ["credentials"] = new JsonObject { ["oidcIdentityToken"] = token },
            ["publicKeyRequest"] = new JsonObject
            {
                ["publicKey"] = new JsonObject { ["algorithm"] = "ECDSA", ["content"] = key.ExportSubjectPublicKeyInfoPem() },
                ["proofOfPossession"] = Convert.ToBase64String(proof),
            },
        };
        return JsonSerializer.SerializeToUtf8Bytes(body);
    }

    private static async Task<(HttpStatusCode Status, string Body)> PostAsync(HttpClient http, Uri uri, byte[] body, MediaTypeHeaderValue type)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = type;
        using var response = await http.PostAsync(uri, content);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>What one issued chain looked like: it parses, builds to the served root, and the leaf carries an SCT.</summary>
    private sealed record ChainCheck(string Summary, byte[] LeafTbs, ECCurve CaCurve, string CaKey);

    private static ChainCheck CheckResponse(string body, string email)
    {
        using var document = JsonDocument.Parse(body);
        var pems = document.RootElement.GetProperty("signedCertificateEmbeddedSct").GetProperty("chain").GetProperty("certificates")
            .EnumerateArray().Select(e => e.GetString() ?? "").ToList();
        var certificates = pems.Select(pem => X509Certificate2.CreateFromPem(pem)).ToList();
        try
        {
            var leaf = certificates[0];
            var sct = leaf.Extensions.FirstOrDefault(e => e.Oid?.Value == EmbeddedSctOid);
            var san = leaf.GetNameInfo(X509NameType.EmailName, forIssuer: false);

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.CustomTrustStore.Add(certificates[^1]);
            chain.ChainPolicy.ExtraStore.AddRange(certificates.Skip(1).ToArray());
            var built = chain.Build(leaf);
            var status = built ? "builds to the served root" : "does NOT build: " + string.Join(", ", chain.ChainStatus.Select(s => s.Status));

            using var caKey = certificates[1].GetECDsaPublicKey()
                              ?? throw new InvalidOperationException("the issuing CA key is not ECDSA; the crypto benchmark assumes ECDSA");
            var curve = caKey.ExportParameters(false).Curve;
            var caKeyName = $"ECDSA P-{caKey.KeySize} ({certificates[1].Subject})";

            var tbs = new AsnReader(leaf.RawData, AsnEncodingRules.DER).ReadSequence().ReadEncodedValue().ToArray();
            var summary = $"chain of {certificates.Count} parses and {status}; leaf {(sct is null ? "has NO embedded SCT" : $"carries the embedded SCT list ({sct.RawData.Length} bytes)")}; "
                          + $"SAN {san}{(san == email ? "" : $" (expected {email})")}; leaf {leaf.RawData.Length} bytes, TBS {tbs.Length} bytes; CA key {caKeyName}";
            return new ChainCheck(summary, tbs, curve, caKeyName);
        }
        finally
        {
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }
        }
    }

    private static async Task<long?> CtTreeSizeAsync(HttpClient http, Uri? ctLog)
    {
        if (ctLog is null)
        {
            return null;
        }

        try
        {
            // CT_LOG_URL already ends in /ct (the RFC 6962 prefix), as run.sh writes it into the trusted root.
            using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri(ctLog.ToString().TrimEnd('/') + "/v1/get-sth")));
            return document.RootElement.GetProperty("tree_size").GetInt64();
        }
        catch (HttpRequestException e)
        {
            Console.WriteLine($"  (CT log tree size unavailable: {e.Message})");
            return null;
        }
    }

    /// <summary>The services whose JIT work is read from their <c>/metrics</c>: the CA, and the log service serving the CT log.</summary>
    private static (string Name, Uri Metrics)[] JitSources(ServiceBenchmarkOptions options)
    {
        var sources = new List<(string Name, Uri Metrics)> { ("CA", new Uri(options.FulcioUrl!, "/metrics")) };
        if (options.CtLogUrl is { } ct)
        {
            sources.Add(("log (CT)", new Uri(ct, "/metrics")));
        }

        return [.. sources];
    }

    /// <summary>
    /// Each service's JIT so far (the runtime's <c>dotnet.jit.compilation.time</c> and <c>dotnet.jit.compiled_methods</c>,
    /// republished by prometheus-net), or null where /metrics does not answer.
    /// </summary>
    private static async Task<(double Seconds, long Methods)?[]> JitAsync(HttpClient http, (string Name, Uri Metrics)[] sources)
    {
        var result = new (double Seconds, long Methods)?[sources.Length];
        for (var i = 0; i < sources.Length; i++)
        {
            try
            {
                double? seconds = null;
                long? methods = null;
                foreach (var line in (await http.GetStringAsync(sources[i].Metrics)).Split('\n'))
                {
                    var value = line.Split(' ');
                    if (value.Length == 2 && value[0] == "system_runtime_dotnet_jit_compilation_time")
                    {
                        seconds = double.Parse(value[1], System.Globalization.CultureInfo.InvariantCulture);
                    }
                    else if (value.Length == 2 && value[0] == "system_runtime_dotnet_jit_compiled_methods")
                    {
                        methods = (long)double.Parse(value[1], System.Globalization.CultureInfo.InvariantCulture);
                    }
                }

                result[i] = seconds is { } s && methods is { } m ? (s, m) : null;
            }
            catch (HttpRequestException)
            {
                result[i] = null;
            }
        }

        return result;
    }

    private static (string Name, double Seconds, long Methods)[] JitDuring(
        (string Name, Uri Metrics)[] sources, (double Seconds, long Methods)?[] before, (double Seconds, long Methods)?[] after) =>
        [.. sources.Select((source, i) => (source.Name, Before: before[i], After: after[i]))
            .Where(x => x.Before is not null && x.After is not null)
            .Select(x => (x.Name, x.After!.Value.Seconds - x.Before!.Value.Seconds, x.After!.Value.Methods - x.Before!.Value.Methods))];

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private static string Render(
        ServiceBenchmarkOptions options,
        int ttl,
        ChainCheck check,
        PhaseResult phase,
        CpuUsage cpu,
        bool postgresAccounted,
        long? treeBefore,
        long? treeAfter,
        IReadOnlyList<CryptoCost> crypto,
        (string Name, double Seconds, long Methods)[] jit)
    {
        var o = new StringBuilder();
        o.AppendLine();
        o.AppendLine("================ TransparencyLog CA benchmark ================");
        Table.AppendMachine(o);
        o.AppendLine(Table.Inv($"load           {options.Clients} clients; {options.DurationSeconds} s after {options.WarmupSeconds} s warm-up; POST /api/v2/signingCert as sigstore-js sends it; {options.Clients * KeysPerClient:N0} keys pre-generated; tokens live {ttl} s"));
        o.AppendLine(Table.Inv($"CA key         {check.CaKey}; every certificate embeds an SCT from the CT log (appended through the batched sequencer)"));
        o.AppendLine("check          " + check.Summary);
        o.AppendLine();
        o.AppendLine(Table.PhaseHeader());
        o.AppendLine(Table.PhaseRow(phase, phase.PerSecond));
        if (treeBefore is { } b && treeAfter is { } a)
        {
            o.AppendLine(Table.Inv($"CT log tree grew {b:N0} -> {a:N0} (+{a - b:N0}) while {phase.Succeeded:N0} certificates were counted (in-flight completions at the edges are not)"));
        }

        o.AppendLine();
        o.AppendLine("CPU, in cores busy on average (the machine has " + Environment.ProcessorCount + "; 'others' is everything not ours: the noise)");
        o.AppendLine(Table.CpuHeader(CpuColumns));
        o.AppendLine(Table.CpuRow(phase.Name, cpu, CpuColumns));
        if (!postgresAccounted)
        {
            o.AppendLine("(PostgreSQL CPU not accounted: no --postgres-data given)");
        }

        var perCertificate = 0.0;
        if (phase.Succeeded > 0)
        {
            double Us(double seconds) => seconds * 1e6 / phase.Succeeded;
            var (caUs, logUs, pgUs) = (Us(cpu.Processes[0]), Us(cpu.Processes[1]), Us(cpu.Postgres));
            perCertificate = caUs + logUs + pgUs;
            o.AppendLine(Table.Inv($"CPU per certificate: CA {caUs:F0} µs, log service (CT) {logUs:F0} µs, PostgreSQL {pgUs:F0} µs, load generator {Us(cpu.LoadGenerator):F0} µs"));
            o.AppendLine(Table.Inv($"CT log's share (log service + PostgreSQL) of the server CPU per certificate: {(logUs + pgUs) / perCertificate * 100:F0} %; server total {perCertificate:F0} µs -> at most {Environment.ProcessorCount * 1e6 / perCertificate:N0} certificates/s on {Environment.ProcessorCount} idle cores"));
            if (jit.Length > 0)
            {
                // The runtime times each compilation by the clock, summed over the threads compiling at once, so a
                // preempted JIT counts its wait: on a busy machine the seconds exceed the process's CPU. The method
                // count is exact; a large one means the CPU columns above include warm-up.
                o.AppendLine("JIT during the timed phase (methods compiled; the runtime's compilation clock time, all threads): "
                    + string.Join(", ", jit.Select(j => Table.Inv($"{j.Name} {j.Methods:N0} methods, {j.Seconds:F1} s"))));
            }
        }

        o.AppendLine();
        o.AppendLine("crypto alone, in-process with the BCL (OpenSSL); ceiling = 1 s ÷ CPU time per unit, one core doing nothing else");
        o.AppendLine(CryptoCost.Header(CertificateCrypto.NameWidth));
        foreach (var cost in crypto)
        {
            o.AppendLine(cost.Row(CertificateCrypto.NameWidth));
        }

        if (perCertificate > 0)
        {
            o.AppendLine(Table.Inv($"this code's crypto is {crypto[^1].CpuMicroseconds / perCertificate * 100:F0} % of the server CPU per certificate measured end to end ({crypto[^1].CpuMicroseconds:F0} of {perCertificate:F0} µs)"));
        }

        o.AppendLine("==============================================================");
        return o.ToString();
    }
}
