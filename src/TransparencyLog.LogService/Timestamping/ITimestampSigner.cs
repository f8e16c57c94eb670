using System.Security.Cryptography.X509Certificates;

namespace TransparencyLog.LogService.Timestamping;

/// <summary>
/// The key that signs timestamp tokens and the certificate chain that vouches for it. Keys held in this process
/// (<see cref="LocalTimestampSigner"/>: file and development backends) implement it; a KMS or PKCS#11 signer plugs in
/// here without touching the token encoder.
/// </summary>
internal interface ITimestampSigner
{
    /// <summary>TSA certificate first, then its issuers up to the root; validated at start-up.</summary>
    IReadOnlyList<X509Certificate2> Chain { get; }

    /// <summary>DER AlgorithmIdentifier of the signatures <see cref="Sign"/> produces (SignerInfo.signatureAlgorithm).</summary>
    ReadOnlyMemory<byte> SignatureAlgorithm { get; }

    /// <summary>
    /// Signs the DER SET of signed attributes with SHA-256; ECDSA signatures are DER <c>SEQUENCE{r, s}</c>, the only
    /// form CMS verifiers accept.
    /// </summary>
    byte[] Sign(ReadOnlySpan<byte> signedAttributes);
}
