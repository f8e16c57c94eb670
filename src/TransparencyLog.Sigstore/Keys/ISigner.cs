namespace TransparencyLog.Sigstore.Keys;

/// <summary>
/// A private key that signs without showing itself: held in this process (<see cref="SoftwareSigner"/>) or in a
/// PKCS#11 token (<see cref="Pkcs11.Pkcs11Signer"/>); a cloud KMS would be a third implementation. The CA, the log's
/// checkpoints and SETs, the CT log and the TSA sign through it. Asynchronous because a remote key is.
/// </summary>
public interface ISigner : IDisposable
{
    SignatureAlgorithm Algorithm { get; }

    /// <summary>DER SubjectPublicKeyInfo of the key.</summary>
    ReadOnlyMemory<byte> PublicKeySpki { get; }

    /// <summary>
    /// Signs <paramref name="data"/> (the signer hashes it for ECDSA and RSA): ECDSA as DER <c>SEQUENCE{r, s}</c>,
    /// RSA PKCS#1 v1.5, Ed25519 the 64-byte RFC 8032 signature. Safe to call concurrently.
    /// </summary>
    ValueTask<byte[]> SignAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);
}
