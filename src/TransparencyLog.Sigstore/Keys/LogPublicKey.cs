using System.Formats.Asn1;
using System.Security.Cryptography;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>A log's public key (ECDSA P-256 or Ed25519), for verifying SETs, checkpoints and SCTs.</summary>
public sealed class LogPublicKey
{
    private readonly byte[]? _ed25519;
    private readonly ECParameters? _ecParameters;

    private LogPublicKey(byte[] spki, LogKeyType keyType, byte[]? ed25519, ECParameters? ecParameters)
    {
        Spki = spki;
        KeyType = keyType;
        _ed25519 = ed25519;
        _ecParameters = ecParameters;
        LogId = SHA256.HashData(spki);
        LogIdHex = Convert.ToHexStringLower(LogId);
    }

    public LogKeyType KeyType { get; }

    /// <summary>DER SubjectPublicKeyInfo.</summary>
    public byte[] Spki { get; }

    /// <summary>SHA-256 of the SPKI DER (Rekor v1 logID).</summary>
    public byte[] LogId { get; }

    public string LogIdHex { get; }

    /// <summary>The raw 32-byte Ed25519 key, or null for ECDSA.</summary>
    internal byte[]? Ed25519Key => _ed25519;

    public string ToPem() => Pem.Encode("PUBLIC KEY", Spki);

    /// <exception cref="KeyLoadException">Not an ECDSA P-256 or Ed25519 SubjectPublicKeyInfo.</exception>
    public static LogPublicKey FromSpki(byte[] spki)
    {
        ArgumentNullException.ThrowIfNull(spki);
        string oid;
        try
        {
            oid = Asn1Keys.ReadAlgorithmOid(spki, privateKeyInfo: false);
        }
        catch (AsnContentException ex)
        {
            throw new KeyLoadException("the public key is not a valid SubjectPublicKeyInfo", ex);
        }

        switch (oid)
        {
            case Oids.EcPublicKey:
                using (var ecdsa = ECDsa.Create())
                {
                    try
                    {
                        ecdsa.ImportSubjectPublicKeyInfo(spki, out var read);
                        if (read != spki.Length)
                        {
                            throw new KeyLoadException("trailing data after the public key");
                        }
                    }
                    // PlatformNotSupportedException: a named curve the platform does not know (found by fuzzing).
                    catch (Exception ex) when (ex is CryptographicException or PlatformNotSupportedException)
                    {
                        throw new KeyLoadException("the EC public key is invalid", ex);
                    }

                    var parameters = ecdsa.ExportParameters(includePrivateParameters: false);
                    if (parameters.Curve.Oid.Value != Oids.P256)
                    {
                        throw new KeyLoadException("only the P-256 curve is supported for ECDSA log keys");
                    }

                    return new LogPublicKey((byte[])spki.Clone(), LogKeyType.EcdsaP256, null, parameters);
                }

            case Oids.Ed25519:
                try
                {
                    return new LogPublicKey((byte[])spki.Clone(), LogKeyType.Ed25519, Asn1Keys.ReadEd25519PublicKey(spki), null);
                }
                catch (AsnContentException ex)
                {
                    throw new KeyLoadException("the Ed25519 public key is invalid", ex);
                }

            default:
                throw new KeyLoadException($"unsupported public key algorithm {oid} (expected ECDSA P-256 or Ed25519)");
        }
    }

    /// <summary>From a raw 32-byte Ed25519 key (as found in C2SP verifier keys).</summary>
    public static LogPublicKey FromEd25519(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != Asn1Keys.Ed25519KeySize)
        {
            throw new KeyLoadException("an Ed25519 public key is 32 bytes");
        }

        return new LogPublicKey(Asn1Keys.Ed25519Spki(publicKey), LogKeyType.Ed25519, publicKey.ToArray(), null);
    }

    /// <exception cref="KeyLoadException">No PUBLIC KEY block, or an unsupported key.</exception>
    public static LogPublicKey FromPem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        List<(string Label, byte[] Der)> blocks;
        try
        {
            blocks = Pem.DecodeAll(pem, maxBlocks: 8);
        }
        catch (FormatException ex)
        {
            throw new KeyLoadException("the public key is not valid PEM", ex);
        }

        var keys = blocks.Where(static b => b.Label == "PUBLIC KEY").ToList();
        return keys.Count switch
        {
            0 => throw new KeyLoadException("no PUBLIC KEY block found in the PEM"),
            1 => FromSpki(keys[0].Der),
            _ => throw new KeyLoadException("the PEM holds more than one public key"),
        };
    }

    /// <summary>ECDSA: SHA-256, DER signature. Ed25519: pure RFC 8032.</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (_ecParameters is { } parameters)
        {
            using var ecdsa = ECDsa.Create(parameters);
            return ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        }

        return _ed25519 is not null && Ed25519Verification.VerifyPure(_ed25519, data, signature);
    }
}
