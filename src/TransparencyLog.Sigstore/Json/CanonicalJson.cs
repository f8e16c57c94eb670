using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TransparencyLog.Sigstore.Json;

/// <summary>
/// RFC 8785 JSON Canonicalization Scheme (JCS). The bytes produced here are what gets signed (SETs) and hashed
/// (Merkle leaves), so they must match, byte for byte, what sigstore-js rebuilds with <c>JSON.stringify</c> over
/// sorted keys.
/// </summary>
public static class CanonicalJson
{
    // Lone surrogates cannot be represented in UTF-8; JCS input is I-JSON, so they are rejected, not replaced.
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

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
    internal static void WriteString(string value, IBufferWriter<byte> output)
    {
        var builder = new StringBuilder(value.Length + 2);
        builder.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    builder.Append("\\\"");
                    break;
                case '\\':
                    builder.Append("\\\\");
                    break;
                case '\b':
                    builder.Append("\\b");
                    break;
                case '\f':
                    builder.Append("\\f");
                    break;
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                default:
                    if (c < 0x20)
                    {
                        builder.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        builder.Append('"');
        try
        {
            output.Write(s_strictUtf8.GetBytes(builder.ToString()));
        }
        catch (EncoderFallbackException ex)
        {
            throw new FormatException("JSON string contains a lone surrogate", ex);
        }
    }

    private static void WriteAscii(string text, IBufferWriter<byte> output) => output.Write(Encoding.ASCII.GetBytes(text));

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
