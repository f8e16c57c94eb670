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
internal sealed class EntryVerifier
{
    private const int MaxDerBytes = 16 * 1024;

    private EntryVerifier(bool isCertificate, byte[] rawBytes, byte[] spki, KeyDetails details)
    {
        IsCertificate = isCertificate;
        RawBytes = rawBytes;
        Spki = spki;
        Details = details;
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
    public IReadOnlyList<string> Identities => IsCertificate ? CertificateIdentities(RawBytes) : [];

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
        var spki = hasKey ? raw : CertificateSpki(raw, $"{field}.rawBytes");
        CheckKeyMatches(spki, details, path);
        return new EntryVerifier(!hasKey, raw, spki, details);
    }

    /// <summary>
    /// hashedrekord: the signature is over the digest itself (ECDSA, RSA PKCS#1 v1.5, Ed25519ph). keyDetails fixes
    /// the hash, and RSA-PSS is not accepted: keyDetails names PKCS#1 v1.5.
    /// </summary>
    public bool VerifyDigest(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature) =>
        SignatureVerification.VerifyDigest(Details.AlgorithmOid, Spki, Details.Hash, digest, signature, acceptRsaPss: false);

    /// <summary>
    /// DSSE: the signature is over the PAE. ECDSA and RSA hash it with the keyDetails hash; an Ed25519 key verifies
    /// pure Ed25519, as sigstore's verifier loader does for a DSSE envelope (rekor-tiles before it dropped DSSE).
    /// </summary>
    public bool VerifyMessage(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
        SignatureVerification.VerifyData(Details.AlgorithmOid, Spki, Details.Hash, message, signature, acceptRsaPss: false);

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

    private static IReadOnlyList<string> CertificateIdentities(byte[] der)
    {
        try
        {
            using var certificate = X509CertificateLoader.LoadCertificate(der);
            return ArtifactKey.ReadIdentities(certificate);
        }
        catch (Exception e) when (e is CryptographicException or EntryRejectedException)
        {
            return [];
        }
    }

    private static byte[] CertificateSpki(byte[] der, string field)
    {
        try
        {
            using var certificate = X509CertificateLoader.LoadCertificate(der);
            return certificate.PublicKey.ExportSubjectPublicKeyInfo();
        }
        catch (CryptographicException)
        {
            throw new EntryRejectedException($"{field} is not a valid X.509 certificate");
        }
    }

    private static void CheckKeyMatches(byte[] spki, KeyDetails details, string path)
    {
        var mismatch = $"{path}.keyDetails {details.Name} does not match the key";
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
                    using (var ecdsa = ECDsa.Create())
                    {
                        ecdsa.ImportSubjectPublicKeyInfo(spki, out var read);
                        if (read != spki.Length || ecdsa.ExportParameters(false).Curve.Oid.Value != details.CurveOid)
                        {
                            throw new EntryRejectedException(mismatch);
                        }
                    }

                    break;
                case Oids.Rsa:
                    using (var rsa = RSA.Create())
                    {
                        rsa.ImportSubjectPublicKeyInfo(spki, out var read);
                        if (read != spki.Length || rsa.KeySize != details.RsaBits)
                        {
                            throw new EntryRejectedException(mismatch);
                        }
                    }

                    break;
                case Oids.Ed25519:
                    Asn1Keys.ReadEd25519PublicKey(spki);
                    break;
            }
        }
        // PlatformNotSupportedException: an EC key on a named curve the platform does not know (found by fuzzing).
        catch (Exception e) when (e is AsnContentException or CryptographicException or PlatformNotSupportedException)
        {
            throw new EntryRejectedException($"{path} holds an invalid public key");
        }
    }
}
