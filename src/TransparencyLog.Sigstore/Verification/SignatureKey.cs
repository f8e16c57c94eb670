using System.Formats.Asn1;
using System.Security.Cryptography;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Verification;

/// <summary>
/// Verifies artifact, DSSE and SCT signatures with a SubjectPublicKeyInfo: ECDSA (DER, hash by curve unless given),
/// RSA PKCS#1 v1.5 (or PSS) and pure Ed25519.
/// </summary>
internal static class SignatureKey
{
    public static bool Verify(byte[] spki, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, HashAlgorithmName? hash = null)
    {
        string oid;
        try
        {
            oid = Asn1Keys.ReadAlgorithmOid(spki, privateKeyInfo: false);
        }
        catch (AsnContentException)
        {
            return false;
        }

        try
        {
            switch (oid)
            {
                case Oids.EcPublicKey:
                    using (var ecdsa = ECDsa.Create())
                    {
                        ecdsa.ImportSubjectPublicKeyInfo(spki, out _);
                        var name = hash ?? ecdsa.KeySize switch
                        {
                            384 => HashAlgorithmName.SHA384,
                            521 => HashAlgorithmName.SHA512,
                            _ => HashAlgorithmName.SHA256,
                        };
                        return ecdsa.VerifyData(data, signature, name, DSASignatureFormat.Rfc3279DerSequence);
                    }

                case Oids.Rsa:
                    using (var rsa = RSA.Create())
                    {
                        rsa.ImportSubjectPublicKeyInfo(spki, out _);
                        var name = hash ?? HashAlgorithmName.SHA256;
                        return rsa.VerifyData(data, signature, name, RSASignaturePadding.Pkcs1)
                            || rsa.VerifyData(data, signature, name, RSASignaturePadding.Pss);
                    }

                case Oids.Ed25519:
                    return Ed25519Verification.VerifyPure(Asn1Keys.ReadEd25519PublicKey(spki), data, signature);
                default:
                    return false;
            }
        }
        catch (Exception ex) when (ex is CryptographicException or AsnContentException)
        {
            return false;
        }
    }
}
