using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace TransparencyLog.LogService.Explorer;

/// <summary>
/// What an entry's canonical body says, for people: its kind, the artifact digest, the signature and the signing
/// certificate (with the chain that came with it) or key. Reading never fails: a body that cannot be decoded (a
/// tampered row, say) is shown as such.
/// </summary>
internal sealed record DecodedEntry(
    string Kind,
    string ApiVersion,
    IReadOnlyList<(string Label, string Value)> Fields,
    IReadOnlyList<X509Certificate2> Certificates,
    string? PublicKeyPem,
    string PrettyBody,
    string? Problem)
{
    /// <summary>For hashedrekord entries: what a bundle's <c>messageSignature</c> needs (protobuf algorithm name, digest, signature).</summary>
    public (string Algorithm, byte[] Digest, byte[] Signature)? Message { get; private init; }

    private const int MaxBlocks = 10;
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The leaf certificate, when the entry was signed with one.</summary>
    public X509Certificate2? Leaf => Certificates.Count > 0 ? Certificates[0] : null;

    public static DecodedEntry Decode(byte[] body, string storedKind, string storedApiVersion)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException)
        {
            return new DecodedEntry(storedKind, storedApiVersion, [], [], null, Convert.ToBase64String(body), "the stored body is not JSON (shown as base64)");
        }

        using (document)
        {
            var root = document.RootElement;
            var fields = new List<(string, string)>();
            var certificates = new List<X509Certificate2>();
            string? publicKey = null;
            (string, byte[], byte[])? message = null;
            var spec = Path(root, "spec");
            switch ((storedKind, storedApiVersion))
            {
                case ("hashedrekord", "0.0.1"):
                    AddHash(fields, "Artifact digest", Path(spec, "data", "hash"), "value");
                    AddText(fields, "Signature (base64)", Path(spec, "signature", "content"));
                    ReadPemKey(Path(spec, "signature", "publicKey", "content"), certificates, ref publicKey);
                    message = ReadMessage(Path(spec, "data", "hash", "algorithm"), Path(spec, "data", "hash", "value"), Path(spec, "signature", "content"), hex: true);
                    break;
                case ("dsse", "0.0.1"):
                    AddHash(fields, "Payload digest", Path(spec, "payloadHash"), "value");
                    AddHash(fields, "Envelope digest", Path(spec, "envelopeHash"), "value");
                    foreach (var signature in Items(Path(spec, "signatures")))
                    {
                        AddText(fields, "Signature (base64)", Path(signature, "signature"));
                        ReadPemKey(Path(signature, "verifier"), certificates, ref publicKey);
                    }

                    break;
                case ("intoto", "0.0.2"):
                    AddHash(fields, "Payload digest", Path(spec, "content", "payloadHash"), "value");
                    AddHash(fields, "Envelope digest", Path(spec, "content", "hash"), "value");
                    AddText(fields, "Payload type", Path(spec, "content", "envelope", "payloadType"));
                    foreach (var signature in Items(Path(spec, "content", "envelope", "signatures")))
                    {
                        AddText(fields, "Signature (base64)", Path(signature, "sig"));
                        ReadPemKey(Path(signature, "publicKey"), certificates, ref publicKey);
                    }

                    break;
                case ("hashedrekord", "0.0.2"):
                    AddHash(fields, "Artifact digest", Path(spec, "hashedRekordV002", "data"), "digest");
                    AddText(fields, "Signature (base64)", Path(spec, "hashedRekordV002", "signature", "content"));
                    ReadVerifier(Path(spec, "hashedRekordV002", "signature", "verifier"), certificates, ref publicKey);
                    message = ReadMessage(Path(spec, "hashedRekordV002", "data", "algorithm"), Path(spec, "hashedRekordV002", "data", "digest"), Path(spec, "hashedRekordV002", "signature", "content"), hex: false);
                    break;
                case ("dsse", "0.0.2"):
                    AddHash(fields, "Payload digest", Path(spec, "dsseV002", "payloadHash"), "digest");
                    foreach (var signature in Items(Path(spec, "dsseV002", "signatures")))
                    {
                        AddText(fields, "Signature (base64)", Path(signature, "content"));
                        ReadVerifier(Path(signature, "verifier"), certificates, ref publicKey);
                    }

                    break;
                default:
                    break;
            }

            var kind = Path(root, "kind") is { ValueKind: JsonValueKind.String } k ? k.GetString() ?? storedKind : storedKind;
            var version = Path(root, "apiVersion") is { ValueKind: JsonValueKind.String } v ? v.GetString() ?? storedApiVersion : storedApiVersion;
            var problem = kind != storedKind || version != storedApiVersion
                ? $"the body says {kind} {version} but the entry was stored as {storedKind} {storedApiVersion}"
                : null;
            return new DecodedEntry(storedKind, storedApiVersion, fields, certificates, publicKey, JsonSerializer.Serialize(root, Indented), problem) { Message = message };
        }
    }

    private static JsonElement? Path(JsonElement? element, params string[] names)
    {
        foreach (var name in names)
        {
            if (element is not { ValueKind: JsonValueKind.Object } current || !current.TryGetProperty(name, out var next))
            {
                return null;
            }

            element = next;
        }

        return element;
    }

    private static IEnumerable<JsonElement> Items(JsonElement? array) =>
        array is { ValueKind: JsonValueKind.Array } a ? a.EnumerateArray().Take(MaxBlocks).ToList() : [];

    private static void AddText(List<(string, string)> fields, string label, JsonElement? value)
    {
        if (value is { ValueKind: JsonValueKind.String } text)
        {
            fields.Add((label, text.GetString() ?? ""));
        }
    }

    /// <summary>A hash object: <c>algorithm</c> and the digest under <paramref name="digestField"/> (hex in v1, base64 in v2, shown as hex).</summary>
    private static void AddHash(List<(string, string)> fields, string label, JsonElement? hash, string digestField)
    {
        if (Path(hash, "algorithm") is not { ValueKind: JsonValueKind.String } algorithm
            || Path(hash, digestField) is not { ValueKind: JsonValueKind.String } digest)
        {
            return;
        }

        var value = digest.GetString() ?? "";
        if (digestField == "digest")
        {
            try
            {
                value = Convert.ToHexStringLower(Convert.FromBase64String(value));
            }
            catch (FormatException)
            {
                // Shown as stored.
            }
        }

        var name = algorithm.GetString() switch { "SHA2_256" => "sha256", "SHA2_384" => "sha384", "SHA2_512" => "sha512", var other => other };
        fields.Add((label, $"{name}:{value}"));
    }

    /// <summary>v1 keys: base64 of a PEM holding a certificate chain (leaf first) or one public key.</summary>
    private static void ReadPemKey(JsonElement? content, List<X509Certificate2> certificates, ref string? publicKey)
    {
        if (content is not { ValueKind: JsonValueKind.String } text || certificates.Count > 0)
        {
            return;
        }

        try
        {
            var pem = Encoding.UTF8.GetString(Convert.FromBase64String(text.GetString() ?? ""));
            foreach (var (label, der) in PemBlocks(pem))
            {
                if (label == "CERTIFICATE")
                {
                    certificates.Add(X509CertificateLoader.LoadCertificate(der));
                }
                else if (label == "PUBLIC KEY")
                {
                    publicKey ??= PemEncoding.WriteString("PUBLIC KEY", der);
                }
            }
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            // Not decodable: the raw body below still shows it.
        }
    }

    /// <summary>v2 verifiers: DER certificate under <c>x509Certificate.rawBytes</c> or SPKI under <c>publicKey.rawBytes</c>.</summary>
    private static void ReadVerifier(JsonElement? verifier, List<X509Certificate2> certificates, ref string? publicKey)
    {
        try
        {
            if (Path(verifier, "x509Certificate", "rawBytes") is { ValueKind: JsonValueKind.String } der && certificates.Count == 0)
            {
                certificates.Add(X509CertificateLoader.LoadCertificate(Convert.FromBase64String(der.GetString() ?? "")));
            }
            else if (Path(verifier, "publicKey", "rawBytes") is { ValueKind: JsonValueKind.String } spki)
            {
                publicKey ??= PemEncoding.WriteString("PUBLIC KEY", Convert.FromBase64String(spki.GetString() ?? ""));
            }
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            // Not decodable: the raw body below still shows it.
        }
    }

    private static (string, byte[], byte[])? ReadMessage(JsonElement? algorithm, JsonElement? digest, JsonElement? signature, bool hex)
    {
        if (algorithm is not { ValueKind: JsonValueKind.String } a || digest is not { ValueKind: JsonValueKind.String } d
            || signature is not { ValueKind: JsonValueKind.String } s)
        {
            return null;
        }

        try
        {
            var name = a.GetString() switch { "sha256" => "SHA2_256", "sha384" => "SHA2_384", "sha512" => "SHA2_512", var other => other ?? "" };
            var bytes = hex ? Convert.FromHexString(d.GetString() ?? "") : Convert.FromBase64String(d.GetString() ?? "");
            return (name, bytes, Convert.FromBase64String(s.GetString() ?? ""));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The PEM blocks of <paramref name="text"/>, at most <see cref="MaxBlocks"/>.</summary>
    private static List<(string Label, byte[] Der)> PemBlocks(string text)
    {
        var blocks = new List<(string, byte[])>();
        var rest = text.AsSpan();
        while (blocks.Count < MaxBlocks && PemEncoding.TryFind(rest, out var fields))
        {
            blocks.Add((rest[fields.Label].ToString(), Convert.FromBase64String(rest[fields.Base64Data].ToString())));
            rest = rest[fields.Location.End..];
        }

        return blocks;
    }
}
