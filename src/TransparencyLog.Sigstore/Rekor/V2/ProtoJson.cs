using System.Text.Json;

namespace TransparencyLog.Sigstore.Rekor.V2;

/// <summary>
/// Field access over protobuf-JSON (the mapping grpc-gateway and protojson use): each field may be spelled with its
/// JSON name (lowerCamelCase) or its proto name; <c>null</c> means absent; unknown fields are ignored, as rekor-tiles'
/// gateway does; bytes are base64 in either alphabet, padding optional. Errors name the field, never echo its value.
/// </summary>
internal static class ProtoJson
{
    /// <summary>The field's value, or false when absent or null. Both spellings at once is an error.</summary>
    public static bool TryGet(JsonElement parent, string jsonName, string protoName, string path, out JsonElement value)
    {
        var hasJson = parent.TryGetProperty(jsonName, out var byJson) && byJson.ValueKind != JsonValueKind.Null;
        var hasProto = protoName != jsonName && parent.TryGetProperty(protoName, out value) && value.ValueKind != JsonValueKind.Null;
        if (hasJson && hasProto)
        {
            throw new EntryRejectedException($"{path} is given twice (as {jsonName} and {protoName})");
        }

        if (hasJson)
        {
            value = byJson;
            return true;
        }

        if (hasProto)
        {
            parent.TryGetProperty(protoName, out value);
            return true;
        }

        value = default;
        return false;
    }

    public static JsonElement Object(JsonElement parent, string jsonName, string protoName, string path)
    {
        if (!TryGet(parent, jsonName, protoName, path, out var value))
        {
            throw new EntryRejectedException($"missing {path}");
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new EntryRejectedException($"{path} must be an object");
        }

        return value;
    }

    public static JsonElement Array(JsonElement parent, string jsonName, string protoName, string path)
    {
        if (!TryGet(parent, jsonName, protoName, path, out var value))
        {
            throw new EntryRejectedException($"missing {path}");
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new EntryRejectedException($"{path} must be an array");
        }

        return value;
    }

    /// <summary>A string field; empty and absent are the same in proto3, and both are refused here.</summary>
    public static string String(JsonElement parent, string jsonName, string protoName, string path)
    {
        if (!TryGet(parent, jsonName, protoName, path, out var value))
        {
            throw new EntryRejectedException($"missing {path}");
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new EntryRejectedException($"{path} must be a string");
        }

        var text = value.GetString();
        return string.IsNullOrEmpty(text) ? throw new EntryRejectedException($"missing {path}") : text;
    }

    /// <summary>A required, non-empty bytes field.</summary>
    public static byte[] Bytes(JsonElement parent, string jsonName, string protoName, string path, int maxBytes)
    {
        if (!TryGet(parent, jsonName, protoName, path, out var value))
        {
            throw new EntryRejectedException($"missing {path}");
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw new EntryRejectedException($"{path} must be a base64 string");
        }

        var bytes = DecodeBase64(value.GetString() ?? string.Empty, path, maxBytes);
        return bytes.Length == 0 ? throw new EntryRejectedException($"missing {path}") : bytes;
    }

    /// <summary>
    /// protojson accepts standard and URL-safe base64, padded or not (but not both alphabets at once); whitespace is
    /// refused. The size bound is checked on the text length before anything is decoded.
    /// </summary>
    public static byte[] DecodeBase64(string text, string path, int maxBytes)
    {
        if (text.Length / 4 * 3 > maxBytes + 3)
        {
            throw new EntryRejectedException($"{path} exceeds the {maxBytes}-byte limit");
        }

        var urlSafe = text.AsSpan().IndexOfAny('-', '_') >= 0;
        if (urlSafe && text.AsSpan().IndexOfAny('+', '/') >= 0)
        {
            throw new EntryRejectedException($"invalid base64 in {path}");
        }

        var standard = urlSafe ? text.Replace('-', '+').Replace('_', '/') : text;
        if (standard.Length % 4 == 1)
        {
            throw new EntryRejectedException($"invalid base64 in {path}");
        }

        if (standard.Length % 4 != 0)
        {
            standard = standard.PadRight(standard.Length + (4 - (standard.Length % 4)), '=');
        }

        var buffer = new byte[standard.Length / 4 * 3];
        if (standard.AsSpan().ContainsAny(" \t\r\n") || !Convert.TryFromBase64String(standard, buffer, out var written))
        {
            throw new EntryRejectedException($"invalid base64 in {path}");
        }

        return written > maxBytes
            ? throw new EntryRejectedException($"{path} exceeds the {maxBytes}-byte limit")
            : buffer[..written];
    }
}
