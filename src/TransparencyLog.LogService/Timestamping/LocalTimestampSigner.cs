using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TransparencyLog.LogService.Timestamping;

/// <summary>A TSA key held in this process: ECDSA (ecdsa-with-SHA256) or RSA (sha256WithRSAEncryption, PKCS#1 v1.5).</summary>
internal sealed class LocalTimestampSigner : ITimestampSigner, IDisposable
{
    private readonly AsymmetricAlgorithm _key;

    /// <summary>Takes ownership of <paramref name="key"/>; the caller has validated chain and key.</summary>
    public LocalTimestampSigner(IReadOnlyList<X509Certificate2> chain, AsymmetricAlgorithm key)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chain.Count, 1);
        if (key is not (ECDsa or RSA))
        {
            throw new ArgumentException("The TSA key must be ECDSA or RSA.", nameof(key));
        }

        Chain = chain;
        _key = key;

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            if (key is ECDsa)
            {
                // RFC 5758: ecdsa-with-SHA256 has absent parameters.
                writer.WriteObjectIdentifier(Oids.EcdsaWithSha256);
            }
            else
            {
                writer.WriteObjectIdentifier(Oids.Sha256WithRsaEncryption);
                writer.WriteNull();
            }
        }

        SignatureAlgorithm = writer.Encode();
    }

    private readonly Lock _gate = new();

    public IReadOnlyList<X509Certificate2> Chain { get; }

    public ReadOnlyMemory<byte> SignatureAlgorithm { get; }

    public byte[] Sign(ReadOnlySpan<byte> signedAttributes)
    {
        // One key object serves every request; signing is serialized on it rather than relying on the platform's
        // thread-safety promises for a shared key (as the log's own signers do).
        lock (_gate)
        {
            return _key switch
            {
                ECDsa ecdsa => ecdsa.SignData(signedAttributes, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
                RSA rsa => rsa.SignData(signedAttributes, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                _ => throw new InvalidOperationException("Unsupported TSA key."),
            };
        }
    }

    public void Dispose()
    {
        _key.Dispose();
        foreach (var certificate in Chain)
        {
            certificate.Dispose();
        }
    }
}
