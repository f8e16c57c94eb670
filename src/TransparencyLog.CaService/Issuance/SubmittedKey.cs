using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using TransparencyLog.CaService.Errors;

using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.CaService.Issuance;

/// <summary>The algorithm family and parameters of a key that passed the key policy.</summary>
internal enum SubmittedKeyType
{
    EcP256,
    EcP384,
    EcP521,
    Rsa,
    Ed25519,
}

/// <summary>
/// A public key a client asked to have certified, parsed and checked against the key policy (Fulcio's): RSA with a
/// 2048-, 3072- or 4096-bit modulus and an odd public exponent 65537 ≤ e &lt; 2³¹ (small exponents are legal but
/// buy nothing and no sigstore client makes them; the upper bound is Go's, so any key we accept Go accepts too);
/// ECDSA on P-256, P-384 or P-521 (named curves only); Ed25519. Well-formed keys outside the policy are
/// <see cref="CaErrorCode.InsecurePublicKey"/>; unparsable input is <see cref="CaErrorCode.InvalidPublicKey"/>.
/// The key is imported once, by the policy check, and that object verifies the proof of possession or the CSR
/// signature (an import costs about as much as a verification); dispose the key when the request is done.
/// </summary>
internal sealed class SubmittedKey : IDisposable
{
    /// <summary>Input larger than this is refused before parsing; an RSA-4096 PEM key is about 800 bytes.</summary>
    public const int MaxEncodedKeyLength = 16 * 1024;

    /// <summary>A CSR larger than this is refused before parsing.</summary>
    public const int MaxCsrLength = 32 * 1024;


    // Exactly one is set, matching KeyType.
    private readonly ECDsa? _ecdsa;
    private readonly RSA? _rsa;
    private readonly Ed25519PublicKeyParameters? _ed25519;

    private SubmittedKey(byte[] spkiDer, SubmittedKeyType type, ECDsa? ecdsa = null, RSA? rsa = null, Ed25519PublicKeyParameters? ed25519 = null)
    {
        SpkiDer = spkiDer;
        KeyType = type;
        Fingerprint = Convert.ToHexStringLower(SHA256.HashData(spkiDer));
        _ecdsa = ecdsa;
        _rsa = rsa;
        _ed25519 = ed25519;
    }

    /// <summary>The DER SubjectPublicKeyInfo, exactly as submitted (it is DER: the parser accepts nothing else).</summary>
    public byte[] SpkiDer { get; }

    public SubmittedKeyType KeyType { get; }

    /// <summary>Lowercase hex SHA-256 of <see cref="SpkiDer"/>, for audit logs.</summary>
    public string Fingerprint { get; }

    /// <summary>Parses a PEM <c>PUBLIC KEY</c> or the base64 of a DER SubjectPublicKeyInfo.</summary>
    public static SubmittedKey FromPublicKey(string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (content.Length > MaxEncodedKeyLength)
        {
            throw new CaException(CaErrorCode.RequestTooLarge, "The public key is too large.");
        }

        byte[] der;
        if (content.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            der = DecodeSinglePem(content, ["PUBLIC KEY"])
                  ?? throw InvalidKey();
        }
        else
        {
            der = new byte[content.Length];
            if (!Convert.TryFromBase64String(content.Trim(), der, out var written))
            {
                throw InvalidKey();
            }

            der = der[..written];
        }

        return FromSpki(der);
    }

    /// <summary>Parses and checks a DER SubjectPublicKeyInfo.</summary>
    public static SubmittedKey FromSpki(ReadOnlySpan<byte> spkiDer)
    {
        string algorithm;
        ReadOnlyMemory<byte>? parameters;
        byte[] publicKey;
        try
        {
            var reader = new AsnReader(spkiDer.ToArray(), AsnEncodingRules.DER);
            var spki = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            var algorithmIdentifier = spki.ReadSequence();
            algorithm = algorithmIdentifier.ReadObjectIdentifier();
            // Not a conditional expression: null would convert to an empty ReadOnlyMemory through byte[].
            parameters = null;
            if (algorithmIdentifier.HasData)
            {
                parameters = algorithmIdentifier.ReadEncodedValue();
            }

            algorithmIdentifier.ThrowIfNotEmpty();
            publicKey = spki.ReadBitString(out var unusedBits);
            spki.ThrowIfNotEmpty();
            if (unusedBits != 0)
            {
                throw InvalidKey();
            }
        }
        catch (AsnContentException)
        {
            throw InvalidKey();
        }

        var der = spkiDer.ToArray();
        switch (algorithm)
        {
            case Oids.EcPublicKey:
                {
                    var (type, ecdsa) = CheckEc(der, parameters);
                    return new SubmittedKey(der, type, ecdsa: ecdsa);
                }

            case Oids.Rsa:
                return new SubmittedKey(der, SubmittedKeyType.Rsa, rsa: CheckRsa(der));
            case Oids.Ed25519 when parameters is null && publicKey.Length == 32:
                return new SubmittedKey(der, SubmittedKeyType.Ed25519, ed25519: Ed25519Point(publicKey));
            case Oids.Ed25519:
                throw InvalidKey();
            default:
                throw new CaException(CaErrorCode.InsecurePublicKey, "The public key algorithm is not allowed.");
        }
    }

