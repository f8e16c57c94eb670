using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Json;

namespace TransparencyLog.Sigstore.Rekor;

/// <summary>Field access over a proposed entry with errors that name the JSON path, never the value.</summary>
internal static class RekorJson
{
    private const int MaxEchoedLength = 40;

    private static readonly JsonDocumentOptions s_options = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 32,
        AllowDuplicateProperties = false,
    };

    /// <summary>
    /// A proposed entry's request body: its size checked against <paramref name="limits"/> before parsing (the
    /// request must not cost more than its size allows), then parsed, and its root must be an object.
    /// </summary>
    public static JsonDocument ParseRequest(ReadOnlySpan<byte> utf8Json, EntryLimits limits) =>
        utf8Json.Length > limits.MaxRequestBytes
            ? throw new EntryRejectedException($"request exceeds the {limits.MaxRequestBytes}-byte limit")
            : ParseRequest(utf8Json.ToArray().AsMemory(), limits);

    /// <inheritdoc cref="ParseRequest(ReadOnlySpan{byte}, EntryLimits)"/>
    /// <remarks>The document reads <paramref name="utf8Json"/> in place: it must not change while the document lives.</remarks>
    public static JsonDocument ParseRequest(ReadOnlyMemory<byte> utf8Json, EntryLimits limits)
    {
        if (utf8Json.Length > limits.MaxRequestBytes)
        {
            throw new EntryRejectedException($"request exceeds the {limits.MaxRequestBytes}-byte limit");
        }

        var document = Parse(utf8Json, "the request body");
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new EntryRejectedException("the request body must be a JSON object");
        }

        return document;
    }

    public static JsonDocument Parse(ReadOnlyMemory<byte> utf8Json, string what)
    {
        try
        {
            return JsonInput.Parse(utf8Json, s_options);
        }
        catch (NotUtf8JsonException)
        {
            throw new EntryRejectedException($"{what} is not valid JSON: it is not UTF-8");
        }
        catch (JsonException)
        {
            throw new EntryRejectedException($"{what} is not valid JSON");
        }
    }

    public static JsonElement Object(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw new EntryRejectedException($"missing {path}");
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new EntryRejectedException($"{path} must be an object");
        }

        return value;
    }

    public static JsonElement Array(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw new EntryRejectedException($"missing {path}");
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new EntryRejectedException($"{path} must be an array");
        }

        return value;
    }

    public static string String(JsonElement parent, string name, string path)
    {
        var value = OptionalString(parent, name, path);
        if (string.IsNullOrEmpty(value))
        {
            throw new EntryRejectedException($"missing {path}");
        }

        return value;
    }

    public static string? OptionalString(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new EntryRejectedException($"{path} must be a string");
        }

        return value.GetString();
    }

    /// <summary>Standard base64 with padding, no whitespace: the encoding every Rekor client sends.</summary>
    public static byte[] DecodeBase64(string value, string path)
    {
        if (value.Length == 0)
        {
            throw new EntryRejectedException($"missing {path}");
        }

        var buffer = new byte[(value.Length / 4 * 3) + 3];
        if (value.Length % 4 != 0 || value.Any(char.IsWhiteSpace) || !Convert.TryFromBase64String(value, buffer, out var written))
        {
            throw new EntryRejectedException($"invalid base64 in {path}");
        }

        return buffer[..written];
    }

    /// <summary>A short, printable rendering of client input for error messages.</summary>
    public static string Echo(string value)
    {
        var builder = new StringBuilder();
        foreach (var c in value.Take(MaxEchoedLength))
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '/' or '+' ? c : '?');
        }

        if (value.Length > MaxEchoedLength)
        {
            builder.Append('…');
        }

        return builder.ToString();
    }

    public static byte[] Canonicalize(JsonObject body, EntryLimits limits) => CheckCanonicalSize(CanonicalJson.Canonicalize(body), limits);

    /// <summary>A canonical body within <see cref="EntryLimits.MaxCanonicalBodyBytes"/>, or the entry is rejected.</summary>
    public static byte[] CheckCanonicalSize(byte[] bytes, EntryLimits limits)
    {
        if (bytes.Length > limits.MaxCanonicalBodyBytes)
        {
            throw new EntryRejectedException($"entry exceeds the {limits.MaxCanonicalBodyBytes}-byte limit");
        }

        return bytes;
    }

    public static JsonObject HashObject(string algorithm, string hex) => new()
    {
        ["algorithm"] = algorithm,
        ["value"] = hex,
    };
}
