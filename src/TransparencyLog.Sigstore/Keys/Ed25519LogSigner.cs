using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>Ed25519 via BouncyCastle's stateless RFC 8032 routines (the BCL has no Ed25519).</summary>
internal sealed class Ed25519LogSigner : LogSigner
{
    private readonly byte[] _seed;
    private readonly byte[] _publicKey;

    public Ed25519LogSigner(byte[] seed)
        : this(seed, DerivePublicKey(seed))
    {
    }

    private Ed25519LogSigner(byte[] seed, byte[] publicKey)
        : base(Asn1Keys.Ed25519Spki(publicKey))
    {
        _seed = seed;
        _publicKey = publicKey;
    }

    public override LogKeyType KeyType => LogKeyType.Ed25519;

    /// <summary>The raw 32-byte public key (C2SP note keys use it, not the SPKI).</summary>
    public byte[] RawPublicKey => _publicKey;

    public static Ed25519LogSigner Generate() => new(RandomNumberGenerator.GetBytes(Ed25519.SecretKeySize));

    public override byte[] Sign(ReadOnlySpan<byte> data)
    {
        var message = data.ToArray();
        var signature = new byte[Ed25519.SignatureSize];
        Ed25519.Sign(_seed, 0, _publicKey, 0, message, 0, message.Length, signature, 0);
        return signature;
    }

    public override bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        Ed25519Verification.VerifyPure(_publicKey, data, signature);

    private protected override byte[] ExportPkcs8() => Asn1Keys.Ed25519Pkcs8(_seed);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            CryptographicOperations.ZeroMemory(_seed);
        }

        base.Dispose(disposing);
    }

    private static byte[] DerivePublicKey(byte[] seed)
    {
        var publicKey = new byte[Ed25519.PublicKeySize];
        Ed25519.GeneratePublicKey(seed, 0, publicKey, 0);
        return publicKey;
    }
}
