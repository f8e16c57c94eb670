using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using TransparencyLog.Sigstore.Notes;
using TransparencyLog.Witness.Cosigning;

namespace TransparencyLog.Witness.Checkpoints;

/// <summary>A configured log: how its checkpoints are verified and how often it may ask.</summary>
internal sealed class WitnessedLogEntry(string origin, NoteVerifier verifier, RateLimiter limiter)
{
    public string Origin { get; } = origin;

    public NoteVerifier Verifier { get; } = verifier;

    public RateLimiter Limiter { get; } = limiter;
}

/// <summary>The logs this witness cosigns, by origin, built once from <see cref="WitnessOptions.Logs"/>.</summary>
internal sealed class WitnessedLogs : IDisposable
{
    private readonly Dictionary<string, WitnessedLogEntry> _logs = new(StringComparer.Ordinal);

    public WitnessedLogs(IOptions<WitnessOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var witness = options.Value;
        foreach (var log in witness.Logs)
        {
            if (log.Origin.Length == 0 || log.Origin.Contains('\n', StringComparison.Ordinal) || _logs.ContainsKey(log.Origin))
            {
                throw new InvalidOperationException($"Witness:Logs: origin '{log.Origin}' is empty, not one line, or listed twice");
            }

            NoteVerifier verifier;
            try
            {
                verifier = new NoteVerifier(log.VerifierKeys.Select(NoteVerifierKey.Parse));
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                throw new InvalidOperationException($"Witness:Logs: the verifier keys of '{log.Origin}' are invalid: {e.Message}", e);
            }

            var perSecond = log.RequestsPerSecond ?? witness.RequestsPerSecond;
            var limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = log.Burst ?? witness.Burst,
                TokensPerPeriod = 1,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1 / perSecond),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
            _logs.Add(log.Origin, new WitnessedLogEntry(log.Origin, verifier, limiter));
        }
    }

    public IReadOnlyCollection<string> Origins => _logs.Keys;

    public WitnessedLogEntry? Find(string origin) => _logs.GetValueOrDefault(origin);

    public void Dispose()
    {
        foreach (var log in _logs.Values)
        {
            log.Limiter.Dispose();
        }
    }
}
