using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Rekor.V2;

/// <summary>
/// A Rekor v2 <c>Verifier</c>: a DER public key or DER certificate plus the <c>keyDetails</c> naming the signature
/// algorithm. The key must be exactly what keyDetails says (curve, RSA size), and the DER is kept byte for byte,
/// because the stored body repeats it.
/// </summary>
/// <remarks>
/// Each verifier costs at most one certificate load and one key decode: an ECDSA or RSA key is decoded when it is
/// checked and that key object verifies every signature of the request (it is disposed with the verifier); a
/// certificate's identities are read from the certificate loaded for its key.
/// </remarks>
internal sealed class EntryVerifier : IDisposable
{
    private const int MaxDerBytes = 16 * 1024;

    // The checked ECDSA or RSA key; null for Ed25519, which verifies from the SPKI's 32 key bytes.
    private readonly AsymmetricAlgorithm? _key;

    private EntryVerifier(bool isCertificate, byte[] rawBytes, byte[] spki, KeyDetails details, AsymmetricAlgorithm? key, IReadOnlyList<string> identities)
    {
        IsCertificate = isCertificate;
        RawBytes = rawBytes;
        Spki = spki;
        Details = details;
        _key = key;
        Identities = identities;
    }

    public bool IsCertificate { get; }

    /// <summary>The DER as sent: a SubjectPublicKeyInfo, or a certificate.</summary>
    public byte[] RawBytes { get; }

    public byte[] Spki { get; }

    public KeyDetails Details { get; }

    public string Fingerprint => Convert.ToHexStringLower(SHA256.HashData(Spki));

    /// <summary>
    /// The certificate's rfc822Name and URI SANs, lowercased, for the search index (as Rekor v1 entries are keyed);
    /// none for a bare key, or when the SAN extension cannot be read (identity is not what admits a v2 entry).
    /// </summary>
    public IReadOnlyList<string> Identities { get; }

