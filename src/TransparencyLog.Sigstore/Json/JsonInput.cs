using System.Text.Json;
using System.Text.Unicode;

namespace TransparencyLog.Sigstore.Json;

/// <summary>
/// The one way untrusted JSON bytes are parsed. <see cref="JsonDocument"/> checks the structure but leaves string
/// contents undecoded until they are read, so bytes that are not UTF-8 inside a string (or a property name) pass the
/// parse and throw <see cref="InvalidOperationException"/> later, wherever the value happens to be read, far from the
/// caller's error mapping. RFC 8259 §8.1 requires UTF-8: the whole text is checked before parsing instead. The same
/// holds for an escaped lone surrogate (<c>"\ud800"</c>): valid JSON syntax that no string can hold, so it is refused
/// here too.
/// </summary>
public static class JsonInput
{
    /// <exception cref="NotUtf8JsonException">The bytes are not UTF-8.</exception>
    /// <exception cref="JsonException">The text is not JSON, holds an escaped lone surrogate, or is nested deeper than
    /// <paramref name="options"/> allow.</exception>
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8Json, JsonDocumentOptions options = default)
    {
        if (!Utf8.IsValid(utf8Json.Span))
        {
            throw new NotUtf8JsonException();
        }

        var document = JsonDocument.Parse(utf8Json, options);
        try
        {
            CheckEscapes(utf8Json.Span, options);
        }
        catch
        {
            document.Dispose();
            throw;
        }

        return document;
    }

    /// <summary>Text that arrived as a string (already decoded): encoded as UTF-8, then parsed as <see cref="Parse(ReadOnlyMemory{byte}, JsonDocumentOptions)"/>.</summary>
    public static JsonDocument Parse(string json, JsonDocumentOptions options = default) =>
        Parse(System.Text.Encoding.UTF8.GetBytes(json), options);

    /// <summary>
    /// Every escaped string and property name must decode: an escaped surrogate without its pair throws
    /// <see cref="InvalidOperationException"/> when read (found by reading, 2026-12-06: <c>{"kind":"\ud800"}</c>
    /// crashed the Rekor and bundle parsers). Text without <c>\u</c> cannot hold one and is not scanned again.
    /// </summary>
    /// <exception cref="JsonException">An escaped string does not decode (or the text is not JSON).</exception>
    internal static void CheckEscapes(ReadOnlySpan<byte> utf8Json, JsonDocumentOptions options)
    {
        if (utf8Json.IndexOf("\\u"u8) < 0)
        {
            return;
        }

        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions
        {
            AllowTrailingCommas = options.AllowTrailingCommas,
            CommentHandling = options.CommentHandling,
            MaxDepth = options.MaxDepth,
        });
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
            {
                try
                {
                    _ = reader.GetString();
                }
                catch (InvalidOperationException)
                {
                    throw new JsonException("a string holds an escaped surrogate without its pair");
                }
            }
        }
    }
}

/// <summary>JSON input that is not UTF-8: a client error, like any other <see cref="JsonException"/>.</summary>
public sealed class NotUtf8JsonException() : JsonException("the JSON text is not UTF-8");
