using Org.BouncyCastle.Math.EC.Rfc8032;

namespace TransparencyLog.Sigstore.Keys;

internal static class Ed25519Verification
{
    /// <summary>Pure Ed25519 (RFC 8032 §5.1, no context).</summary>
    public static bool VerifyPure(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (publicKey.Length != Ed25519.PublicKeySize || signature.Length != Ed25519.SignatureSize)
        {
            return false;
        }

        var message = data.ToArray();
        return Ed25519.Verify(signature.ToArray(), 0, publicKey.ToArray(), 0, message, 0, message.Length);
    }

    /// <summary>
    /// Ed25519ph (RFC 8032 §5.1, phflag 1, empty context) over a SHA-512 prehash: what Rekor's hashedrekord
    /// accepts for Ed25519 keys (sigstore-go <c>WithED25519ph</c>).
    /// </summary>
    public static bool VerifyPrehash(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> sha512Digest, ReadOnlySpan<byte> signature)
    {
        if (publicKey.Length != Ed25519.PublicKeySize || signature.Length != Ed25519.SignatureSize
            || sha512Digest.Length != Ed25519.PrehashSize)
        {
            return false;
        }

        return Ed25519.VerifyPrehash(signature.ToArray(), 0, publicKey.ToArray(), 0, [], sha512Digest.ToArray(), 0);
    }
}
