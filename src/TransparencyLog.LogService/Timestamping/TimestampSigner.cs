using System.Security.Cryptography.X509Certificates;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.LogService.Timestamping;

/// <summary>
/// The key that signs timestamp tokens and the certificate chain that vouches for it. The key is an
/// <see cref="ISigner"/> like every other signing key of the system: in this process (file and development
/// backends) or in a PKCS#11 token (a <c>pkcs11:</c> URI as the private key path).
/// </summary>
internal sealed class TimestampSigner : IDisposable
{
    private readonly ISigner _key;

    /// <summary>Takes ownership of <paramref name="key"/> and the chain; the caller has validated both.</summary>
    public TimestampSigner(IReadOnlyList<X509Certificate2> chain, ISigner key)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chain.Count, 1);
        Chain = chain;
        _key = key;
        SignatureAlgorithm = key.Algorithm.AlgorithmIdentifier();

        // CMS verifiers (openssl's CMS_SignerInfo_verify) hash the signed attributes with the SignerInfo's digest
        // algorithm, so it must be the hash the signature algorithm signs over.
        DigestAlgorithm = key.Algorithm switch
        {
            Sigstore.Keys.SignatureAlgorithm.EcdsaP256Sha256 or Sigstore.Keys.SignatureAlgorithm.RsaPkcs1Sha256 => TimestampHashAlgorithm.Sha256,
            Sigstore.Keys.SignatureAlgorithm.EcdsaP384Sha384 => TimestampHashAlgorithm.Sha384,
            Sigstore.Keys.SignatureAlgorithm.EcdsaP521Sha512 => TimestampHashAlgorithm.Sha512,
            _ => throw new ArgumentException("The TSA key must be ECDSA or RSA.", nameof(key)),
        };
    }

    /// <summary>TSA certificate first, then its issuers up to the root; validated at start-up.</summary>
    public IReadOnlyList<X509Certificate2> Chain { get; }

    /// <summary>DER AlgorithmIdentifier of the signatures <see cref="SignAsync"/> produces (SignerInfo.signatureAlgorithm).</summary>
    public ReadOnlyMemory<byte> SignatureAlgorithm { get; }

    /// <summary>The SignerInfo digest algorithm: the hash of <see cref="SignatureAlgorithm"/>.</summary>
    public TimestampHashAlgorithm DigestAlgorithm { get; }

    /// <summary>
    /// Signs the DER SET of signed attributes; ECDSA signatures are DER <c>SEQUENCE{r, s}</c>, the only form CMS
    /// verifiers accept.
    /// </summary>
    public ValueTask<byte[]> SignAsync(ReadOnlyMemory<byte> signedAttributes, CancellationToken cancellationToken = default) =>
        _key.SignAsync(signedAttributes, cancellationToken);

    public void Dispose()
    {
        _key.Dispose();
        foreach (var certificate in Chain)
        {
            certificate.Dispose();
        }
    }
}
