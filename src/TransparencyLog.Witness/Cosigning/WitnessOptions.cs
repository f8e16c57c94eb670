using System.ComponentModel.DataAnnotations;

namespace TransparencyLog.Witness.Cosigning;

/// <summary>The witness's identity, key, limits and the logs it cosigns. Section <c>Witness</c>.</summary>
internal sealed class WitnessOptions
{
    public const string Section = "Witness";

    /// <summary>The cosigner name (a schema-less URL, no spaces or '+'); part of the key ID, so fixed for the key's life.</summary>
    [Required]
    [RegularExpression(@"^[^\s+]{1,255}$")]
    public string Name { get; set; } = "";

    /// <summary>PKCS#8 PEM of the Ed25519 cosigning key. Without it a development key is made (and kept in <see cref="StateDirectory"/>).</summary>
    public string? PrivateKeyPath { get; set; }

    public string? PrivateKeyPasswordFile { get; set; }

    /// <summary>Where a development key is kept across restarts; none means a fresh key per start.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>Upper bound on an add-checkpoint body, checked before parsing (tlog-witness implementations use 16–128 KiB).</summary>
    [Range(1024, 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = 64 * 1024;

    /// <summary>Default per-log rate limit: requests allowed at once.</summary>
    [Range(1, 100_000)]
    public int Burst { get; set; } = 20;

    /// <summary>Default per-log rate limit: requests per second refilled.</summary>
    [Range(0.0001, 100_000)]
    public double RequestsPerSecond { get; set; } = 10;

    /// <summary>The logs this witness cosigns. Origins are never dropped from the database once seen.</summary>
    public List<WitnessedLogOptions> Logs { get; set; } = [];
}

/// <summary>One log the witness cosigns: its checkpoint origin and the verifier keys its checkpoints are signed with.</summary>
internal sealed class WitnessedLogOptions
{
    /// <summary>The checkpoint's first line (Rekor v1: <c>host - treeID</c>; C2SP logs: the key name).</summary>
    [Required]
    public string Origin { get; set; } = "";

    /// <summary>C2SP verifier keys (Ed25519 0x01 or ECDSA 0x02); a checkpoint must carry a valid signature of one.</summary>
    [MinLength(1)]
    public List<string> VerifierKeys { get; set; } = [];

    /// <summary>Overrides <see cref="WitnessOptions.Burst"/> for this log.</summary>
    public int? Burst { get; set; }

    /// <summary>Overrides <see cref="WitnessOptions.RequestsPerSecond"/> for this log.</summary>
    public double? RequestsPerSecond { get; set; }
}
