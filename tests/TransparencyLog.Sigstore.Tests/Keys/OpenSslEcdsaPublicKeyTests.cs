using System.Formats.Asn1;
using System.Security.Cryptography;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Tests.Keys;

/// <summary>
/// The EC_KEY-held verification key gives the BCL's verdicts: the same keys accepted and refused, the same
/// signatures verified, and every SPKI it does not take left to the BCL.
/// </summary>
public sealed class OpenSslEcdsaPublicKeyTests
{
    public static TheoryData<string> Curves => ["P-256", "P-384", "P-521"];

    [Theory]
    [MemberData(nameof(Curves))]
    public void TryImport_CanonicalKey_IsTakenAndVerifiesAsTheBcl(string curve)
    {
        using var signer = ECDsa.Create(Curve(curve));
        var spki = signer.ExportSubjectPublicKeyInfo();
        using var native = OpenSslEcdsaPublicKey.TryImport(spki);
        Assert.NotNull(native);
        Assert.Equal(signer.KeySize, native.KeySize);
        using var bcl = ECDsa.Create();
        bcl.ImportSubjectPublicKeyInfo(spki, out _);

        var message = "hashedrekord artifact"u8.ToArray();
        var digest = SHA256.HashData(message);
        var signature = signer.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
        var otherDigest = SHA256.HashData("another artifact"u8);
        foreach (var (hash, sig) in SignatureVariants(digest, signature, otherDigest, signer.KeySize))
        {
            Assert.Equal(
                bcl.VerifyHash(hash, sig, DSASignatureFormat.Rfc3279DerSequence),
                native.VerifyHash(hash, sig, DSASignatureFormat.Rfc3279DerSequence));
        }

        Assert.True(native.VerifyHash(digest, signature, DSASignatureFormat.Rfc3279DerSequence));
        Assert.False(native.VerifyHash(otherDigest, signature, DSASignatureFormat.Rfc3279DerSequence));
        var dataSignature = signer.SignData(message, HashAlgorithmName.SHA384, DSASignatureFormat.Rfc3279DerSequence);
        Assert.True(native.VerifyData(message, dataSignature, HashAlgorithmName.SHA384, DSASignatureFormat.Rfc3279DerSequence));
        Assert.False(native.VerifyData(message.AsSpan(1), dataSignature, HashAlgorithmName.SHA384, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Theory]
    [MemberData(nameof(Curves))]
    public void TryImport_DamagedPoint_RefusedExactlyWhenTheBclRefuses(string curve)
    {
        using var signer = ECDsa.Create(Curve(curve));
        var spki = signer.ExportSubjectPublicKeyInfo();
        var coordinate = (spki.Length - PointOffset(spki) - 1) / 2;
        var damaged = new List<byte[]>();
        for (var i = 0; i < 2 * coordinate; i += 7)
        {
            var copy = (byte[])spki.Clone();
            copy[PointOffset(spki) + 1 + i] ^= 0x01;
            damaged.Add(copy);
        }

        // Both coordinates zero; x all ones (beyond the field's prime); y replaced by p - y's neighbour.
        var zero = (byte[])spki.Clone();
        Array.Clear(zero, PointOffset(spki) + 1, 2 * coordinate);
        damaged.Add(zero);
        var ones = (byte[])spki.Clone();
        Array.Fill(ones, (byte)0xff, PointOffset(spki) + 1, coordinate);
        damaged.Add(ones);

        var refused = 0;
        foreach (var candidate in damaged)
        {
            var bclRefused = Refuses(() =>
            {
                using var bcl = ECDsa.Create();
                bcl.ImportSubjectPublicKeyInfo(candidate, out _);
            });
            var nativeRefused = Refuses(() => OpenSslEcdsaPublicKey.TryImport(candidate)!.Dispose());
            Assert.Equal(bclRefused, nativeRefused);
            refused += nativeRefused ? 1 : 0;
        }

        Assert.Equal(damaged.Count, refused);
    }

    [Fact]
    public void TryImport_OtherShapes_LeftToTheBcl()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var spki = key.ExportSubjectPublicKeyInfo();
        var parameters = key.ExportParameters(false);

        // Compressed point, explicit curve parameters, trailing data, another curve, an RSA key.
        var compressed = Spki(Oids.P256, [(byte)(2 + (parameters.Q.Y![^1] & 1)), .. parameters.Q.X!]);
        using var explicitKey = ECDsa.Create(key.ExportExplicitParameters(false));
        var explicitSpki = explicitKey.ExportSubjectPublicKeyInfo();
        byte[] trailing = [.. spki, 0];
        using var brainpool = ECDsa.Create(ECCurve.NamedCurves.brainpoolP256r1);
        using var rsa = RSA.Create(2048);

        foreach (var other in new[] { compressed, explicitSpki, trailing, brainpool.ExportSubjectPublicKeyInfo(), rsa.ExportSubjectPublicKeyInfo() })
        {
            Assert.Null(OpenSslEcdsaPublicKey.CanonicalKeySize(other));
            Assert.Null(OpenSslEcdsaPublicKey.TryImport(other));
        }

        Assert.Equal(256, OpenSslEcdsaPublicKey.CanonicalKeySize(spki));
    }

    [Fact]
    public void SignatureVerification_ManyKeysFromSpki_SameVerdictsAsTheBcl()
    {
        for (var i = 0; i < 50; i++)
        {
            using var signer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var spki = signer.ExportSubjectPublicKeyInfo();
            var digest = SHA256.HashData(BitConverter.GetBytes(i));
            var signature = signer.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
            Assert.True(SignatureVerification.VerifyDigest(Oids.EcPublicKey, spki, HashAlgorithmName.SHA256, digest, signature, acceptRsaPss: false));
            signature[^1] ^= 0x40;
            Assert.False(SignatureVerification.VerifyDigest(Oids.EcPublicKey, spki, HashAlgorithmName.SHA256, digest, signature, acceptRsaPss: false));
        }
    }

    private static IEnumerable<(byte[] Digest, byte[] Signature)> SignatureVariants(byte[] digest, byte[] signature, byte[] otherDigest, int keySize)
    {
        yield return (digest, signature);
        yield return (otherDigest, signature);
        yield return (digest, [.. signature, 0]);
        yield return (digest, signature[..^1]);
        yield return (digest, []);
        var flipped = (byte[])signature.Clone();
        flipped[^2] ^= 0x10;
        yield return (digest, flipped);

        // The same values in BER (a long-form length), and as IEEE P1363 bytes: not DER.
        var reader = new AsnReader(signature, AsnEncodingRules.DER).ReadSequence();
        var r = reader.ReadIntegerBytes().ToArray();
        var s = reader.ReadIntegerBytes().ToArray();
        byte[] body = [0x02, (byte)r.Length, .. r, 0x02, (byte)s.Length, .. s];
        if (body.Length < 128)
        {
            yield return (digest, [0x30, 0x81, (byte)body.Length, .. body]);
        }

        var fixedSize = (keySize + 7) / 8;
        yield return (digest, [.. Fixed(r, fixedSize), .. Fixed(s, fixedSize)]);
        yield return (digest[..16], signature);
    }

    private static byte[] Fixed(byte[] integer, int size)
    {
        var trimmed = integer.AsSpan().TrimStart((byte)0);
        var result = new byte[size];
        trimmed.CopyTo(result.AsSpan(size - trimmed.Length));
        return result;
    }

    private static bool Refuses(Action import)
    {
        try
        {
            import();
            return false;
        }
        catch (CryptographicException)
        {
            return true;
        }
    }

    private static int PointOffset(byte[] spki)
    {
        var reader = new AsnReader(spki, AsnEncodingRules.DER).ReadSequence();
        reader.ReadSequence();
        Assert.True(reader.TryReadPrimitiveBitString(out _, out var point));
        return spki.Length - point.Length;
    }

    private static byte[] Spki(string curveOid, byte[] point)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Oids.EcPublicKey);
                writer.WriteObjectIdentifier(curveOid);
            }

            writer.WriteBitString(point);
        }

        return writer.Encode();
    }

    private static ECCurve Curve(string name) => name switch
    {
        "P-384" => ECCurve.NamedCurves.nistP384,
        "P-521" => ECCurve.NamedCurves.nistP521,
        _ => ECCurve.NamedCurves.nistP256,
    };
}
