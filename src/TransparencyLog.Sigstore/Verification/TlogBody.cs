using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Verification;

/// <summary>
/// Checks that a logged body describes this bundle (<c>V:tlog/hashedrekord.js</c>, <c>V:tlog/dsse.js</c>): kind and
/// version, the signature, the digest or payload hash, and (beyond sigstore-js, like sigstore-go) the signing key.
/// </summary>
internal static class TlogBody
{
    public static void Verify(TransparencyLogEntry entry, Bundle bundle, byte[] spki, X509Certificate2? leaf)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(entry.CanonicalizedBody);
        }
        catch (JsonException ex)
        {
            throw new VerificationException(VerificationErrorCode.TlogBody, $"the body of log entry {entry.LogIndex} is not valid JSON", ex);
        }

        using (document)
        {
            var body = document.RootElement;
            var kind = Text(body, "kind");
            var apiVersion = Text(body, "apiVersion");
            if (kind != entry.KindVersion.Kind || apiVersion != entry.KindVersion.Version)
            {
                throw Fail($"log entry {entry.LogIndex} claims {entry.KindVersion.Kind} {entry.KindVersion.Version} but its body is {kind} {apiVersion}");
            }

            var spec = Element(body, "spec");
            switch ((kind, apiVersion))
            {
                case ("hashedrekord", "0.0.1"):
                    VerifyHashedRekord(entry, spec, bundle, spki, leaf);
                    break;
                case ("dsse", "0.0.1"):
                    VerifyDsse(entry, spec, bundle, spki, leaf);
                    break;
                case ("hashedrekord", "0.0.2"):
                    VerifyHashedRekordV002(entry, Element(spec, "hashedRekordV002"), bundle, spki, leaf);
                    break;
                case ("dsse", "0.0.2"):
                    VerifyDsseV002(entry, Element(spec, "dsseV002"), bundle, spki, leaf);
                    break;
                default:
                    throw Fail($"log entry {entry.LogIndex} is of unsupported kind {kind} {apiVersion}");
            }
        }
    }

    private static void VerifyHashedRekord(TransparencyLogEntry entry, JsonElement spec, Bundle bundle, byte[] spki, X509Certificate2? leaf)
    {
        var message = bundle.MessageSignature
            ?? throw Fail($"log entry {entry.LogIndex} is a hashedrekord but the bundle holds a DSSE envelope");
        var signature = Element(spec, "signature");
        if (Text(signature, "content") != Convert.ToBase64String(message.Signature))
        {
            throw Fail($"the signature in log entry {entry.LogIndex} is not the bundle's signature");
        }

        if (message.MessageDigest is { } digest)
        {
            var hash = Element(Element(spec, "data"), "hash");
            var algorithm = digest.Algorithm switch
            {
                "SHA2_256" => "sha256",
                "SHA2_384" => "sha384",
                "SHA2_512" => "sha512",
                _ => digest.Algorithm,
            };
            if (Text(hash, "algorithm") != algorithm || Text(hash, "value") != Convert.ToHexStringLower(digest.Digest))
            {
                throw Fail($"the digest in log entry {entry.LogIndex} is not the bundle's message digest");
            }
        }

        CheckKey(entry, Text(Element(signature, "publicKey"), "content"), spki, leaf);
    }

    private static void VerifyDsse(TransparencyLogEntry entry, JsonElement spec, Bundle bundle, byte[] spki, X509Certificate2? leaf)
    {
        var envelope = bundle.DsseEnvelope
            ?? throw Fail($"log entry {entry.LogIndex} is a dsse entry but the bundle holds a message signature");
        var signatures = Element(spec, "signatures");
        if (signatures.ValueKind != JsonValueKind.Array || signatures.GetArrayLength() != 1 || envelope.Signatures.Count != 1)
        {
            throw Fail($"log entry {entry.LogIndex} and the bundle must each hold exactly one DSSE signature");
        }

        var logged = signatures[0];
        if (Text(logged, "signature") != Convert.ToBase64String(envelope.Signatures[0].Sig))
        {
            throw Fail($"the signature in log entry {entry.LogIndex} is not the envelope's signature");
        }

        var payloadHash = Element(spec, "payloadHash");
        if (Text(payloadHash, "algorithm") != "sha256"
            || Text(payloadHash, "value") != Convert.ToHexStringLower(SHA256.HashData(envelope.Payload)))
        {
            throw Fail($"the payload hash in log entry {entry.LogIndex} is not the hash of the envelope's payload");
        }

        CheckKey(entry, Text(logged, "verifier"), spki, leaf);
    }

    /// <summary>Rekor v2 (<c>V:tlog/hashedrekord.js:77-94</c>): base64 digest and signature, a DER verifier.</summary>
    private static void VerifyHashedRekordV002(TransparencyLogEntry entry, JsonElement spec, Bundle bundle, byte[] spki, X509Certificate2? leaf)
    {
        var message = bundle.MessageSignature
            ?? throw Fail($"log entry {entry.LogIndex} is a hashedrekord but the bundle holds a DSSE envelope");
        var signature = Element(spec, "signature");
        if (Text(signature, "content") != Convert.ToBase64String(message.Signature))
        {
            throw Fail($"the signature in log entry {entry.LogIndex} is not the bundle's signature");
        }

        if (message.MessageDigest is { } digest)
        {
            var data = Element(spec, "data");
            if (Text(data, "algorithm") != digest.Algorithm || Text(data, "digest") != Convert.ToBase64String(digest.Digest))
            {
                throw Fail($"the digest in log entry {entry.LogIndex} is not the bundle's message digest");
            }
        }

        CheckVerifier(entry, Element(signature, "verifier"), spki, leaf);
    }

    /// <summary>Rekor v2 (<c>V:tlog/dsse.js:82-106</c>): the payload hash in base64 and one signature with its DER verifier.</summary>
    private static void VerifyDsseV002(TransparencyLogEntry entry, JsonElement spec, Bundle bundle, byte[] spki, X509Certificate2? leaf)
    {
        var envelope = bundle.DsseEnvelope
            ?? throw Fail($"log entry {entry.LogIndex} is a dsse entry but the bundle holds a message signature");
        var signatures = Element(spec, "signatures");
        if (signatures.ValueKind != JsonValueKind.Array || signatures.GetArrayLength() != 1 || envelope.Signatures.Count != 1)
        {
            throw Fail($"log entry {entry.LogIndex} and the bundle must each hold exactly one DSSE signature");
        }

        var logged = signatures[0];
        if (Text(logged, "content") != Convert.ToBase64String(envelope.Signatures[0].Sig))
        {
            throw Fail($"the signature in log entry {entry.LogIndex} is not the envelope's signature");
        }

        var payloadHash = Element(spec, "payloadHash");
        if (Text(payloadHash, "algorithm") != "SHA2_256"
            || Text(payloadHash, "digest") != Convert.ToBase64String(SHA256.HashData(envelope.Payload)))
        {
            throw Fail($"the payload hash in log entry {entry.LogIndex} is not the hash of the envelope's payload");
        }

        CheckVerifier(entry, Element(logged, "verifier"), spki, leaf);
    }

    /// <summary>A v0.0.2 verifier holds the DER certificate (<c>x509Certificate</c>) or SPKI (<c>publicKey</c>) directly.</summary>
    private static void CheckVerifier(TransparencyLogEntry entry, JsonElement verifier, byte[] spki, X509Certificate2? leaf)
    {
        byte[] der;
        bool isCertificate;
        try
        {
            isCertificate = verifier.ValueKind == JsonValueKind.Object && verifier.TryGetProperty("x509Certificate", out _);
            der = Convert.FromBase64String(Text(Element(verifier, isCertificate ? "x509Certificate" : "publicKey"), "rawBytes"));
        }
        catch (FormatException ex)
        {
            throw new VerificationException(VerificationErrorCode.TlogBody, $"the verifier in log entry {entry.LogIndex} is not base64", ex);
        }

        var matches = (isCertificate, leaf) switch
        {
            (true, not null) => der.AsSpan().SequenceEqual(leaf.RawData),
            (true, null) => CertificateKeyEquals(der, spki),
            (false, _) => der.AsSpan().SequenceEqual(spki),
        };
        if (!matches)
        {
            throw Fail($"log entry {entry.LogIndex} was made with a different {(leaf is null ? "key" : "certificate")} than the bundle's");
        }
    }

    /// <summary>The logged key (base64 PEM of a certificate or public key) must be the one that signed the bundle.</summary>
    private static void CheckKey(TransparencyLogEntry entry, string base64Pem, byte[] spki, X509Certificate2? leaf)
    {
        List<(string Label, byte[] Der)> blocks;
        try
        {
            blocks = Pem.DecodeAll(Encoding.UTF8.GetString(Convert.FromBase64String(base64Pem)), maxBlocks: 10);
        }
        catch (FormatException ex)
        {
            throw new VerificationException(VerificationErrorCode.TlogBody, $"the key in log entry {entry.LogIndex} is not base64 PEM", ex);
        }

        var matches = blocks.Count > 0 && blocks[0] switch
        {
            ("CERTIFICATE", var der) when leaf is not null => der.AsSpan().SequenceEqual(leaf.RawData),
            ("CERTIFICATE", var der) => CertificateKeyEquals(der, spki),
            ("PUBLIC KEY", var der) => der.AsSpan().SequenceEqual(spki),
            _ => false,
        };
        if (!matches)
        {
            throw Fail($"log entry {entry.LogIndex} was made with a different {(leaf is null ? "key" : "certificate")} than the bundle's");
        }
    }

    private static bool CertificateKeyEquals(byte[] der, byte[] spki)
    {
        try
        {
            using var certificate = X509CertificateLoader.LoadCertificate(der);
            return certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(spki);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static JsonElement Element(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value)
            ? value
            : throw Fail($"the log entry body has no {name}");

    private static string Text(JsonElement parent, string name) =>
        Element(parent, name) is { ValueKind: JsonValueKind.String } value
            ? value.GetString() ?? string.Empty
            : throw Fail($"the log entry body's {name} is not a string");

    private static VerificationException Fail(string message) => new(VerificationErrorCode.TlogBody, message);
}
