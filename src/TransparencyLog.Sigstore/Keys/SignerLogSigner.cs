namespace TransparencyLog.Sigstore.Keys;

/// <summary>
/// A log key behind an <see cref="ISigner"/> whose private half this process never holds (a PKCS#11 token):
/// checkpoints, SETs and SCTs are signed through it like with an in-process key.
/// </summary>
internal sealed class SignerLogSigner : LogSigner
{
    private readonly ISigner _signer;
    private readonly LogPublicKey _publicKey;

    public SignerLogSigner(ISigner signer, byte[] spki)
        : base(spki)
    {
        _signer = signer;
        _publicKey = LogPublicKey.FromSpki(spki);
        KeyType = signer.Algorithm switch
        {
            SignatureAlgorithm.EcdsaP256Sha256 => LogKeyType.EcdsaP256,
            SignatureAlgorithm.Ed25519 => LogKeyType.Ed25519,
            _ => throw new KeyLoadException($"a log key must be ECDSA P-256 or Ed25519, not {signer.Algorithm}"),
        };
    }

    public override LogKeyType KeyType { get; }

    public override byte[] Sign(ReadOnlySpan<byte> data)
    {
        // The log's signing call sites are synchronous; a PKCS#11 signature completes synchronously, so this does
        // not block on I/O it could have awaited. A remote (KMS) signer would make these call sites asynchronous.
        var pending = _signer.SignAsync(data.ToArray());
        return pending.IsCompletedSuccessfully ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    public override bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) => _publicKey.Verify(data, signature);

    private protected override byte[] ExportPkcs8() =>
        throw new InvalidOperationException("the private key stays in its token and cannot be exported");

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _signer.Dispose();
        }

        base.Dispose(disposing);
    }
}
