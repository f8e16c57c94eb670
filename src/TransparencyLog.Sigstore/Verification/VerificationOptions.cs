using System.Security.Cryptography;

namespace TransparencyLog.Sigstore.Verification;

/// <summary>How much independent evidence a bundle must carry; the defaults are those of @sigstore/verify.</summary>
public sealed record VerificationOptions
{
    /// <summary>Verified timestamps (SETs with a non-zero integrated time plus RFC 3161 tokens).</summary>
    public int TimestampThreshold { get; init; } = 1;

    /// <summary>Verified transparency log entries.</summary>
    public int TlogThreshold { get; init; } = 1;

    /// <summary>Verified embedded SCTs in the signing certificate. Any SCT present must verify, even at 0.</summary>
    public int CtlogThreshold { get; init; } = 1;

    /// <summary>
    /// Key-based verification only: the hash the artifact or DSSE signature was made with (ECDSA and RSA keys;
    /// policy-controller's <c>key.hashAlgorithm</c>). Null: by the key (SHA-256, or the curve's hash for P-384/P-521).
    /// </summary>
    public HashAlgorithmName? KeySignatureHash { get; init; }
}

/// <summary>Where a verified time came from.</summary>
public enum TimestampSource
{
    /// <summary>A transparency log's signed entry timestamp (integrated time).</summary>
    TransparencyLog,

    /// <summary>An RFC 3161 timestamp authority.</summary>
    TimestampAuthority,
}

/// <summary>A time the signature is proven to have existed at.</summary>
public sealed record VerifiedTimestamp(TimestampSource Source, DateTimeOffset Time);

/// <summary>What a successful verification established.</summary>
public sealed record VerificationResult(
    string? Subject,
    string? Issuer,
    IReadOnlyList<VerifiedTimestamp> Timestamps,
    IReadOnlyList<long> LogIndexes,
    string? PayloadType);
