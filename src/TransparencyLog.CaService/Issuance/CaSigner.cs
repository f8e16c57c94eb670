using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.CaService.Issuance;

/// <summary>
/// The issuing CA: its certificate chain and the <see cref="ISigner"/> of its key, held in process memory (file and
/// ephemeral backends) or in a PKCS#11 token; the issuer never sees the key itself.
/// </summary>
internal sealed class CaSigner : IDisposable
{
    private readonly ISigner _signer;

    /// <summary>Takes ownership of <paramref name="signer"/> and <paramref name="chain"/>; validate them first with
    /// <see cref="CaChainValidator"/>.</summary>
    public CaSigner(ISigner signer, IReadOnlyList<X509Certificate2> chain)
    {
        _signer = signer;
        Chain = chain;
        SignatureAlgorithm = signer.Algorithm.AlgorithmIdentifier();
    }

    /// <summary>The issuing CA certificate first, then any intermediates, then the self-signed root.</summary>
    public IReadOnlyList<X509Certificate2> Chain { get; }

    /// <summary>The DER AlgorithmIdentifier of the signatures <see cref="SignAsync"/> makes.</summary>
    public byte[] SignatureAlgorithm { get; }

    public X509Certificate2 IssuingCertificate => Chain[0];

    /// <summary>
    /// Whether the key is in this process (file and ephemeral backends): the BCL signs with the key the chain was
    /// validated against, so its signatures need no second check. A token or a remote signer may hand back a signature
    /// over other data or by another key, so those are verified before a certificate leaves the CA.
    /// </summary>
    public bool SignsInProcess => _signer is SoftwareSigner;

    /// <summary>A CA whose ECDSA or RSA key is in this process (takes ownership of both).</summary>
    public static CaSigner InProcess(AsymmetricAlgorithm key, IReadOnlyList<X509Certificate2> chain) => new(new SoftwareSigner(key), chain);

    /// <summary>Signs <paramref name="tbs"/> (a DER TBSCertificate); ECDSA signatures are DER <c>SEQUENCE{r,s}</c>.</summary>
    public ValueTask<byte[]> SignAsync(ReadOnlyMemory<byte> tbs, CancellationToken cancellationToken) =>
        _signer.SignAsync(tbs, cancellationToken);

    public void Dispose()
    {
        _signer.Dispose();
        foreach (var certificate in Chain)
        {
            certificate.Dispose();
        }
    }
}
