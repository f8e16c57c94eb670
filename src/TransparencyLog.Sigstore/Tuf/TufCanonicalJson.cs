using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TransparencyLog.Sigstore.Tuf;

/// <summary>
/// OLPC canonical JSON, the signing input of TUF metadata as securesystemslib <c>encode_canonical</c> and tuf-js
/// <c>canonicalize</c> produce it: keys sorted by code unit, no whitespace, integers only, and strings escaped only for
/// <c>\</c> and <c>"</c> (newlines in PEM keys and non-ASCII text are written raw as UTF-8). Not JSON in general (a
/// raw newline inside a string is not valid JSON): it is only ever hashed and signed, never parsed.
/// </summary>
public static class TufCanonicalJson
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <exception cref="TufException">A float, a non-finite number, or a string that is not valid UTF-16.</exception>
    public static byte[] Encode(JsonNode? node)
    {
        var output = new ArrayBufferWriter<byte>(1024);
        Write(node, output);
        return output.WrittenSpan.ToArray();
    }

    private static void Write(JsonNode? node, ArrayBufferWriter<byte> output)
    {
        switch (node)
        {
            case null:
                output.Write("null"u8);
                break;
            case JsonObject obj:
                // Ordinal comparison of UTF-16 code units: what JavaScript's default sort does (tuf-js).
                var members = obj.OrderBy(static p => p.Key, StringComparer.Ordinal).ToList();
                output.Write("{"u8);
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0)
                    {
                        output.Write(","u8);
                    }

                    WriteString(members[i].Key, output);
                    output.Write(":"u8);
                    Write(members[i].Value, output);
                }

                output.Write("}"u8);
                break;
            case JsonArray array:
                output.Write("["u8);
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        output.Write(","u8);
                    }

                    Write(array[i], output);
                }

                output.Write("]"u8);
                break;
            case JsonValue value:
                WriteValue(value, output);
                break;
            default:
                throw new TufException(TufError.BadFormat, "unsupported JSON node");
        }
    }

    private static void WriteValue(JsonValue value, ArrayBufferWriter<byte> output)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(value.GetValue<string>(), output);
                break;
            case JsonValueKind.True:
                output.Write("true"u8);
                break;
            case JsonValueKind.False:
                output.Write("false"u8);
                break;
            case JsonValueKind.Null:
                output.Write("null"u8);
                break;
            case JsonValueKind.Number:
                if (!TryGetInteger(value, out var integer))
                {
                    throw new TufException(TufError.BadFormat, "canonical JSON allows integers only");
                }

                output.Write(Encoding.ASCII.GetBytes(integer.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                break;
            default:
                throw new TufException(TufError.BadFormat, "unsupported JSON value");
        }
    }

    /// <summary>An integer JSON number (no fraction, no exponent), whatever CLR type holds it.</summary>
    internal static bool TryGetInteger(JsonValue value, out long integer)
    {
        if (value.TryGetValue(out integer))
        {
            return true;
        }

        if (value.TryGetValue<int>(out var i))
        {
            integer = i;
            return true;
        }

        if (value.TryGetValue<JsonElement>(out var element) && element.ValueKind == JsonValueKind.Number)
        {
            var raw = element.GetRawText();
            if (raw.All(static c => char.IsAsciiDigit(c) || c == '-') && element.TryGetInt64(out integer))
            {
                return true;
            }
        }

        integer = 0;
        return false;
    }

    private static void WriteString(string text, ArrayBufferWriter<byte> output)
    {
        var builder = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            if (c is '"' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        builder.Append('"');
        try
        {
            output.Write(s_strictUtf8.GetBytes(builder.ToString()));
        }
        catch (EncoderFallbackException ex)
        {
            throw new TufException(TufError.BadFormat, "a string holds a lone surrogate", ex);
        }
    }
}
