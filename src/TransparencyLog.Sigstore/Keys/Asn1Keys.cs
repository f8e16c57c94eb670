using System.Formats.Asn1;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>The few DER structures the BCL does not build for us: Ed25519 keys (RFC 8410) and algorithm lookups.</summary>
internal static class Asn1Keys
{
    public const int Ed25519KeySize = 32;

    /// <summary>The algorithm OID of a SubjectPublicKeyInfo or a PKCS#8 PrivateKeyInfo.</summary>
    public static string ReadAlgorithmOid(ReadOnlySpan<byte> der, bool privateKeyInfo)
    {
        var reader = new AsnReader(der.ToArray(), AsnEncodingRules.DER);
        var sequence = reader.ReadSequence();
        if (privateKeyInfo)
        {
            sequence.ReadInteger();
        }

        return sequence.ReadSequence().ReadObjectIdentifier();
    }

    /// <summary>
    /// The namedCurve OID in an EC SubjectPublicKeyInfo's algorithm parameters (RFC 5480 §2.1.1); null when the
    /// parameters are not a named curve (explicit curve parameters, or none).
    /// </summary>
    public static string? ReadNamedCurveOid(byte[] spki)
    {
        var algorithm = new AsnReader(spki, AsnEncodingRules.DER).ReadSequence().ReadSequence();
        algorithm.ReadObjectIdentifier();
        return algorithm.HasData && algorithm.PeekTag().HasSameClassAndValue(Asn1Tag.ObjectIdentifier)
            ? algorithm.ReadObjectIdentifier()
            : null;
    }

    /// <summary>
    /// The named curve of an EC SubjectPublicKeyInfo in the one form Go's x509 (hence Rekor) accepts: DER with nothing
    /// after it, the namedCurve P-256, P-384 or P-521, and an uncompressed point (0x04 ‖ X ‖ Y, each coordinate the
    /// curve's length). Null for any other SPKI, including malformed DER. Whether the point lies on the curve, with
    /// coordinates below the field's prime, is left to the key's decoder.
    /// </summary>
    public static string? ReadUncompressedNistCurveOid(byte[] spki)
    {
        try
        {
            var reader = new AsnReader(spki, AsnEncodingRules.DER);
            var sequence = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var algorithm = sequence.ReadSequence();
            if (algorithm.ReadObjectIdentifier() != Oids.EcPublicKey
                || !algorithm.HasData
                || !algorithm.PeekTag().HasSameClassAndValue(Asn1Tag.ObjectIdentifier))
            {
                return null;
            }

            var curve = algorithm.ReadObjectIdentifier();
            algorithm.ThrowIfNotEmpty();
            var coordinate = curve switch
            {
                Oids.P256 => 32,
                Oids.P384 => 48,
                Oids.P521 => 66,
                _ => 0,
            };
            if (coordinate == 0 || !sequence.TryReadPrimitiveBitString(out var unusedBits, out var point))
            {
                return null;
            }

            sequence.ThrowIfNotEmpty();
            return unusedBits == 0 && point.Length == 1 + (2 * coordinate) && point.Span[0] == 0x04 ? curve : null;
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    public static byte[] Ed25519Spki(ReadOnlySpan<byte> publicKey)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Oids.Ed25519);
            }

            writer.WriteBitString(publicKey);
        }

        return writer.Encode();
    }

    public static byte[] Ed25519Pkcs8(ReadOnlySpan<byte> seed)
    {
        var inner = new AsnWriter(AsnEncodingRules.DER);
        inner.WriteOctetString(seed);
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(0);
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Oids.Ed25519);
            }

            writer.WriteOctetString(inner.Encode());
        }

        return writer.Encode();
    }

    /// <summary>The 32-byte seed of an RFC 8410 OneAsymmetricKey (v1 or v2; attributes and public key ignored).</summary>
    public static byte[] ReadEd25519Seed(ReadOnlySpan<byte> pkcs8)
    {
        var reader = new AsnReader(pkcs8.ToArray(), AsnEncodingRules.DER);
        var sequence = reader.ReadSequence();
        reader.ThrowIfNotEmpty();
        sequence.ReadInteger();
        var algorithm = sequence.ReadSequence();
        if (algorithm.ReadObjectIdentifier() != Oids.Ed25519 || algorithm.HasData)
        {
            throw new AsnContentException("not an Ed25519 private key");
        }

        var seed = new AsnReader(sequence.ReadOctetString(), AsnEncodingRules.DER).ReadOctetString();
        if (seed.Length != Ed25519KeySize)
        {
            throw new AsnContentException("Ed25519 private key is not 32 bytes");
        }

        return seed;
    }

    /// <summary>The 32-byte public key of an Ed25519 SubjectPublicKeyInfo.</summary>
    public static byte[] ReadEd25519PublicKey(ReadOnlySpan<byte> spki)
    {
        var reader = new AsnReader(spki.ToArray(), AsnEncodingRules.DER);
        var sequence = reader.ReadSequence();
        reader.ThrowIfNotEmpty();
        var algorithm = sequence.ReadSequence();
        if (algorithm.ReadObjectIdentifier() != Oids.Ed25519 || algorithm.HasData)
        {
            throw new AsnContentException("not an Ed25519 public key");
        }

        var key = sequence.ReadBitString(out var unused);
        sequence.ThrowIfNotEmpty();
        if (unused != 0 || key.Length != Ed25519KeySize)
        {
            throw new AsnContentException("Ed25519 public key is not 32 bytes");
        }

        return key;
    }
}
