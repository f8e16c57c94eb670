using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TransparencyLog.CaService.Issuance;

/// <summary>
/// The issuing CA: its certificate chain and a way to sign with its key. The key may live in process memory
/// (<see cref="InProcessCaSigner"/>: the file and ephemeral backends) or, later, in a KMS or an HSM, which is why
/// signing is asynchronous and the issuer never sees the key itself.
/// </summary>
internal abstract class CaSigner : IDisposable
{
    /// <summary>The issuing CA certificate first, then any intermediates, then the self-signed root.</summary>
    public abstract IReadOnlyList<X509Certificate2> Chain { get; }

    /// <summary>The DER AlgorithmIdentifier of the signatures <see cref="SignAsync"/> makes.</summary>
    public abstract byte[] SignatureAlgorithm { get; }

    public X509Certificate2 IssuingCertificate => Chain[0];

    /// <summary>Signs <paramref name="tbs"/> (a DER TBSCertificate); ECDSA signatures are DER <c>SEQUENCE{r,s}</c>.</summary>
    public abstract ValueTask<byte[]> SignAsync(ReadOnlyMemory<byte> tbs, CancellationToken cancellationToken);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var certificate in Chain)
            {
                certificate.Dispose();
            }
        }
    }

    /// <summary>The signature algorithm a CA key signs certificates with: ECDSA with the hash matching the curve
    /// size, or sha256WithRSAEncryption.</summary>
    internal static (byte[] AlgorithmIdentifier, HashAlgorithmName Hash) SignatureAlgorithmFor(AsymmetricAlgorithm key)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        HashAlgorithmName hash;
        using (writer.PushSequence())
        {
            switch (key)
            {
                case ECDsa { KeySize: 256 }:
                    writer.WriteObjectIdentifier("1.2.840.10045.4.3.2");
                    hash = HashAlgorithmName.SHA256;
                    break;
                case ECDsa { KeySize: 384 }:
                    writer.WriteObjectIdentifier("1.2.840.10045.4.3.3");
                    hash = HashAlgorithmName.SHA384;
                    break;
                case ECDsa { KeySize: 521 }:
                    writer.WriteObjectIdentifier("1.2.840.10045.4.3.4");
                    hash = HashAlgorithmName.SHA512;
                    break;
                case RSA:
                    writer.WriteObjectIdentifier("1.2.840.113549.1.1.11");
                    writer.WriteNull();
                    hash = HashAlgorithmName.SHA256;
                    break;
                default:
                    throw new InvalidOperationException("Issuance: the CA key must be ECDSA P-256/384/521 or RSA.");
            }
        }

        return (writer.Encode(), hash);
    }
}

/// <summary>A CA whose key is held in process memory (file and ephemeral backends).</summary>
internal sealed class InProcessCaSigner : CaSigner
{
    private readonly AsymmetricAlgorithm _key;
    private readonly HashAlgorithmName _hash;

    /// <summary>Takes ownership of <paramref name="key"/> and <paramref name="chain"/>; validate them first with
    /// <see cref="CaChainValidator"/>.</summary>
    public InProcessCaSigner(AsymmetricAlgorithm key, IReadOnlyList<X509Certificate2> chain)
    {
        _key = key;
        Chain = chain;
        (SignatureAlgorithm, _hash) = SignatureAlgorithmFor(key);
    }

    private readonly Lock _gate = new();

    public override IReadOnlyList<X509Certificate2> Chain { get; }

    public override byte[] SignatureAlgorithm { get; }

    public override ValueTask<byte[]> SignAsync(ReadOnlyMemory<byte> tbs, CancellationToken cancellationToken)
    {
        byte[] signature;

        // One key object serves every issuance; signing is serialized on it rather than relying on the platform's
        // thread-safety promises for a shared key.
        lock (_gate)
        {
            signature = _key switch
            {
                ECDsa ecdsa => ecdsa.SignData(tbs.Span, _hash, DSASignatureFormat.Rfc3279DerSequence),
                RSA rsa => rsa.SignData(tbs.Span, _hash, RSASignaturePadding.Pkcs1),
                _ => throw new InvalidOperationException("Unsupported CA key."),
            };
        }

        return ValueTask.FromResult(signature);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _key.Dispose();
        }

        base.Dispose(disposing);
    }
}
