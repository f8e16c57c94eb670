using System.Formats.Asn1;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// Timestamps per second from the RFC 3161 timestamp authority the log service serves, for the JSON request
/// sigstore-js sends and for a DER <c>application/timestamp-query</c> (what openssl, cosign and the BCL send), beside
/// what the per-token crypto alone costs in-process. Prints figures; asserts nothing.
/// </summary>
internal static class TsaBenchmark
{
    /// <summary>Distinct requests, rotated: each has its own artifact hash (and, for DER, nonce).</summary>
    private const int Requests = 4096;

    private const int NameWidth = 58;

    private static readonly string[] CpuColumns = ["log (TSA)"];

    public static async Task<int> RunAsync(string[] args)
    {
        ServiceBenchmarkOptions options;
        try
        {
            options = ServiceBenchmarkOptions.Parse(args);
            if (options.TsaUrl is null)
            {
                throw new ArgumentException("--tsa-url is required (bench/run-service-benchmarks.sh passes it)");
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
        var tsa = options.TsaUrl;

        var chainPem = await http.GetStringAsync(new Uri(tsa.ToString().TrimEnd('/') + "/certchain"));
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(chainPem);
        try
        {
            Console.WriteLine($"pre-building {Requests:N0} JSON and {Requests:N0} DER timestamp requests...");
            var hashes = new byte[Requests][];
            var jsonBodies = new byte[Requests][];
            var derBodies = new byte[Requests][];
            for (var i = 0; i < Requests; i++)
            {
                hashes[i] = SHA256.HashData(RandomNumberGenerator.GetBytes(64));
                jsonBodies[i] = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
                {
                    ["artifactHash"] = Convert.ToBase64String(hashes[i]),
                    ["hashAlgorithm"] = "sha256",
                });
                derBodies[i] = TimestampQuery(hashes[i]);
            }

            var jsonType = new MediaTypeHeaderValue("application/json");
            var derType = new MediaTypeHeaderValue("application/timestamp-query");
            var jsonCheck = await CheckAsync(http, tsa, jsonBodies[0], jsonType, hashes[0], chain);
            var derCheck = await CheckAsync(http, tsa, derBodies[0], derType, hashes[0], chain);
            Console.WriteLine($"  check JSON: {jsonCheck.Summary}");
            Console.WriteLine($"  check DER:  {derCheck.Summary}");
            if (jsonCheck.TstInfo is null || jsonCheck.SignedAttributes is null)
            {
                await Console.Error.WriteLineAsync("the TSA did not grant a verifiable token; nothing to measure");
                return 1;
            }

            var next = new int[options.Clients];
            Func<int, CancellationToken, Task<Outcome>> Requester(byte[][] bodies, MediaTypeHeaderValue type) => async (worker, cancellationToken) =>
            {
                // Workers start at different offsets so concurrent requests carry different hashes.
                var body = bodies[(worker * 97 + next[worker]++) % Requests];
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = type;
                using var response = await http.PostAsync(tsa, content, cancellationToken);
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                return response.StatusCode == HttpStatusCode.OK ? Outcome.Ok : Outcome.Failed($"HTTP {(int)response.StatusCode}");
            };
            var json = Requester(jsonBodies, jsonType);
            var der = Requester(derBodies, derType);

            if (options.WarmupSeconds > 0)
            {
                Console.WriteLine($"warm-up: {options.WarmupSeconds} s of JSON and DER requests, not counted");
                await LoadPhase.RunAsync("warm-up", options.Clients, TimeSpan.FromSeconds(options.WarmupSeconds),
                    (worker, cancellationToken) => worker % 2 == 0 ? json(worker, cancellationToken) : der(worker, cancellationToken));
            }

            await using var sampler = new ProcessSampler([options.LogPid], options.PostgresDataDirectory);
            Console.WriteLine($"timestamps, JSON: {options.Clients} clients for {options.DurationSeconds} s");
            var before = sampler.Take();
            var jsonPhase = await LoadPhase.RunAsync("timestamps, JSON (sigstore-js)", options.Clients, TimeSpan.FromSeconds(options.DurationSeconds), json);
            var jsonCpu = ProcessSampler.Between(before, sampler.Take());
            Console.WriteLine($"timestamps, DER: {options.Clients} clients for {options.DurationSeconds} s");
            before = sampler.Take();
            var derPhase = await LoadPhase.RunAsync("timestamps, DER timestamp-query", options.Clients, TimeSpan.FromSeconds(options.DurationSeconds), der);
            var derCpu = ProcessSampler.Between(before, sampler.Take());

            Console.WriteLine($"signing alone: {options.CryptoIterations:N0} iterations per line, one thread...");
            var crypto = MeasureCrypto(jsonCheck.TstInfo, jsonCheck.SignedAttributes, chain[0], options.CryptoIterations);

            Console.Write(Render(options, chain[0], jsonCheck, derCheck, [(jsonPhase, jsonCpu), (derPhase, derCpu)], crypto));
            return 0;
        }
        finally
        {
            foreach (var certificate in chain)
            {
                certificate.Dispose();
            }
        }
    }

    /// <summary>One granted response, decoded: the token verifies for the hash against the served chain.</summary>
    private sealed record TokenCheck(string Summary, byte[]? TstInfo, byte[]? SignedAttributes);

    private static async Task<TokenCheck> CheckAsync(HttpClient http, Uri tsa, byte[] body, MediaTypeHeaderValue type, byte[] hash, X509Certificate2Collection chain)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = type;
        using var response = await http.PostAsync(tsa, content);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return new TokenCheck($"HTTP {(int)response.StatusCode}: {Encoding.UTF8.GetString(bytes)}", null, null);
        }

        // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo OPTIONAL }
        var resp = new AsnReader(bytes, AsnEncodingRules.DER).ReadSequence();
        var status = resp.ReadSequence();
        status.TryReadInt32(out var granted);
        if (granted != 0 || !resp.HasData)
        {
            return new TokenCheck($"status {granted}, no token", null, null);
        }

        var token = Token.Read(resp.ReadEncodedValue().ToArray());
        using var key = chain[0].GetECDsaPublicKey();
        var verified = key is not null
                       && key.VerifyData(token.SignedAttributes, token.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)
                       && token.SignedAttributes.AsSpan().IndexOf(SHA256.HashData(token.TstInfo)) >= 0
                       && token.TstInfo.AsSpan().IndexOf(hash) >= 0;
        var summary = $"{response.Content.Headers.ContentType?.MediaType}, {bytes.Length} bytes, token {(verified ? "verifies" : "does NOT verify")} "
                      + $"(signature by the served TSA certificate, messageDigest of the TSTInfo, our hash in the imprint); "
                      + $"{token.Certificates} certificate(s) embedded; TSTInfo {token.TstInfo.Length} bytes, signed attributes {token.SignedAttributes.Length} bytes";
        return new TokenCheck(summary, token.TstInfo, token.SignedAttributes);
    }

    /// <summary>
    /// TimeStampReq { version 1, messageImprint { sha256 with NULL parameters (as openssl writes it), hash },
    /// nonce (64 bits), certReq TRUE }: what <c>openssl ts -query -sha256 -cert</c> and cosign send.
    /// </summary>
    private static byte[] TimestampQuery(byte[] hash)
    {
        var nonce = RandomNumberGenerator.GetBytes(8);
        nonce[0] = (byte)((nonce[0] & 0x7F) | 0x40); // positive and minimally encoded
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(1);
            using (writer.PushSequence())
            {
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier("2.16.840.1.101.3.4.2.1");
                    writer.WriteNull();
                }

                writer.WriteOctetString(hash);
            }

            writer.WriteInteger(nonce);
            writer.WriteBoolean(true);
        }

        return writer.Encode();
    }

    /// <summary>The parts of a TimeStampToken (CMS SignedData) the check and the crypto measurement need.</summary>
    private sealed record Token(byte[] TstInfo, byte[] SignedAttributes, byte[] Signature, int Certificates)
    {
        public static Token Read(byte[] contentInfo)
        {
            var info = new AsnReader(contentInfo, AsnEncodingRules.DER).ReadSequence();
            info.ReadObjectIdentifier();
            var signedData = info.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0)).ReadSequence();
            signedData.ReadInteger();
            signedData.ReadSetOf(skipSortOrderValidation: true);
            var encapsulated = signedData.ReadSequence();
            encapsulated.ReadObjectIdentifier();
            var tstInfo = encapsulated.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0)).ReadOctetString();
            var certificates = 0;
            if (signedData.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
            {
                var set = signedData.ReadSetOf(skipSortOrderValidation: true, new Asn1Tag(TagClass.ContextSpecific, 0));
                for (; set.HasData; certificates++)
                {
                    set.ReadEncodedValue();
                }
            }

            var signerInfo = signedData.ReadSetOf(skipSortOrderValidation: true).ReadSequence();
            signerInfo.ReadInteger();
            signerInfo.ReadEncodedValue(); // sid
            signerInfo.ReadSequence(); // digestAlgorithm

            // Signed over as a DER SET (RFC 5652 §5.4), carried as [0] IMPLICIT.
            var attributes = signerInfo.ReadEncodedValue().ToArray();
            attributes[0] = 0x31;
            signerInfo.ReadSequence(); // signatureAlgorithm
            return new Token(tstInfo, attributes, signerInfo.ReadOctetString(), certificates);
        }
    }

    /// <summary>
    /// What TimestampAuthority.Issue computes per token: SHA-256 of the TSTInfo (messageDigest), SHA-256 of the TSA
    /// certificate (ESSCertIDv2, hashed with the request's algorithm on every token), one signature over the signed
    /// attributes with a key of the served certificate's type; on the real TSTInfo and signed-attribute sizes.
    /// </summary>
    private static List<CryptoCost> MeasureCrypto(byte[] tstInfo, byte[] signedAttributes, X509Certificate2 tsaCertificate, int iterations)
    {
        using var served = tsaCertificate.GetECDsaPublicKey()
                           ?? throw new InvalidOperationException("the TSA key is not ECDSA; the crypto benchmark assumes ECDSA");
        using var key = ECDsa.Create(served.ExportParameters(false).Curve);
        var certificate = tsaCertificate.RawData;
        return
        [
            CryptoCost.Measure("SHA-256 of the TSTInfo", "ops", iterations * 10, () => SHA256.HashData(tstInfo)),
            CryptoCost.Measure($"ECDSA P-{key.KeySize} sign (SHA-256, DER) of the signed attributes", "ops", iterations, () =>
                key.SignData(signedAttributes, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)),
            CryptoCost.Measure("token: SHA-256 (TSTInfo) + SHA-256 (certificate) + 1 sign", "tokens", iterations, () =>
            {
                SHA256.HashData(tstInfo);
                SHA256.HashData(certificate);
                key.SignData(signedAttributes, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
            }),
        ];
    }

    private static string Render(
        ServiceBenchmarkOptions options,
        X509Certificate2 tsaCertificate,
        TokenCheck jsonCheck,
        TokenCheck derCheck,
        IReadOnlyList<(PhaseResult Phase, CpuUsage Cpu)> phases,
        IReadOnlyList<CryptoCost> crypto)
    {
        using var tsaKey = tsaCertificate.GetECDsaPublicKey();
        var o = new StringBuilder();
        o.AppendLine();
        o.AppendLine("================ TransparencyLog TSA benchmark ================");
        Table.AppendMachine(o);
        o.AppendLine(Table.Inv($"load           {options.Clients} clients; each variant {options.DurationSeconds} s after {options.WarmupSeconds} s warm-up (both variants); {Requests:N0} distinct requests per variant"));
        o.AppendLine(Table.Inv($"TSA key        ECDSA P-{tsaKey?.KeySize} ({tsaCertificate.Subject})"));
        o.AppendLine("JSON request   {\"artifactHash\": base64 SHA-256, \"hashAlgorithm\": \"sha256\"} (sigstore-js)");
        o.AppendLine("DER request    TimeStampReq, SHA-256, 8-byte nonce, certReq true (as openssl ts -query -cert and cosign send it)");
        o.AppendLine("check JSON     " + jsonCheck.Summary);
        o.AppendLine("check DER      " + derCheck.Summary);
        o.AppendLine();
        o.AppendLine(Table.PhaseHeader());
        foreach (var (phase, _) in phases)
        {
            o.AppendLine(Table.PhaseRow(phase, phase.PerSecond));
        }

        o.AppendLine();
        o.AppendLine("CPU, in cores busy on average (the machine has " + Environment.ProcessorCount + "; 'others' is everything not ours: the noise)");
        o.AppendLine(Table.CpuHeader(CpuColumns));
        foreach (var (phase, cpu) in phases)
        {
            o.AppendLine(Table.CpuRow(phase.Name, cpu, CpuColumns));
        }

        foreach (var (phase, cpu) in phases)
        {
            if (phase.Succeeded > 0)
            {
                var serviceUs = cpu.Processes[0] * 1e6 / phase.Succeeded;
                o.AppendLine(Table.Inv($"{phase.Name}: log service CPU per timestamp {serviceUs:F0} µs (-> at most {Environment.ProcessorCount * 1e6 / serviceUs:N0}/s on {Environment.ProcessorCount} idle cores), load generator {cpu.LoadGenerator * 1e6 / phase.Succeeded:F0} µs"));
            }
        }

        o.AppendLine();
        o.AppendLine("signing alone, in-process with the BCL (OpenSSL); ceiling = 1 s ÷ CPU time per unit, one core doing nothing else");
        o.AppendLine(CryptoCost.Header(NameWidth));
        foreach (var cost in crypto)
        {
            o.AppendLine(cost.Row(NameWidth));
        }

        var perToken = crypto[^1].CpuMicroseconds;
        foreach (var (phase, cpu) in phases)
        {
            if (phase.Succeeded > 0)
            {
                var serviceUs = cpu.Processes[0] * 1e6 / phase.Succeeded;
                o.AppendLine(Table.Inv($"{phase.Name}: the token's crypto is {perToken / serviceUs * 100:F0} % of the service CPU per timestamp ({perToken:F0} of {serviceUs:F0} µs)"));
            }
        }

        o.AppendLine("===============================================================");
        return o.ToString();
    }
}