    /// <summary>BouncyCastle decodes the point eagerly and refuses one off the curve (or not canonical) with ArgumentException.</summary>
    private static Ed25519PublicKeyParameters Ed25519Point(byte[] publicKey)
    {
        try
        {
            return new Ed25519PublicKeyParameters(publicKey, 0);
        }
        catch (ArgumentException)
        {
            throw InvalidKey();
        }
    }

    /// <summary>
    /// Extracts the key of a PKCS#10 CSR (PEM <c>CERTIFICATE REQUEST</c> / <c>NEW CERTIFICATE REQUEST</c>, or DER)
    /// after verifying its self-signature. Only the key is used: the subject and attributes are ignored.
    /// </summary>
    public static SubmittedKey FromCsr(byte[] csrPemOrDer)
    {
        ArgumentNullException.ThrowIfNull(csrPemOrDer);
        if (csrPemOrDer.Length > MaxCsrLength)
        {
            throw new CaException(CaErrorCode.RequestTooLarge, "The certificate signing request is too large.");
        }

        var der = csrPemOrDer;
        if (csrPemOrDer.AsSpan().IndexOf("-----BEGIN"u8) >= 0)
        {
            string text;
            try
            {
                text = new UTF8Encoding(false, true).GetString(csrPemOrDer);
            }
            catch (DecoderFallbackException)
            {
                throw InvalidCsr();
            }

            der = DecodeSinglePem(text, ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"]) ?? throw InvalidCsr();
        }

        byte[] info;
        string signatureAlgorithm;
        byte[] signature;
        byte[] spki;
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            var request = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            info = request.ReadEncodedValue().ToArray();
            var algorithmIdentifier = request.ReadSequence();
            signatureAlgorithm = algorithmIdentifier.ReadObjectIdentifier();
            if (algorithmIdentifier.HasData)
            {
                // RSA algorithm identifiers carry NULL parameters; nothing else may follow.
                algorithmIdentifier.ReadNull();
            }

            algorithmIdentifier.ThrowIfNotEmpty();
            signature = request.ReadBitString(out var unusedBits);
            request.ThrowIfNotEmpty();
            if (unusedBits != 0)
            {
                throw InvalidCsr();
            }

            var infoReader = new AsnReader(info, AsnEncodingRules.DER).ReadSequence();
            if (!infoReader.TryReadInt32(out var version) || version != 0)
            {
                throw InvalidCsr();
            }

            infoReader.ReadEncodedValue(); // subject: ignored
            spki = infoReader.ReadEncodedValue().ToArray();
        }
        catch (AsnContentException)
        {
            throw InvalidCsr();
        }

        SubmittedKey key;
        try
        {
            key = FromSpki(spki);
        }
        catch (CaException e) when (e.Code == CaErrorCode.InvalidPublicKey)
        {
            throw InvalidCsr();
        }

        if (!key.VerifyCsrSignature(signatureAlgorithm, info, signature))
        {
            key.Dispose();
            throw InvalidCsr();
        }

        return key;
    }

    /// <summary>
    /// Verifies a proof of possession with the key's default scheme: P-256/384/521 → ECDSA with SHA-256/384/512
    /// (DER signature only), RSA → PKCS#1 v1.5 SHA-256, Ed25519 → pure Ed25519.
    /// </summary>
    public bool VerifyProofOfPossession(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        var hash = KeyType switch
        {
            SubmittedKeyType.EcP384 => HashAlgorithmName.SHA384,
            SubmittedKeyType.EcP521 => HashAlgorithmName.SHA512,
            _ => HashAlgorithmName.SHA256,
        };
        return Verify(hash, message, signature);
    }

    private bool VerifyCsrSignature(string signatureAlgorithm, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        var isEc = KeyType is SubmittedKeyType.EcP256 or SubmittedKeyType.EcP384 or SubmittedKeyType.EcP521;
        // SHA-1, MD5, PSS, or an algorithm that does not match the key: no hash, no verification.
        HashAlgorithmName? hash = !SignatureAlgorithms.TryDescribe(signatureAlgorithm, out var digest, out var ecdsaAlgorithm) ? null
            : signatureAlgorithm == SignatureAlgorithms.Ed25519 ? (KeyType == SubmittedKeyType.Ed25519 ? HashAlgorithmName.SHA512 : null) // unused by pure Ed25519
            : ecdsaAlgorithm ? (isEc ? digest : null)
            : KeyType == SubmittedKeyType.Rsa ? digest : null;
        return hash is not null && Verify(hash.Value, data, signature);
    }

