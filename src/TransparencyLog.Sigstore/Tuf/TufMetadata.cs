using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Json;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Tuf;

/// <summary>One signature of a metadata file: key ID and hex signature over the canonical <c>signed</c>.</summary>
public sealed record TufSignature(string KeyId, string Sig);

/// <summary>
/// A TUF metadata file <c>{"signed":{…},"signatures":[…]}</c>. The envelope is kept as parsed (unknown fields
/// included), so signatures are checked over exactly what clients re-encode.
/// </summary>
public sealed class TufMetadata
{
    public const string Root = "root";
    public const string Targets = "targets";
    public const string Snapshot = "snapshot";
    public const string Timestamp = "timestamp";

    /// <summary>tuf-js caps: root 512000 bytes, timestamp 16 KiB, snapshot 2 MB, targets 5 MB.</summary>
    public static int MaxBytes(string role) => role switch
    {
        Root => 512_000,
        Timestamp => 16_384,
        Snapshot => 2_000_000,
        _ => 5_000_000,
    };

    private static readonly JsonSerializerOptions s_write = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private TufMetadata(JsonObject signed, List<TufSignature> signatures)
    {
        Signed = signed;
        Signatures = signatures;
        Type = RequiredString(signed, "_type");
        if (Type is not (Root or Targets or Snapshot or Timestamp))
        {
            throw new TufException(TufError.BadFormat, $"unknown metadata _type '{Type}'");
        }

        var spec = RequiredString(signed, "spec_version");
        var parts = spec.Split('.');
        if (parts.Length is < 2 or > 3 || parts[0] != "1" || !parts.All(static p => p.Length > 0 && p.All(char.IsAsciiDigit)))
        {
            throw new TufException(TufError.BadFormat, $"unsupported spec_version '{spec}'");
        }

        Version = RequiredInteger(signed, "version");
        if (Version < 1)
        {
            throw new TufException(TufError.BadFormat, "version must be at least 1");
        }

        var expires = RequiredString(signed, "expires");
        if (!DateTimeOffset.TryParseExact(expires, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            throw new TufException(TufError.BadFormat, "expires must be YYYY-MM-DDTHH:MM:SSZ");
        }

        Expires = at;
    }

    public JsonObject Signed { get; }

    public List<TufSignature> Signatures { get; }

    public string Type { get; }

    public long Version { get; }

    public DateTimeOffset Expires { get; }

    /// <summary>A new unsigned file around <paramref name="signed"/>.</summary>
    public static TufMetadata Create(JsonObject signed) => new(signed, []);

    /// <exception cref="TufException">Not a metadata file, a repeated keyid, or not of <paramref name="expectedType"/>.</exception>
    public static TufMetadata Parse(ReadOnlySpan<byte> json, string? expectedType = null)
    {
        if (json.Length > MaxBytes(expectedType ?? Targets))
        {
            throw new TufException(TufError.BadFormat, $"{expectedType ?? "metadata"} exceeds {MaxBytes(expectedType ?? Targets)} bytes");
        }

        // JsonNode leaves strings undecoded until read: bytes that are not UTF-8 would throw InvalidOperationException
        // far from here (found by the tuf-metadata fuzz target), so the whole text is checked first (RFC 8259 §8.1).
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new TufException(TufError.BadFormat, "metadata is not UTF-8");
        }

        JsonNode? node;
        try
        {
            // A member named twice would otherwise throw ArgumentException when first read (found by the tuf-metadata
            // fuzz target); clients disagree on which copy wins, so such a file is refused outright.
            var options = new JsonDocumentOptions { MaxDepth = 32, AllowDuplicateProperties = false };
            node = JsonNode.Parse(json, documentOptions: options);
            // An escaped surrogate without its pair ("\ud800") would throw InvalidOperationException when read.
            JsonInput.CheckEscapes(json, options);
        }
        catch (JsonException ex)
        {
            throw new TufException(TufError.BadFormat, "metadata is not valid JSON", ex);
        }

        if (node is not JsonObject envelope || envelope["signed"] is not JsonObject signed || envelope["signatures"] is not JsonArray signatures)
        {
            throw new TufException(TufError.BadFormat, "metadata needs a 'signed' object and a 'signatures' array");
        }

        var list = new List<TufSignature>();
        foreach (var item in signatures)
        {
            if (item is not JsonObject sig)
            {
                throw new TufException(TufError.BadFormat, "each signature is an object");
            }

            var signature = new TufSignature(RequiredString(sig, "keyid"), RequiredString(sig, "sig"));
            // tuf-js refuses the whole file when a keyid repeats: one key must never count twice.
            if (list.Any(s => s.KeyId == signature.KeyId))
            {
                throw new TufException(TufError.BadFormat, $"keyid {signature.KeyId} signs more than once");
            }

            list.Add(signature);
        }

        envelope.Remove("signed");
        var metadata = new TufMetadata(signed, list);
        if (expectedType is not null && metadata.Type != expectedType)
        {
            throw new TufException(TufError.BadFormat, $"expected {expectedType} metadata, found {metadata.Type}");
        }

        // Clients re-encode after parsing; a file that only verifies before that would break them.
        _ = metadata.SigningBytes();
        return metadata;
    }

    /// <summary>The canonical bytes of <c>signed</c>: what every signature covers.</summary>
    public byte[] SigningBytes() => TufCanonicalJson.Encode(Signed);

    /// <summary>Adds (or replaces) this key's signature.</summary>
    public async ValueTask SignAsync(LogSigner signer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signer);
        var keyId = TufKey.FromPublicKey(signer.PublicKey).KeyId;
        var signature = await signer.SignAsync(SigningBytes(), cancellationToken);
        Signatures.RemoveAll(s => s.KeyId == keyId);
        Signatures.Add(new TufSignature(keyId, Convert.ToHexStringLower(signature)));
    }

    /// <summary>The file as served: indented JSON with strings escaped as JSON requires.</summary>
    public byte[] ToBytes()
    {
        var envelope = new JsonObject
        {
            ["signatures"] = new JsonArray([.. Signatures.Select(static s => (JsonNode?)new JsonObject { ["keyid"] = s.KeyId, ["sig"] = s.Sig })]),
            ["signed"] = Signed.DeepClone(),
        };
        return System.Text.Encoding.UTF8.GetBytes(envelope.ToJsonString(s_write) + "\n");
    }

    public static string FormatExpires(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    internal static string RequiredString(JsonObject obj, string name) =>
        obj[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String
            ? value.GetValue<string>()
            : throw new TufException(TufError.BadFormat, $"'{name}' must be a string");

    internal static long RequiredInteger(JsonObject obj, string name) =>
        obj[name] is JsonValue value && TufCanonicalJson.TryGetInteger(value, out var integer)
            ? integer
            : throw new TufException(TufError.BadFormat, $"'{name}' must be an integer");
}
