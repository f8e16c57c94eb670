using System.Security.Cryptography;
using System.Text;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Tests.Keys;

public sealed class SoftwareSignerTests
{
    /// <summary>
    /// Many threads sign at once on one signer (the CA's request threads; the sequencer and the checkpoint refresher):
    /// each signature is by the one key over its own message.
    /// </summary>
    [Theory]
    [InlineData("ecdsa")]
    [InlineData("rsa")]
    public void Sign_ConcurrentThreads_EverySignatureVerifiesUnderTheOneKey(string kind)
    {
        AsymmetricAlgorithm key = kind == "rsa" ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var signer = new SoftwareSigner(key);
        var messages = Enumerable.Range(0, 64).Select(i => Encoding.UTF8.GetBytes("entry " + i)).ToArray();
        var signatures = new byte[messages.Length][];

        Parallel.For(0, messages.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => signatures[i] = signer.Sign(messages[i]));

        for (var i = 0; i < messages.Length; i++)
        {
            Assert.True(Verify(signer.PublicKeySpki.Span, kind, messages[i], signatures[i]), $"signature {i}");
            Assert.False(Verify(signer.PublicKeySpki.Span, kind, messages[(i + 1) % messages.Length], signatures[i]), $"signature {i} on another message");
        }
    }

    [Fact]
    public void Sign_AfterDispose_Throws()
    {
        var signer = new SoftwareSigner(ECDsa.Create(ECCurve.NamedCurves.nistP256));
        Parallel.For(0, 16, _ => signer.Sign("before"u8));
        signer.Dispose();

        Assert.ThrowsAny<ObjectDisposedException>(() => signer.Sign("after"u8));
    }

    private static bool Verify(ReadOnlySpan<byte> spki, string kind, byte[] message, byte[] signature)
    {
        if (kind == "rsa")
        {
            using var rsa = RSA.Create();
            rsa.ImportSubjectPublicKeyInfo(spki, out _);
            return rsa.VerifyData(message, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }

        using var ecdsa = ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(spki, out _);
        return ecdsa.VerifyData(message, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }
}
