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
                    {
                        // Rekor v1: hex digest with a lowercase algorithm name, the key as base64 PEM.
                        var signature = Element(spec, "signature");
                        VerifyMessageSignature(entry, bundle, Text(signature, "content"), digest =>
                        {
                            var hash = Element(Element(spec, "data"), "hash");
                            return Text(hash, "algorithm") == RekorV1HashName(digest.Algorithm) && Text(hash, "value") == Convert.ToHexStringLower(digest.Digest);
                        });
                        CheckKey(entry, Text(Element(signature, "publicKey"), "content"), spki, leaf);
                        break;
                    }

                case ("dsse", "0.0.1"):
                    {
                        var logged = VerifyDsseSignature(entry, bundle, spec, "signature", (hash, sha256) =>
                            Text(hash, "algorithm") == "sha256" && Text(hash, "value") == Convert.ToHexStringLower(sha256));
                        CheckKey(entry, Text(logged, "verifier"), spki, leaf);
                        break;
                    }

                case ("hashedrekord", "0.0.2"):
                    {
                        // Rekor v2 (V:tlog/hashedrekord.js:77-94): base64 digest with the protobuf algorithm name, a DER verifier.
                        var v2 = Element(spec, "hashedRekordV002");
                        var signature = Element(v2, "signature");
                        VerifyMessageSignature(entry, bundle, Text(signature, "content"), digest =>
                        {
                            var data = Element(v2, "data");
                            return Text(data, "algorithm") == digest.Algorithm && Text(data, "digest") == Convert.ToBase64String(digest.Digest);
                        });
                        CheckVerifier(entry, Element(signature, "verifier"), spki, leaf);
                        break;
                    }

                case ("dsse", "0.0.2"):
                    {
                        // V:tlog/dsse.js:82-106
                        var logged = VerifyDsseSignature(entry, bundle, Element(spec, "dsseV002"), "content", (hash, sha256) =>
                            Text(hash, "algorithm") == "SHA2_256" && Text(hash, "digest") == Convert.ToBase64String(sha256));
                        CheckVerifier(entry, Element(logged, "verifier"), spki, leaf);
                        break;
                    }

                default:
                    throw Fail($"log entry {entry.LogIndex} is of unsupported kind {kind} {apiVersion}");
            }
        }
    }

    /// <summary>A hashedrekord body: the logged signature is the bundle's, and so is the digest when the bundle has one.</summary>
    private static void VerifyMessageSignature(TransparencyLogEntry entry, Bundle bundle, string loggedSignature, Func<MessageDigest, bool> digestMatches)
    {
        var message = bundle.MessageSignature
            ?? throw Fail($"log entry {entry.LogIndex} is a hashedrekord but the bundle holds a DSSE envelope");
        if (loggedSignature != Convert.ToBase64String(message.Signature))
        {
            throw Fail($"the signature in log entry {entry.LogIndex} is not the bundle's signature");
        }

        if (message.MessageDigest is { } digest && !digestMatches(digest))
        {
            throw Fail($"the digest in log entry {entry.LogIndex} is not the bundle's message digest");
        }
    }

    /// <summary>
    /// A dsse body: exactly one signature on each side, equal (under <paramref name="signatureName"/>), and a payload
    /// hash over the envelope's payload. Returns the logged signature, whose verifier the caller checks.
    /// </summary>
    private static JsonElement VerifyDsseSignature(
        TransparencyLogEntry entry, Bundle bundle, JsonElement spec, string signatureName, Func<JsonElement, byte[], bool> payloadHashMatches)
    {
        var envelope = bundle.DsseEnvelope
            ?? throw Fail($"log entry {entry.LogIndex} is a dsse entry but the bundle holds a message signature");
        var signatures = Element(spec, "signatures");
        if (signatures.ValueKind != JsonValueKind.Array || signatures.GetArrayLength() != 1 || envelope.Signatures.Count != 1)
        {
            throw Fail($"log entry {entry.LogIndex} and the bundle must each hold exactly one DSSE signature");
        }

        var logged = signatures[0];
        if (Text(logged, signatureName) != Convert.ToBase64String(envelope.Signatures[0].Sig))
        {
            throw Fail($"the signature in log entry {entry.LogIndex} is not the envelope's signature");
        }

        if (!payloadHashMatches(Element(spec, "payloadHash"), SHA256.HashData(envelope.Payload)))
        {
            throw Fail($"the payload hash in log entry {entry.LogIndex} is not the hash of the envelope's payload");
        }

        return logged;
    }

    private static string RekorV1HashName(string algorithm) => algorithm switch
    {
        "SHA2_256" => "sha256",
        "SHA2_384" => "sha384",
        "SHA2_512" => "sha512",
        _ => algorithm,
    };

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
