using System.Security.Cryptography;

namespace TransparencyLog.Sigstore.Keys;

internal sealed class EcdsaLogSigner : LogSigner
{
    // ECDsa instances are not documented as thread-safe; a log signs from several request threads.
    private readonly Lock _lock = new();
    private readonly ECDsa _key;

    public EcdsaLogSigner(ECDsa key)
        : base(key.ExportSubjectPublicKeyInfo())
    {
        _key = key;
    }

    public override LogKeyType KeyType => LogKeyType.EcdsaP256;

    public static EcdsaLogSigner RequireP256(ECDsa ecdsa)
    {
        if (ecdsa.ExportParameters(includePrivateParameters: false).Curve.Oid.Value != Oids.P256)
        {
            ecdsa.Dispose();
            throw new KeyLoadException("only the P-256 curve is supported for ECDSA log keys");
        }

        return new EcdsaLogSigner(ecdsa);
    }

    public override byte[] Sign(ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            return _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
    }

    public override bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        lock (_lock)
        {
            return _key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }
    }

    private protected override byte[] ExportPkcs8()
    {
        lock (_lock)
        {
            return _key.ExportPkcs8PrivateKey();
        }
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