    private bool Verify(HashAlgorithmName hash, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        try
        {
            switch (KeyType)
            {
                case SubmittedKeyType.Ed25519 when _ed25519 is not null:
                    {
                        var verifier = new Ed25519Signer();
                        verifier.Init(false, _ed25519);
                        var bytes = data.ToArray();
                        verifier.BlockUpdate(bytes, 0, bytes.Length);
                        return verifier.VerifySignature(signature.ToArray());
                    }

                case SubmittedKeyType.Rsa when _rsa is not null:
                    return _rsa.VerifyData(data, signature, hash, RSASignaturePadding.Pkcs1);
                case SubmittedKeyType.EcP256 or SubmittedKeyType.EcP384 or SubmittedKeyType.EcP521 when _ecdsa is not null:
                    return _ecdsa.VerifyData(data, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
                default:
                    throw new ObjectDisposedException(nameof(SubmittedKey));
            }
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _ecdsa?.Dispose();
        _rsa?.Dispose();
    }

    private static (SubmittedKeyType Type, ECDsa Key) CheckEc(byte[] spkiDer, ReadOnlyMemory<byte>? parameters)
    {
        if (parameters is null)
        {
            throw InvalidKey();
        }

        var parameterReader = new AsnReader(parameters.Value, AsnEncodingRules.DER);
        if (!parameterReader.PeekTag().HasSameClassAndValue(Asn1Tag.ObjectIdentifier))
        {
            // Explicit curve parameters (or implicitlyCA): RFC 5480 forbids them, and they could describe any curve.
            throw new CaException(CaErrorCode.InsecurePublicKey, "Only named elliptic curves are allowed.");
        }

        string curve;
        try
        {
            curve = parameterReader.ReadObjectIdentifier();
        }
        catch (AsnContentException)
        {
            throw InvalidKey();
        }

        var type = curve switch
        {
            Oids.P256 => SubmittedKeyType.EcP256,
            Oids.P384 => SubmittedKeyType.EcP384,
            Oids.P521 => SubmittedKeyType.EcP521,
            _ => throw new CaException(CaErrorCode.InsecurePublicKey, "The elliptic curve is not allowed."),
        };

        var ecdsa = ECDsa.Create();
        try
        {
            // Importing checks that the point is on the curve.
            ecdsa.ImportSubjectPublicKeyInfo(spkiDer, out _);
        }
        catch (CryptographicException)
        {
            ecdsa.Dispose();
            throw InvalidKey();
        }

        return (type, ecdsa);
    }

    /// <summary>Imports an RSA key and checks it against the policy; the caller owns the returned key.</summary>
    private static RSA CheckRsa(byte[] spkiDer)
    {
        var rsa = RSA.Create();
        try
        {
            CheckRsaPolicy(rsa, spkiDer);
            return rsa;
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    private static void CheckRsaPolicy(RSA rsa, byte[] spkiDer)
    {
        RSAParameters parameters;
        try
        {
            rsa.ImportSubjectPublicKeyInfo(spkiDer, out _);
            parameters = rsa.ExportParameters(false);
        }
        catch (CryptographicException)
        {
            throw InvalidKey();
        }

        var modulus = new BigInteger(parameters.Modulus, isUnsigned: true, isBigEndian: true);
        var exponent = new BigInteger(parameters.Exponent, isUnsigned: true, isBigEndian: true);
        var bits = modulus.GetBitLength();
        if (bits is not (2048 or 3072 or 4096))
        {
            throw new CaException(CaErrorCode.InsecurePublicKey, "RSA keys must be 2048, 3072 or 4096 bits.");
        }

        if (exponent.IsEven || exponent < 65537 || exponent > int.MaxValue)
        {
            throw new CaException(CaErrorCode.InsecurePublicKey, "The RSA public exponent is not allowed.");
        }
    }

    /// <summary>The DER of the only PEM block in <paramref name="text"/>, if its label is allowed and nothing but
    /// whitespace surrounds it.</summary>
    private static byte[]? DecodeSinglePem(string text, string[] labels)
    {
        if (!PemEncoding.TryFind(text, out var fields))
        {
            return null;
        }

        var label = text[fields.Label];
        if (!labels.Contains(label, StringComparer.Ordinal)
            || !string.IsNullOrWhiteSpace(text[..fields.Location.Start.Value])
            || !string.IsNullOrWhiteSpace(text[fields.Location.End.Value..]))
        {
            return null;
        }

        return Convert.FromBase64String(text[fields.Base64Data]);
    }

    private static CaException InvalidKey() =>
        new(CaErrorCode.InvalidPublicKey, "The public key could not be parsed.");

    private static CaException InvalidCsr() =>
        new(CaErrorCode.InvalidCsr, "The certificate signing request could not be parsed or its signature is invalid.");
}
