using System.Buffers.Binary;
using System.Text.Json;

namespace TransparencyLog.Sigstore.CertificateTransparency;

/// <summary>
/// An RFC 6962 §3.2 v1 SignedCertificateTimestamp: the TLS wire form (<see cref="Serialize"/>, used inside the
/// SCT-list certificate extension) and the JSON form of an <c>add-chain</c>/<c>add-pre-chain</c> response
/// (§4.1, also Fulcio's detached SCT).
/// </summary>
/// <param name="Version">0 for v1, the only version defined.</param>
/// <param name="LogId">SHA-256 of the log's DER SubjectPublicKeyInfo (32 bytes).</param>
/// <param name="TimestampMs">Milliseconds since the Unix epoch.</param>
/// <param name="Extensions">CtExtensions (opaque, at most 65535 bytes; static-CT logs put <c>leaf_index</c> here).</param>
/// <param name="HashAlgorithm">TLS HashAlgorithm (4 = sha256, 5 = sha384, 6 = sha512).</param>
/// <param name="SignatureAlgorithm">TLS SignatureAlgorithm (1 = rsa, 3 = ecdsa).</param>
/// <param name="Signature">The signature bytes (DER <c>SEQUENCE{r,s}</c> for ECDSA).</param>
public sealed record SignedCertificateTimestamp(
    byte Version,
    byte[] LogId,
    ulong TimestampMs,
    byte[] Extensions,
    byte HashAlgorithm,
    byte SignatureAlgorithm,
    byte[] Signature)
{
    /// <summary>The extension type a static-CT (Sunlight/TesseraCT) log uses for the entry's index, a uint40.</summary>
    public const byte LeafIndexExtensionType = 0;

    // Validated both when constructed and in `with` expressions (the initializer bypasses the init accessor).
    public byte[] LogId { get; init => field = CheckLogId(value); } = CheckLogId(LogId);

    public byte[] Extensions { get; init => field = CheckExtensions(value); } = CheckExtensions(Extensions);

    public byte[] Signature { get; init => field = CheckSignature(value); } = CheckSignature(Signature);

    /// <summary>The TLS encoding (RFC 6962 §3.2 <c>SignedCertificateTimestamp</c>).</summary>
    public byte[] Serialize()
    {
        var result = new byte[1 + 32 + 8 + 2 + Extensions.Length + 4 + Signature.Length];
        var span = result.AsSpan();
        span[0] = Version;
        LogId.CopyTo(span[1..]);
        BinaryPrimitives.WriteUInt64BigEndian(span[33..], TimestampMs);
        BinaryPrimitives.WriteUInt16BigEndian(span[41..], (ushort)Extensions.Length);
        Extensions.CopyTo(span[43..]);
        WriteDigitallySigned(span[(43 + Extensions.Length)..]);
        return result;
    }

    /// <summary>Parses the TLS encoding; the input must hold exactly one v1 SCT.</summary>
    /// <exception cref="FormatException">The bytes are not exactly one well-formed v1 SCT.</exception>
    public static SignedCertificateTimestamp Parse(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length < 1 + 32 + 8 + 2 + 4)
        {
            throw new FormatException("The SCT is truncated.");
        }

        if (encoded[0] != 0)
        {
            throw new FormatException($"SCT version {encoded[0]} is not supported.");
        }

        var logId = encoded.Slice(1, 32).ToArray();
        var timestamp = BinaryPrimitives.ReadUInt64BigEndian(encoded[33..]);
        int extensionsLength = BinaryPrimitives.ReadUInt16BigEndian(encoded[41..]);
        var rest = encoded[43..];
        if (rest.Length < extensionsLength)
        {
            throw new FormatException("The SCT extensions are truncated.");
        }

        var extensions = rest[..extensionsLength].ToArray();
        var (hash, algorithm, signature) = ReadDigitallySigned(rest[extensionsLength..]);
        return new SignedCertificateTimestamp(0, logId, timestamp, extensions, hash, algorithm, signature);
    }

    /// <summary>
    /// The RFC 6962 §4.1 response body <c>{"sct_version","id","timestamp","extensions","signature"}</c>, where
    /// <c>signature</c> is the base64 TLS <c>DigitallySigned</c> struct.
    /// </summary>
    public string ToAddChainResponseJson()
    {
        var signature = new byte[4 + Signature.Length];
        WriteDigitallySigned(signature);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("sct_version", Version);
            writer.WriteString("id", Convert.ToBase64String(LogId));
            writer.WriteNumber("timestamp", TimestampMs);
            writer.WriteString("extensions", Convert.ToBase64String(Extensions));
            writer.WriteString("signature", Convert.ToBase64String(signature));
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Parses an RFC 6962 §4.1 <c>add-chain</c>/<c>add-pre-chain</c> response body.</summary>
    /// <exception cref="FormatException">The JSON is not a well-formed v1 AddChainResponse.</exception>
    public static SignedCertificateTimestamp FromAddChainResponseJson(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("The AddChainResponse is not a JSON object.");
            }

            var version = root.GetProperty("sct_version").GetByte();
            if (version != 0)
            {
                throw new FormatException($"SCT version {version} is not supported.");
            }

            var logId = Convert.FromBase64String(root.GetProperty("id").GetString() ?? string.Empty);
            var timestamp = root.GetProperty("timestamp").GetUInt64();
            var extensions = root.TryGetProperty("extensions", out var ext) && ext.ValueKind == JsonValueKind.String
                ? Convert.FromBase64String(ext.GetString() ?? string.Empty)
                : [];
            var signed = Convert.FromBase64String(root.GetProperty("signature").GetString() ?? string.Empty);
            var (hash, algorithm, signature) = ReadDigitallySigned(signed);
            return new SignedCertificateTimestamp(version, logId, timestamp, extensions, hash, algorithm, signature);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException
                                       or ArgumentException or FormatException)
        {
            throw new FormatException("The AddChainResponse is malformed.", e);
        }
    }

    /// <summary>
    /// Reads the <c>leaf_index</c> extension a static-CT log adds (type 0, uint40), if present and well formed.
    /// </summary>
    public bool TryGetLeafIndex(out long leafIndex)
    {
        ReadOnlySpan<byte> rest = Extensions;
        while (rest.Length >= 3)
        {
            var type = rest[0];
            int length = BinaryPrimitives.ReadUInt16BigEndian(rest[1..]);
            if (rest.Length < 3 + length)
            {
                break;
            }

            if (type == LeafIndexExtensionType && length == 5)
            {
                leafIndex = 0;
                foreach (var b in rest.Slice(3, 5))
                {
                    leafIndex = (leafIndex << 8) | b;
                }

                return true;
            }

            rest = rest[(3 + length)..];
        }

        leafIndex = 0;
        return false;
    }

    private static byte[] CheckLogId(byte[] value) => value is { Length: 32 }
        ? value
        : throw new ArgumentException("A log ID is a 32-byte SHA-256 hash.", nameof(LogId));

    private static byte[] CheckExtensions(byte[] value) => value is { Length: <= ushort.MaxValue }
        ? value
        : throw new ArgumentException("CtExtensions hold at most 65535 bytes.", nameof(Extensions));

    private static byte[] CheckSignature(byte[] value) => value is { Length: > 0 and <= ushort.MaxValue }
        ? value
        : throw new ArgumentException("A signature holds 1 to 65535 bytes.", nameof(Signature));

    private void WriteDigitallySigned(Span<byte> destination)
    {
        destination[0] = HashAlgorithm;
        destination[1] = SignatureAlgorithm;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)Signature.Length);
        Signature.CopyTo(destination[4..]);
    }

    private static (byte Hash, byte Algorithm, byte[] Signature) ReadDigitallySigned(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length < 4)
        {
            throw new FormatException("The SCT signature is truncated.");
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(encoded[2..]);
        if (encoded.Length != 4 + length)
        {
            throw new FormatException("The SCT signature length does not match its content.");
        }

        return (encoded[0], encoded[1], encoded[4..].ToArray());
    }
}
