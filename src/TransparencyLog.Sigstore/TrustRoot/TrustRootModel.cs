namespace TransparencyLog.Sigstore.TrustRoot;

/// <summary>A validity window; a missing bound is unbounded (<c>V:trust/index.js:23-24</c>).</summary>
public sealed record ValidityPeriod(DateTimeOffset? Start, DateTimeOffset? End)
{
    public static ValidityPeriod Unbounded { get; } = new(null, null);

    /// <summary>Inclusive at both ends, as sigstore-js compares.</summary>
    public bool Contains(DateTimeOffset time) => (Start is not { } start || start <= time) && (End is not { } end || time <= end);
}

/// <summary>
/// A public key as trusted roots carry it: DER (SPKI, or PKCS#1 for <c>*RSA_PKCS1V5*</c> details), its protobuf
/// <c>PublicKeyDetails</c> name (e.g. <c>PKIX_ECDSA_P256_SHA_256</c>) and when it may be used.
/// </summary>
public sealed record TrustedPublicKey(byte[] RawBytes, string KeyDetails, ValidityPeriod ValidFor);

/// <summary>
/// A transparency log or CT log (protobuf <c>TransparencyLogInstance</c>). <see cref="LogId"/> = SHA-256(SPKI DER);
/// <see cref="CheckpointKeyId"/> is the C2SP note key ID when it differs from <c>LogId[:4]</c> (Ed25519 checkpoints).
/// </summary>
public sealed record TransparencyLogInstance(
    string BaseUrl,
    string HashAlgorithm,
    TrustedPublicKey PublicKey,
    byte[] LogId,
    byte[]? CheckpointKeyId = null,
    string? Operator = null)
{
    /// <summary>The 4-byte key hint that prefixes this log's checkpoint signatures.</summary>
    public byte[] CheckpointKeyHint => CheckpointKeyId is { Length: >= 4 } id ? id[..4] : LogId[..4];
}

/// <summary>The subject of a CA as trusted roots describe it (informational only).</summary>
public sealed record DistinguishedName(string? Organization, string? CommonName);

/// <summary>
/// A certificate authority or timestamp authority (protobuf <c>CertificateAuthority</c>): a chain of DER certificates,
/// leaf-most first and root last, and the window in which it may have issued.
/// </summary>
public sealed record CertificateAuthority(
    DistinguishedName? Subject,
    string? Uri,
    IReadOnlyList<byte[]> CertChain,
    ValidityPeriod ValidFor,
    string? Operator = null);
