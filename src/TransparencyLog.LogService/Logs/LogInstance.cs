using System.Globalization;
using System.Text;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Logs;

/// <summary>The kinds of log one database holds.</summary>
internal enum LogKind
{
    RekorV1,
    CertificateTransparency,
    RekorV2,
}

/// <summary>A log as the running service knows it: its database row, key and checkpoint format.</summary>
internal sealed class LogInstance
{
    private readonly NoteSigner _noteSigner;

    public LogInstance(int id, string name, LogKind kind, long treeId, LogSigner signer, LogOptions options)
    {
        Id = id;
        Name = name;
        Kind = kind;
        TreeId = treeId;
        Signer = signer;
        Options = options;
        _noteSigner = new NoteSigner(name, signer);
        // Rekor v1 names its checkpoints "<host> - <treeID>"; C2SP logs use the bare name as origin.
        Origin = kind == LogKind.RekorV1 ? $"{name} - {treeId.ToString(CultureInfo.InvariantCulture)}" : name;
    }

    public int Id { get; }

    public string Name { get; }

    public LogKind Kind { get; }

    public long TreeId { get; }

    public string Origin { get; }

    public LogSigner Signer { get; }

    public LogOptions Options { get; }

    /// <summary>Rekor v1 shards: the global (virtual) index of this tree's first entry; 0 for every other log.</summary>
    public long ShardStart { get; init; }

    /// <summary>A Rekor v2 period log: the path it is served under (<c>/{PeriodPath}/api/v2</c>); null for every other log.</summary>
    public string? PeriodPath { get; init; }

    /// <summary>When this Rekor v1 shard was frozen (read-only, signs nothing); null for a log that is appended to.</summary>
    public DateTimeOffset? FrozenAt { get; init; }

    /// <summary>The C2SP verifier key string (<c>name+keyid+key</c>) auditors use to check checkpoints.</summary>
    public string VerifierKey => _noteSigner.VerifierKey;

    /// <summary>The 4-byte key hint on this log's checkpoint signatures (a trusted root's <c>checkpointKeyId</c>).</summary>
    public byte[] CheckpointKeyId => _noteSigner.KeyId;

    /// <summary>
    /// The untruncated hash the checkpoint key hint is cut from: SHA-256(name || 0x0A || 0x01 || key) for Ed25519,
    /// SHA-256(SPKI) for ECDSA. Rekor v2 returns it as <c>logId.keyId</c>.
    /// </summary>
    public byte[] CheckpointKeyHash => _noteSigner.KeyHash;

    public static string KindName(LogKind kind) => kind switch
    {
        LogKind.RekorV1 => "rekor-v1",
        LogKind.CertificateTransparency => "ct",
        LogKind.RekorV2 => "rekor-v2",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Signs the checkpoint for a tree head. Rekor v1 adds its <c>Timestamp:</c> line, so re-signing the
    /// same head periodically yields a fresh, dated note.</summary>
    public ValueTask<string> SignCheckpointAsync(long size, Hash root, DateTimeOffset time, CancellationToken cancellationToken)
    {
        var extensions = Kind == LogKind.RekorV1
            ? new[] { "Timestamp: " + ((time.ToUnixTimeMilliseconds() * 1_000_000).ToString(CultureInfo.InvariantCulture)) }
            : Array.Empty<string>();
        var checkpoint = new Checkpoint(Origin, size, root.ToArray(), extensions);
        return SignedNote.SignAsync(checkpoint.ToNoteText(), _noteSigner, cancellationToken);
    }

    /// <summary>The Rekor v1 signed entry timestamp over the canonical (body, integratedTime, logID, logIndex).</summary>
    public ValueTask<byte[]> SignEntryTimestampAsync(byte[] body, long integratedTime, long index, CancellationToken cancellationToken)
    {
        var payload = Sigstore.Rekor.SignedEntryTimestamp.Payload(body, integratedTime, Signer.LogIdHex, index);
        return Signer.SignAsync(payload, cancellationToken);
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
