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

    private KnownState? _known;

    /// <summary>
    /// The (size, root) this process last read or wrote for the log, so a request needs no read before its
    /// compare-and-swap. Only a hint: the CAS matches the row against it, and a mismatch re-reads the row.
    /// </summary>
    public KnownState? Known => Volatile.Read(ref _known);

    /// <summary>Remembers <paramref name="state"/> unless a larger size is already known (states only grow).</summary>
    public void Remember(KnownState state)
    {
        var current = Volatile.Read(ref _known);
        while (current is null || current.TreeSize <= state.TreeSize)
        {
            var seen = Interlocked.CompareExchange(ref _known, state, current);
            if (ReferenceEquals(seen, current))
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>Forgets the hint (the row moved elsewhere, or a refusal must be decided on the stored row).</summary>
    public void Forget(KnownState state) => Interlocked.CompareExchange(ref _known, null, state);
}

/// <summary>A witness state as this process last saw it.</summary>
internal sealed record KnownState(long TreeSize, byte[] RootHash);

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
