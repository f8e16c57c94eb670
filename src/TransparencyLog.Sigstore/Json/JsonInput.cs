using System.Text.Json;
using System.Text.Unicode;

namespace TransparencyLog.Sigstore.Json;

/// <summary>
/// The one way untrusted JSON bytes are parsed. <see cref="JsonDocument"/> checks the structure but leaves string
/// contents undecoded until they are read, so bytes that are not UTF-8 inside a string (or a property name) pass the
/// parse and throw <see cref="InvalidOperationException"/> later, wherever the value happens to be read, far from the
/// caller's error mapping. RFC 8259 §8.1 requires UTF-8: the whole text is checked before parsing instead.
/// </summary>
public static class JsonInput
{
    /// <exception cref="NotUtf8JsonException">The bytes are not UTF-8.</exception>
    /// <exception cref="JsonException">The text is not JSON, or is nested deeper than <paramref name="options"/> allow.</exception>
    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8Json, JsonDocumentOptions options = default)
    {
        if (!Utf8.IsValid(utf8Json.Span))
        {
            throw new NotUtf8JsonException();
        }

        return JsonDocument.Parse(utf8Json, options);
    }
}

/// <summary>JSON input that is not UTF-8: a client error, like any other <see cref="JsonException"/>.</summary>
public sealed class NotUtf8JsonException() : JsonException("the JSON text is not UTF-8");
