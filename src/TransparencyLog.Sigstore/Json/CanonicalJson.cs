using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;

namespace TransparencyLog.Sigstore.Json;

/// <summary>
/// RFC 8785 JSON Canonicalization Scheme (JCS). The bytes produced here are what gets signed (SETs) and hashed
/// (Merkle leaves), so they must match, byte for byte, what sigstore-js rebuilds with <c>JSON.stringify</c> over
/// sorted keys.
/// </summary>
public static class CanonicalJson
{
    // '"', '\\' and the C0 controls: everything JSON.stringify escapes (it leaves DEL and non-ASCII as they are).
    private static readonly SearchValues<char> s_escaped = SearchValues.Create(
        "\"\\\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u0009\u000A\u000B\u000C\u000D\u000E\u000F" +
        "\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001A\u001B\u001C\u001D\u001E\u001F");

    private static readonly JsonReaderOptions s_readerOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 64,
    };

    /// <summary>Canonicalizes a JSON document given as a node tree.</summary>
    /// <exception cref="FormatException">The value holds NaN or an infinity, or a string with a lone surrogate.</exception>
    public static byte[] Canonicalize(JsonNode node)
    {
        ArgumentNullException.ThrowIfNull(node);

        // One code path for both overloads: JsonNode cannot hold duplicate keys, and its serializer
        // produces plain JSON text that the reader below re-reads with full validation.
        byte[] utf8;
        try
        {
            utf8 = Encoding.UTF8.GetBytes(node.ToJsonString());
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            throw new FormatException("the JSON value cannot be canonicalized (NaN or Infinity)", ex);
        }

        return Canonicalize(utf8);
    }

    /// <summary>Canonicalizes UTF-8 JSON text.</summary>
    /// <exception cref="FormatException">Malformed JSON, a duplicate object key, or a number that is not finite.</exception>
    public static byte[] Canonicalize(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, s_readerOptions);
        var output = new ArrayBufferWriter<byte>(Math.Max(16, utf8Json.Length));
        try
        {
            if (!reader.Read())
            {
                throw new FormatException("empty JSON document");
            }

            WriteValue(ref reader, output);

            if (reader.Read())
            {
                throw new FormatException("trailing data after the JSON value");
            }
        }
        catch (JsonException ex)
        {
            // The reader's message names a line and byte position, never the input itself.
            throw new FormatException($"malformed JSON: {ex.Message}", ex);
        }

        return output.WrittenSpan.ToArray();
    }

    private static void WriteValue(ref Utf8JsonReader reader, ArrayBufferWriter<byte> output)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                WriteObject(ref reader, output);
                break;
            case JsonTokenType.StartArray:
                WriteArray(ref reader, output);
                break;
            case JsonTokenType.String:
                WriteString(ReadString(ref reader), output);
                break;
            case JsonTokenType.Number:
                WriteAscii(FormatNumber(reader.ValueSpan), output);
                break;
            case JsonTokenType.True:
                WriteAscii("true", output);
                break;
            case JsonTokenType.False:
                WriteAscii("false", output);
                break;
            case JsonTokenType.Null:
                WriteAscii("null", output);
                break;
            default:
                throw new FormatException($"unexpected JSON token {reader.TokenType}");
        }
    }

    private static void WriteObject(ref Utf8JsonReader reader, ArrayBufferWriter<byte> output)
    {
        var members = new List<KeyValuePair<string, byte[]>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = ReadString(ref reader);
            if (!seen.Add(name))
            {
                throw new FormatException("duplicate key in JSON object");
            }

            reader.Read();
            var value = new ArrayBufferWriter<byte>();
            WriteValue(ref reader, value);
            members.Add(new(name, value.WrittenSpan.ToArray()));
        }

        // Ordinal comparison of .NET strings is comparison of UTF-16 code units: exactly the JS default sort.
        members.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));

        output.Write("{"u8);
        for (var i = 0; i < members.Count; i++)
        {
            if (i > 0)
            {
                output.Write(","u8);
            }

            WriteString(members[i].Key, output);
            output.Write(":"u8);
            output.Write(members[i].Value);
        }

        output.Write("}"u8);
    }

    private static void WriteArray(ref Utf8JsonReader reader, ArrayBufferWriter<byte> output)
    {
        output.Write("["u8);
        var first = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (!first)
            {
                output.Write(","u8);
            }

            first = false;
            WriteValue(ref reader, output);
        }

        output.Write("]"u8);
    }

    private static string ReadString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString() ?? string.Empty;
        }
        catch (InvalidOperationException ex)
        {
            throw new FormatException("invalid string in JSON", ex);
        }
    }

    /// <summary>Escapes exactly as ECMAScript <c>JSON.stringify</c> does (RFC 8785 §3.2.2.2).</summary>
    /// <remarks>
    /// Written straight into <paramref name="output"/>, a run of characters that need no escape at a time: this runs
    /// for every string of every entry the log canonicalises and signs, so it allocates nothing of its own.
    /// </remarks>
    internal static void WriteString(ReadOnlySpan<char> value, IBufferWriter<byte> output)
    {
        output.Write("\""u8);
        while (!value.IsEmpty)
        {
            var run = value.IndexOfAny(s_escaped);
            if (run < 0)
            {
                run = value.Length;
            }

            WriteUtf8(value[..run], output);
            if (run == value.Length)
            {
                break;
            }

            var c = value[run];
            switch (c)
            {
                case '"':
                    output.Write("\\\""u8);
                    break;
                case '\\':
                    output.Write("\\\\"u8);
                    break;
                case '\b':
                    output.Write("\\b"u8);
                    break;
                case '\f':
                    output.Write("\\f"u8);
                    break;
                case '\n':
                    output.Write("\\n"u8);
                    break;
                case '\r':
                    output.Write("\\r"u8);
                    break;
                case '\t':
                    output.Write("\\t"u8);
                    break;
                default:
                    // The other control characters: \u00XX with lowercase hex, as JSON.stringify writes them.
                    Span<byte> escape = [(byte)'\\', (byte)'u', (byte)'0', (byte)'0', HexLower(c >> 4), HexLower(c & 0xF)];
                    output.Write(escape);
                    break;
            }

            value = value[(run + 1)..];
        }

        output.Write("\""u8);
    }

    private static byte HexLower(int nibble) => (byte)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);

    private static void WriteUtf8(ReadOnlySpan<char> text, IBufferWriter<byte> output)
    {
        if (text.IsEmpty)
        {
            return;
        }

        // The exact size, so a writer sized for its content is never regrown (a lone surrogate, counted as U+FFFD's
        // three bytes, fails below).
        var destination = output.GetSpan(Encoding.UTF8.GetByteCount(text));
        if (Utf8.FromUtf16(text, destination, out _, out var written, replaceInvalidSequences: false) != OperationStatus.Done)
        {
            throw new FormatException("JSON string contains a lone surrogate");
        }

        output.Advance(written);
    }

    /// <summary>An integer as JCS writes a JSON number: the ECMAScript form of the double it denotes.</summary>
    internal static void WriteNumber(long value, IBufferWriter<byte> output) => WriteAscii(EcmaScriptNumber.Format(value), output);

    private static void WriteAscii(string text, IBufferWriter<byte> output)
    {
        var destination = output.GetSpan(text.Length);
        var written = Encoding.ASCII.GetBytes(text, destination);
        output.Advance(written);
    }

    private static string FormatNumber(ReadOnlySpan<byte> token)
    {
        // JCS treats every number as an IEEE 754 double, as JavaScript does; integers within 2^53 print plainly.
        if (!double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            throw new FormatException("JSON number is not a finite IEEE 754 double");
        }

        return EcmaScriptNumber.Format(value);
    }
}
