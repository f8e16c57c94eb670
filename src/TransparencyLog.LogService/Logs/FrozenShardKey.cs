using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.LogService.Logs;

/// <summary>
/// The public half of a frozen Rekor v1 shard's key: enough to name the shard (its log ID) and to check what it
/// signed. A frozen shard signs nothing, so this process never needs (nor holds) its private key.
/// </summary>
internal sealed class FrozenShardKey(byte[] spki) : ISigner
{
    private readonly byte[] _spki = spki;

    public SignatureAlgorithm Algorithm { get; } = LogPublicKey.FromSpki(spki).KeyType == LogKeyType.Ed25519
        ? SignatureAlgorithm.Ed25519
        : SignatureAlgorithm.EcdsaP256Sha256;

    public ReadOnlyMemory<byte> PublicKeySpki => _spki;

    public ValueTask<byte[]> SignAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("a frozen log shard signs nothing");

    public void Dispose()
    {
    }
}
