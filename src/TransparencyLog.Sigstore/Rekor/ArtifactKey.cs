using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Rekor;

/// <summary>
/// The key a client signed with, from a Rekor <c>publicKey.content</c> / DSSE verifier: base64 of a PEM holding
/// either a certificate (chain; the first is the leaf) or a SubjectPublicKeyInfo.
/// </summary>
/// <remarks>
/// An ECDSA or RSA key is imported when validated (a certificate's ECDSA key is taken as OpenSSL decoded it with the
/// certificate); from its second sighting on it is held by
/// <see cref="VerificationKeys"/> for every later submission with the same key (an import costs more CPU than the
/// verification it serves). A key seen once is used for this submission's verification and disposed.
/// </remarks>
internal sealed class ArtifactKey
{
    private const int MaxCertificates = 10;
    private const int MinRsaBits = 2048;
    private const int MaxRsaBits = 8192;

    // The validated key, held and shared or imported for this submission alone; null for Ed25519 (verified from the
    // SPKI bytes).
    private readonly SharedKey? _imported;

    private ArtifactKey(byte[] spki, (string Oid, SharedKey? Imported) key, string canonicalPem, IReadOnlyList<string> identities)
    {
        var (algorithmOid, imported) = key;
        _imported = imported;
        Spki = spki;
        AlgorithmOid = algorithmOid;
        CanonicalPem = canonicalPem;
        Identities = identities;
    }

    public byte[] Spki { get; }

    public string AlgorithmOid { get; }

    public bool IsEd25519 => AlgorithmOid == Oids.Ed25519;

    /// <summary>The PEM re-encoded in one canonical layout, as Rekor stores it, so equivalent submissions dedupe.</summary>
    public string CanonicalPem { get; }

    public string CanonicalBase64 => Convert.ToBase64String(Encoding.UTF8.GetBytes(CanonicalPem));

    public string Fingerprint => Convert.ToHexStringLower(SHA256.HashData(Spki));

    public IReadOnlyList<string> Identities { get; }

    /// <summary>Parses the base64 PEM in <paramref name="field"/>; error messages name the field.</summary>
    public static ArtifactKey Parse(string base64Pem, string field)
    {
        var pemBytes = RekorJson.DecodeBase64(base64Pem, field);
        string pem;
        try
        {
            pem = new UTF8Encoding(false, true).GetString(pemBytes);
        }
        catch (DecoderFallbackException)
        {
            throw new EntryRejectedException($"{field} is not a PEM certificate or public key");
        }

        List<(string Label, byte[] Der)> blocks;
        try
        {
            // One block more than allowed is read, so a long chain is told apart from text that is not PEM.
            blocks = Pem.DecodeAll(pem, MaxCertificates + 1);
        }
        catch (FormatException)
        {
            throw new EntryRejectedException($"{field} is not a PEM certificate or public key");
        }

        if (blocks.Count > MaxCertificates)
        {
            // Rekor's limit too (sigstore cryptoutils, 10 certificates per chain).
            throw new EntryRejectedException($"{field} holds more than {MaxCertificates} PEM blocks: a certificate chain may hold at most {MaxCertificates} certificates");
        }

        if (blocks.Count == 0)
        {
            throw new EntryRejectedException($"{field} is not a PEM certificate or public key");
        }

        if (blocks[0].Label == "PUBLIC KEY" && blocks.Count == 1)
        {
            var spki = blocks[0].Der;
            return new ArtifactKey(spki, CheckPublicKey(spki, field), Pem.Encode("PUBLIC KEY", spki), []);
        }

        if (blocks.All(static b => b.Label == "CERTIFICATE"))
        {
            X509Certificate2 leaf;
            try
            {
                leaf = X509CertificateLoader.LoadCertificate(blocks[0].Der);
                foreach (var (_, der) in blocks.Skip(1))
                {
                    X509CertificateLoader.LoadCertificate(der).Dispose();
                }
            }
            catch (CryptographicException)
            {
                throw new EntryRejectedException($"{field} holds an invalid certificate");
            }

            using (leaf)
            {
                var spki = leaf.PublicKey.ExportSubjectPublicKeyInfo();
                var key = CheckPublicKey(spki, field, leaf);
                var canonical = string.Concat(blocks.Select(static b => Pem.Encode("CERTIFICATE", b.Der)));
                return new ArtifactKey(spki, key, canonical, ReadIdentities(leaf));
            }
        }

        throw new EntryRejectedException($"{field} must hold one PUBLIC KEY or CERTIFICATE PEM blocks");
    }

    /// <summary>
    /// hashedrekord: verify over a precomputed digest. ECDSA and RSA (PKCS#1 v1.5 or PSS) sign the digest; Ed25519
    /// is Ed25519ph over a SHA-512 digest, the only Ed25519 mode Rekor's hashedrekord accepts.
    /// </summary>
    public bool VerifyDigest(HashAlgorithmName hash, ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature)
    {
        if (_imported is not null && _imported.TryEnter(out var key))
        {
            try
            {
                return SignatureVerification.VerifyDigest(key, hash, digest, signature, acceptRsaPss: true);
            }
            finally
            {
                _imported.Exit();
            }
        }

        // Ed25519, or the shared key busy with another verification: from the SPKI (already validated) on its own.
        return SignatureVerification.VerifyDigest(AlgorithmOid, Spki, hash, digest, signature, acceptRsaPss: true);
    }

