using System.ComponentModel.DataAnnotations;

namespace TransparencyLog.LogService.Tuf;

/// <summary>The TUF repository at <c>/tuf/</c>. Section <c>Tuf</c>; off unless <see cref="Enabled"/>.</summary>
internal sealed class TufOptions
{
    public const string Section = "Tuf";

    public bool Enabled { get; set; }

    /// <summary>PEM private key (ECDSA P-256 or Ed25519, PKCS#8, encrypted allowed) of the online snapshot and timestamp roles.</summary>
    public string? OnlineKeyPath { get; set; }

    /// <summary>File holding the online key's password. Never logged.</summary>
    public string? OnlineKeyPasswordFile { get; set; }

    /// <summary>File holding the bearer token <c>tlog tuf publish</c> must present. Never logged.</summary>
    public string? AdminTokenFile { get; set; }

    [Range(1, 365)]
    public int TimestampExpiryDays { get; set; } = 7;

    /// <summary>The timestamp is re-signed when less than this much of its life is left (7 d expiry, 6 d left: daily).</summary>
    [Range(1, 365 * 24 * 3600)]
    public int TimestampResignBeforeSeconds { get; set; } = 6 * 24 * 3600;

    [Range(1, 3650)]
    public int SnapshotExpiryDays { get; set; } = 14;

    [Range(1, 3650 * 24 * 3600)]
    public int SnapshotResignBeforeSeconds { get; set; } = 7 * 24 * 3600;

    /// <summary>How often the service checks whether the online roles need re-signing.</summary>
    [Range(1, 86_400)]
    public int CheckIntervalSeconds { get; set; } = 3600;

    /// <summary>Root and targets must stay valid at least this long after a publish.</summary>
    [Range(0, 3650)]
    public int MinimumOfflineValidityDays { get; set; } = 30;

    /// <summary>A new signing-config service must start at least this long after publication (rule R2: timestamp expiry plus margin).</summary>
    [Range(0, 365 * 24 * 3600)]
    public int SigningConfigLeadSeconds { get; set; } = 9 * 24 * 3600;

    /// <summary>The largest publish request (metadata and target files together).</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxPublishBytes { get; set; } = 16 * 1024 * 1024;
}
