using System.Globalization;

namespace TransparencyLog.Benchmarks;

/// <summary>What one benchmark run does; parsed from the command line that <c>bench/run-log-benchmark.sh</c> builds.</summary>
internal sealed record BenchmarkOptions
{
    /// <summary>Base address of the running log service.</summary>
    public required Uri ServiceUrl { get; init; }

    /// <summary>
    /// Every log-service process of the run (<c>--url</c> given several times: processes sharing one database); clients
    /// are spread over them round-robin.
    /// </summary>
    public IReadOnlyList<Uri> ServiceUrls { get; init; } = [];

    /// <summary>Superuser connection string to the log's database (the raw-insert baseline creates its tables there).</summary>
    public required string AdminConnectionString { get; init; }

    /// <summary>The service processes (<c>--service-pid</c>, once per process), for peak memory and CPU time; empty when unknown.</summary>
    public IReadOnlyList<int> ServicePids { get; init; } = [];

    /// <summary>The PostgreSQL data directory, whose <c>postmaster.pid</c> names the server to account CPU time to.</summary>
    public string? PostgresDataDirectory { get; init; }

    public int Clients { get; init; } = 64;

    public int DurationSeconds { get; init; } = 60;

    public int ReadDurationSeconds { get; init; } = 20;

    /// <summary>
    /// Load before the clock starts, so JIT and connection pools are warm on both sides. Profiling showed a quarter of
    /// the service's CPU still in the JIT (tiered recompilation) 5 s into a run on a busy two-core machine.
    /// </summary>
    public int WarmupSeconds { get; init; } = 15;

    /// <summary>Pre-signed proposals; 0 means enough for 4,000 entries/s (twice the target) over warm-up and the timed phase.</summary>
    public int Entries { get; init; }

    /// <summary>
    /// Signing keys of the proposals: 0 (default) gives every proposal its own key, as keyless signers have; N rotates
    /// over N long-lived keys, which lets the service reuse what it parsed from a key it has seen.
    /// </summary>
    public int SignerKeys { get; init; }

    /// <summary>
    /// What each proposal's <c>publicKey.content</c> holds: a PEM public key (default, comparable with earlier figures)
    /// or, with <c>--proposal-key certificate</c>, a Fulcio-like certificate for the proposal's fresh key.
    /// </summary>
    public ProposalKey ProposalKey { get; init; }

    /// <summary>Rows per transaction in the batched raw-insert ceiling.</summary>
    public int RawBatchRows { get; init; } = 100;

    public int EntriesToSign => Entries > 0 ? Entries : 4_000 * (WarmupSeconds + DurationSeconds);

    public static BenchmarkOptions Parse(string[] args)
    {
        Uri? url = null;
        string? admin = null;
        var options = new BenchmarkOptions { ServiceUrl = new Uri("http://127.0.0.1"), AdminConnectionString = "" };
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value");
            int NextInt(int min) =>
                int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min
                    ? value
                    : throw new ArgumentException($"{name} needs an integer of at least {min}");
            options = name switch
            {
                "--url" => options with { ServiceUrls = [.. options.ServiceUrls, new Uri(Next())] },
                "--admin-connection" => options with { AdminConnectionString = admin = Next() },
                "--service-pid" => options with { ServicePids = [.. options.ServicePids, NextInt(1)] },
                "--postgres-data" => options with { PostgresDataDirectory = Next() },
                "--clients" => options with { Clients = NextInt(1) },
                "--duration" => options with { DurationSeconds = NextInt(1) },
                "--read-duration" => options with { ReadDurationSeconds = NextInt(0) },
                "--warmup" => options with { WarmupSeconds = NextInt(0) },
                "--entries" => options with { Entries = NextInt(1) },
                "--raw-batch-rows" => options with { RawBatchRows = NextInt(1) },
                "--signer-keys" => options with { SignerKeys = NextInt(0) },
                "--proposal-key" => options with
                {
                    ProposalKey = Next() switch
                    {
                        "public-key" => ProposalKey.PublicKey,
                        "certificate" => ProposalKey.Certificate,
                        _ => throw new ArgumentException("--proposal-key is public-key or certificate"),
                    },
                },
                _ => throw new ArgumentException($"unknown option {name}"),
            };
        }

        url = options.ServiceUrls.FirstOrDefault();
        if (url is null || admin is null)
        {
            throw new ArgumentException("--url and --admin-connection are required (bench/run-log-benchmark.sh passes them)");
        }

        if (options.ProposalKey == ProposalKey.Certificate && options.SignerKeys != 0)
        {
            throw new ArgumentException("--proposal-key certificate gives every proposal its own key; it does not combine with --signer-keys");
        }

        return options with { ServiceUrl = url };
    }
}