    /// <summary>
    /// DSSE: verify over the message (PAE). ECDSA uses the curve's matching hash (sigstore's default verifier),
    /// RSA SHA-256 (PKCS#1 v1.5 or PSS), Ed25519 pure.
    /// </summary>
    public bool VerifyMessage(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (_imported is not null && _imported.TryEnter(out var key))
        {
            try
            {
                return SignatureVerification.VerifyData(key, hash: null, message, signature, acceptRsaPss: true);
            }
            finally
            {
                _imported.Exit();
            }
        }

        return SignatureVerification.VerifyData(AlgorithmOid, Spki, hash: null, message, signature, acceptRsaPss: true);
    }

    /// <summary>
    /// The key's algorithm, and the ECDSA or RSA key imported to validate it, shared through
    /// <see cref="VerificationKeys"/>: a key already held was imported and checked from these very bytes, so it is not
    /// imported or checked again. <paramref name="certificate"/> is the leaf <paramref name="spki"/> came from, if any.
    /// </summary>
    private static (string Oid, SharedKey? Imported) CheckPublicKey(byte[] spki, string field, X509Certificate2? certificate = null)
    {
        string oid;
        AsymmetricAlgorithm? imported = null;
        try
        {
            oid = Asn1Keys.ReadAlgorithmOid(spki, privateKeyInfo: false);
            if (oid is Oids.EcPublicKey or Oids.Rsa && VerificationKeys.Find(spki) is { } held)
            {
                return (oid, held);
            }

            switch (oid)
            {
                case Oids.EcPublicKey:
                    // The curve and the point's form from the SPKI itself (reading them back from the key with
                    // ExportParameters cost more than a third of an import again); the decoder checks the point.
                    if (Asn1Keys.ReadUncompressedNistCurveOid(spki) is null)
                    {
                        throw EcPublicKeys.Imports(spki, out var named) && named is not (Oids.P256 or Oids.P384 or Oids.P521)
                            ? new EntryRejectedException($"{field} uses an unsupported elliptic curve (expected P-256, P-384 or P-521)")
                            : new EntryRejectedException($"{field} holds an invalid public key");
                    }

                    imported = EcPublicKeys.Decode(spki, certificate);
                    break;
                case Oids.Rsa:
                    var rsa = RSA.Create();
                    imported = rsa;
                    rsa.ImportSubjectPublicKeyInfo(spki, out _);
                    if (rsa.KeySize is < MinRsaBits or > MaxRsaBits)
                    {
                        throw new EntryRejectedException($"{field} holds an RSA key outside {MinRsaBits}-{MaxRsaBits} bits");
                    }

                    break;
                case Oids.Ed25519:
                    Asn1Keys.ReadEd25519PublicKey(spki);
                    break;
                default:
                    throw new EntryRejectedException($"{field} uses an unsupported key algorithm (expected ECDSA, RSA or Ed25519)");
            }
        }
        // An EC key on a named curve OpenSSL does not know throws PlatformNotSupportedException from the import (found
        // by fuzzing): as much the client's malformed key as any other.
        catch (Exception ex) when (ex is AsnContentException or CryptographicException or PlatformNotSupportedException)
        {
            imported?.Dispose();
            throw new EntryRejectedException($"{field} holds an invalid public key");
        }
        catch
        {
            imported?.Dispose();
            throw;
        }

        if (imported is null)
        {
            return (oid, null);
        }

        // Held only from its second sighting: a keyless signer's key is never seen again, and holding it would only
        // evict a key that is.
        return (oid, VerificationKeys.ShouldHold(spki) ? VerificationKeys.Add(spki, imported) : SharedKey.ForOneUse(imported));
    }

    /// <summary>rfc822Name and URI SANs, lowercased: the identities sigstore verifiers match on.</summary>
    internal static List<string> ReadIdentities(X509Certificate2 certificate)
    {
        var identities = new List<string>();
        var extension = certificate.Extensions[Oids.SubjectAltName];
        if (extension is null)
        {
            return identities;
        }

        try
        {
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
            var names = reader.ReadSequence();
            var rfc822 = new Asn1Tag(TagClass.ContextSpecific, 1);
            var uri = new Asn1Tag(TagClass.ContextSpecific, 6);
            while (names.HasData)
            {
                var tag = names.PeekTag();
                if (tag.HasSameClassAndValue(rfc822))
                {
                    identities.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, rfc822).ToLowerInvariant());
                }
                else if (tag.HasSameClassAndValue(uri))
                {
                    identities.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, uri).ToLowerInvariant());
                }
                else
                {
                    names.ReadEncodedValue();
                }
            }
        }
        catch (AsnContentException)
        {
            throw new EntryRejectedException("the certificate's subject alternative name extension is malformed");
        }

        return identities.Distinct(StringComparer.Ordinal).ToList();
    }
}