    /// <exception cref="EntryRejectedException">Malformed, unsupported, or keyDetails does not describe the key.</exception>
    public static EntryVerifier Parse(JsonElement element, string path)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new EntryRejectedException($"{path} must be an object");
        }

        var hasKey = ProtoJson.TryGet(element, "publicKey", "public_key", $"{path}.publicKey", out var publicKey);
        var hasCertificate = ProtoJson.TryGet(element, "x509Certificate", "x509_certificate", $"{path}.x509Certificate", out var certificate);
        if (hasKey == hasCertificate)
        {
            throw new EntryRejectedException($"{path} must hold exactly one of publicKey or x509Certificate");
        }

        var details = ReadKeyDetails(element, path);
        var holder = hasKey ? publicKey : certificate;
        var field = hasKey ? $"{path}.publicKey" : $"{path}.x509Certificate";
        if (holder.ValueKind != JsonValueKind.Object)
        {
            throw new EntryRejectedException($"{field} must be an object");
        }

        var raw = ProtoJson.Bytes(holder, "rawBytes", "raw_bytes", $"{field}.rawBytes", MaxDerBytes);
        RequireSingleDerValue(raw, $"{field}.rawBytes");
        if (hasKey)
        {
            return new EntryVerifier(false, raw, raw, details, CheckKey(raw, certificate: null, details, path), []);
        }

        using var leaf = LoadCertificate(raw, $"{field}.rawBytes");
        var spki = leaf.PublicKey.ExportSubjectPublicKeyInfo();
        var key = CheckKey(spki, leaf, details, path);
        return new EntryVerifier(true, raw, spki, details, key, CertificateIdentities(leaf));
    }

    /// <summary>
    /// hashedrekord: the signature is over the digest itself (ECDSA, RSA PKCS#1 v1.5, Ed25519ph). keyDetails fixes
    /// the hash, and RSA-PSS is not accepted: keyDetails names PKCS#1 v1.5.
    /// </summary>
    public bool VerifyDigest(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature) => _key is null
        ? SignatureVerification.VerifyDigest(Details.AlgorithmOid, Spki, Details.Hash, digest, signature, acceptRsaPss: false)
        : SignatureVerification.VerifyDigest(_key, Details.Hash, digest, signature, acceptRsaPss: false);

    /// <summary>
    /// DSSE: the signature is over the PAE. ECDSA and RSA hash it with the keyDetails hash; an Ed25519 key verifies
    /// pure Ed25519, as sigstore's verifier loader does for a DSSE envelope (rekor-tiles before it dropped DSSE).
    /// </summary>
    public bool VerifyMessage(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) => _key is null
        ? SignatureVerification.VerifyData(Details.AlgorithmOid, Spki, Details.Hash, message, signature, acceptRsaPss: false)
        : SignatureVerification.VerifyData(_key, Details.Hash, message, signature, acceptRsaPss: false);

    public void Dispose() => _key?.Dispose();

    /// <summary>The verifier as the stored body holds it (protobuf-JSON names; JCS orders the keys).</summary>
    public JsonObject ToJson() => new()
    {
        [IsCertificate ? "x509Certificate" : "publicKey"] = new JsonObject { ["rawBytes"] = Convert.ToBase64String(RawBytes) },
        ["keyDetails"] = Details.Name,
    };

    private static KeyDetails ReadKeyDetails(JsonElement element, string path)
    {
        var field = $"{path}.keyDetails";
        if (!ProtoJson.TryGet(element, "keyDetails", "key_details", field, out var value))
        {
            throw new EntryRejectedException($"missing {field}");
        }

        KeyDetails? details;
        string shown;
        if (value.ValueKind == JsonValueKind.String)
        {
            shown = value.GetString() ?? string.Empty;
            details = KeyDetails.Find(shown);
        }
        else if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number))
        {
            shown = number.ToString(System.Globalization.CultureInfo.InvariantCulture);
            details = KeyDetails.Find(number);
        }
        else
        {
            throw new EntryRejectedException($"{field} must be a PublicKeyDetails name");
        }

        if (details is not null)
        {
            return details;
        }

        if (shown is KeyDetails.PureEd25519 or "7")
        {
            throw new EntryRejectedException(
                $"{field} {KeyDetails.PureEd25519} (pure Ed25519) is not accepted: it cannot sign a digest; use PKIX_ED25519_PH");
        }

        throw new EntryRejectedException($"unsupported {field} '{RekorJson.Echo(shown)}' (allowed: {KeyDetails.AllowedNames})");
    }

    /// <summary>One DER TLV and nothing after it: the stored bytes then have exactly one meaning.</summary>
    private static void RequireSingleDerValue(byte[] der, string field)
    {
        try
        {
            var reader = new AsnReader(der, AsnEncodingRules.DER);
            reader.ReadSequence();
            if (reader.HasData)
            {
                throw new EntryRejectedException($"{field} has trailing data after the DER value");
            }
        }
        catch (AsnContentException)
        {
            throw new EntryRejectedException($"{field} is not DER");
        }
    }

    private static IReadOnlyList<string> CertificateIdentities(X509Certificate2 certificate)
    {
        try
        {
            return ArtifactKey.ReadIdentities(certificate);
        }
        catch (Exception e) when (e is CryptographicException or EntryRejectedException)
        {
            return [];
        }
    }

    private static X509Certificate2 LoadCertificate(byte[] der, string field)
    {
        try
        {
            return X509CertificateLoader.LoadCertificate(der);
        }
        catch (CryptographicException)
        {
            throw new EntryRejectedException($"{field} is not a valid X.509 certificate");
        }
    }

    /// <summary>
    /// Checks that <paramref name="spki"/> is the key <paramref name="details"/> names and returns it decoded, once:
    /// an ECDSA key in Go's x509's one form (<see cref="Asn1Keys.ReadUncompressedNistCurveOid"/>), its curve read from
    /// the SPKI, taken as OpenSSL decoded it with <paramref name="certificate"/> or imported once when bare; an RSA key
    /// of exactly the named size; null for Ed25519.
    /// </summary>
    private static AsymmetricAlgorithm? CheckKey(byte[] spki, X509Certificate2? certificate, KeyDetails details, string path)
    {
        var mismatch = $"{path}.keyDetails {details.Name} does not match the key";
        AsymmetricAlgorithm? key = null;
        try
        {
            var oid = Asn1Keys.ReadAlgorithmOid(spki, privateKeyInfo: false);
            if (oid != details.AlgorithmOid)
            {
                throw new EntryRejectedException(mismatch);
            }

            switch (oid)
            {
                case Oids.EcPublicKey:
                    // The curve from the SPKI itself: reading it back from the key with ExportParameters cost more
                    // than a third of an import again (and an explicit curve has no name to read back).
                    if (Asn1Keys.ReadUncompressedNistCurveOid(spki) is not { } curve)
                    {
                        // Worded as before Go's one form was required: a key the BCL imports on another named curve
                        // does not match keyDetails; anything else is an invalid key.
                        throw EcPublicKeys.Imports(spki, out var named) && named is not null && named != details.CurveOid
                            ? new EntryRejectedException(mismatch)
                            : new EntryRejectedException($"{path} holds an invalid public key");
                    }

                    if (curve != details.CurveOid)
                    {
                        throw new EntryRejectedException(mismatch);
                    }

                    return EcPublicKeys.Decode(spki, certificate);
                case Oids.Rsa:
                    var rsa = RSA.Create();
                    key = rsa;
                    rsa.ImportSubjectPublicKeyInfo(spki, out var read);
                    if (read != spki.Length || rsa.KeySize != details.RsaBits)
                    {
                        throw new EntryRejectedException(mismatch);
                    }

                    return rsa;
                case Oids.Ed25519:
                    Asn1Keys.ReadEd25519PublicKey(spki);
                    return null;
                default:
                    // keyDetails allows no other algorithm, and the SPKI's is keyDetails'.
                    throw new EntryRejectedException(mismatch);
            }
        }
        // PlatformNotSupportedException: an EC key on a named curve the platform does not know (found by fuzzing).
        catch (Exception e) when (e is AsnContentException or CryptographicException or PlatformNotSupportedException)
        {
            key?.Dispose();
            throw new EntryRejectedException($"{path} holds an invalid public key");
        }
        catch
        {
            key?.Dispose();
            throw;
        }
    }
}
