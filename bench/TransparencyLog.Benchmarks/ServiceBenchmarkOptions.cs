using System.Globalization;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// What one CA or TSA run does; parsed from the command line that <c>bench/run-service-benchmarks.sh</c> builds from
/// the <c>endpoints.env</c> and pid files that <c>./run.sh --background</c> leaves behind.
/// </summary>
internal sealed record ServiceBenchmarkOptions
{
    /// <summary>The CA's REST base address (<c>FULCIO_URL</c>); the CA benchmark needs it.</summary>
    public Uri? FulcioUrl { get; init; }

    /// <summary>The development OIDC issuer (<c>OIDC_ISSUER</c>) the tokens are minted by.</summary>
    public Uri? OidcIssuer { get; init; }

    /// <summary>The CT log's address including its <c>/ct</c> prefix (<c>CT_LOG_URL</c>), to read its tree size before and after.</summary>
    public Uri? CtLogUrl { get; init; }

    /// <summary>The timestamp endpoint (<c>TSA_URL</c>); the TSA benchmark needs it.</summary>
    public Uri? TsaUrl { get; init; }

    /// <summary>The CA process, for its CPU time; 0 when unknown.</summary>
    public int CaPid { get; init; }

    /// <summary>The log service process (CT log and TSA), for its CPU time; 0 when unknown.</summary>
    public int LogPid { get; init; }

    /// <summary>The PostgreSQL data directory, whose <c>postmaster.pid</c> names the server to account CPU time to.</summary>
    public string? PostgresDataDirectory { get; init; }

    public int Clients { get; init; } = 32;

    public int DurationSeconds { get; init; } = 30;

    /// <summary>Load before the clock starts, so the JIT and connection pools are warm on every side.</summary>
    public int WarmupSeconds { get; init; } = 10;

    /// <summary>Iterations of each in-process crypto measurement.</summary>
    public int CryptoIterations { get; init; } = 2_000;

    public static ServiceBenchmarkOptions Parse(string[] args)
    {
        var options = new ServiceBenchmarkOptions();
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
                "--fulcio-url" => options with { FulcioUrl = new Uri(Next()) },
                "--oidc-issuer" => options with { OidcIssuer = new Uri(Next()) },
                "--ct-log-url" => options with { CtLogUrl = new Uri(Next()) },
                "--tsa-url" => options with { TsaUrl = new Uri(Next()) },
                "--ca-pid" => options with { CaPid = NextInt(1) },
                "--log-pid" => options with { LogPid = NextInt(1) },
                "--postgres-data" => options with { PostgresDataDirectory = Next() },
                "--clients" => options with { Clients = NextInt(1) },
                "--duration" => options with { DurationSeconds = NextInt(1) },
                "--warmup" => options with { WarmupSeconds = NextInt(0) },
                "--crypto-iterations" => options with { CryptoIterations = NextInt(1) },
                _ => throw new ArgumentException($"unknown option {name}"),
            };
        }

        return options;
    }
}
