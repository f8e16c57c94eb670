using System.ComponentModel.DataAnnotations;
using TransparencyLog.Sigstore.Rekor;

namespace TransparencyLog.LogService.Logs;

/// <summary>
/// One log's identity and key. The name is a host name (<c>host[:port]</c>): it is the checkpoint signer name, and
/// sigstore clients match it against the log's base URL, so it must be the host clients reach the log at.
/// </summary>
internal sealed class LogOptions
{
    /// <summary>Whether this service serves the log. The Rekor v1 log is always on; the others are opt-in.</summary>
    public bool Enabled { get; set; }

    [Required]
    [RegularExpression(@"^[A-Za-z0-9][A-Za-z0-9.\-:_/]{0,253}$", ErrorMessage = "a log name is a host name without spaces or '+'")]
    public string Name { get; set; } = "";

    /// <summary>Fixed tree ID; when absent a random one is chosen when the log is created and kept in the database.</summary>
    [Range(1, long.MaxValue)]
    public long? TreeId { get; set; }

    /// <summary>PEM private key (PKCS#8, encrypted allowed; SEC1 EC), or a <c>pkcs11:</c> URI naming a key in an HSM.
    /// Empty: a development key (see StateDirectory).</summary>
    public string? PrivateKeyPath { get; set; }

    /// <summary>File holding the private key's password. Never logged.</summary>
    public string? PrivateKeyPasswordFile { get; set; }

    /// <summary>
    /// Rekor v1: the key of the next shard, staged before <c>shard rotate</c> so that every replica signs for the new
    /// shard the moment it becomes active (PEM file or <c>pkcs11:</c> URI). Empty: only development shard keys.
    /// </summary>
    public string? NextPrivateKeyPath { get; set; }

    /// <summary>File holding <see cref="NextPrivateKeyPath"/>'s password. Never logged.</summary>
    public string? NextPrivateKeyPasswordFile { get; set; }

    /// <summary>Key type of a generated development key: <c>ecdsa-p256</c> (what Rekor v1 clients expect) or <c>ed25519</c>.</summary>
    [RegularExpression("^(ecdsa-p256|ed25519)$")]
    public string DevelopmentKeyType { get; set; } = "ecdsa-p256";

    /// <summary>Where a generated development key is kept so the log keeps its key across restarts; empty = memory only.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>
    /// Rekor v2 logs: serve the log read-only (entries, proofs, tiles and checkpoints; appends refused with code 9,
    /// <c>FAILED_PRECONDITION</c>). Set on a period log once its successor takes the new entries (docs/rekor-v2.md).
    /// </summary>
    public bool ReadOnly { get; set; }

    /// <summary>How often the checkpoint is re-signed when the log does not grow (a liveness signal for monitors).</summary>
    [Range(1, 86_400)]
    public int CheckpointRefreshSeconds { get; set; } = 60;
}

/// <summary>How submissions are batched. Section <c>Sequencer</c>.</summary>
internal sealed class SequencerOptions
{
    public const string Section = "Sequencer";

    /// <summary>How long a batch collects submissions after the first one arrives.</summary>
    [Range(0, 1000)]
    public int BatchWindowMilliseconds { get; set; } = 5;

    [Range(1, 10_000)]
    public int MaxBatchSize { get; set; } = 1000;

    /// <summary>
    /// Under load (a batch's commit in flight), the least time between gathering one batch and the next while fewer
    /// than <see cref="CoalesceTarget"/> submissions wait. Each batch pays a fixed cost (head row, tiles, checkpoint
    /// signature and row, commit, witnessing) of a few milliseconds of CPU; without this wait a closed loop of clients
    /// (the CA submitting precertificates) settles at batches of about five. 0 gathers as soon as the lock allows.
    /// </summary>
    [Range(0, 1000)]
    public int CoalesceMilliseconds { get; set; } = 20;

    /// <summary>Waiting submissions that end the <see cref="CoalesceMilliseconds"/> wait at once.</summary>
    [Range(1, 10_000)]
    public int CoalesceTarget { get; set; } = 32;

    /// <summary>Submissions waiting beyond this are refused with 503 rather than queued without bound.</summary>
    [Range(1, 1_000_000)]
    public int MaxPending { get; set; } = 20_000;
}

/// <summary>Request bounds of the REST API. Section <c>Limits</c>.</summary>
internal sealed class LimitsOptions
{
    public const string Section = "Limits";

    /// <summary>Largest request body accepted by any endpoint, checked before parsing.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = 256 * 1024;

    /// <summary>Largest canonical entry body; tlog-tiles entry bundles cannot carry more than 65,535 bytes.</summary>
    [Range(256, 65_535)]
    public int MaxEntryBytes { get; set; } = 65_535;

    /// <summary>Most items in one retrieve or search request (Rekor allows 10).</summary>
    [Range(1, 1000)]
    public int MaxRetrieveItems { get; set; } = 10;

    /// <summary>Most results one search returns.</summary>
    [Range(1, 100_000)]
    public int MaxSearchResults { get; set; } = 1000;

    /// <summary>The bounds an entry parser (Rekor v1 or v2) checks while reducing a request to its entry.</summary>
    public EntryLimits ToEntryLimits() => new()
    {
        MaxRequestBytes = MaxRequestBytes,
        MaxCanonicalBodyBytes = MaxEntryBytes,
    };
}
