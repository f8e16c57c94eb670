using System.Globalization;
using System.Text.Json;

namespace TransparencyLog.Sigstore.Bundles;

/// <summary>
/// Reading protobuf-JSON as the sigstore clients write it: camelCase names, int64 as strings (numbers tolerated),
/// bytes as standard base64 (URL-safe tolerated, as protobuf parsers do). Errors name the JSON path, never the value.
/// </summary>
internal static class ProtoJson
{
    public static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 32,
    };

    /// <summary>
    /// The member <paramref name="name"/> of <paramref name="parent"/>, absent when missing or null. A parent that is
    /// not an object (a string where a message belongs) is a format error naming the parent's path, not the
    /// InvalidOperationException JsonElement would throw.
    /// </summary>
    private static bool TryGetMember(JsonElement parent, string name, string path, out JsonElement value)
    {
        if (parent.ValueKind != JsonValueKind.Object)
        {
            var dot = path.LastIndexOf('.');
            throw new BundleFormatException($"{(dot > 0 ? path[..dot] : path)} must be an object");
        }

        return parent.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;
    }

    public static JsonElement? OptionalObject(JsonElement parent, string name, string path)
    {
        if (!TryGetMember(parent, name, path, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Object ? value : throw new BundleFormatException($"{path} must be an object");
    }

    public static JsonElement Object(JsonElement parent, string name, string path) =>
        OptionalObject(parent, name, path) ?? throw new BundleFormatException($"missing {path}");

    public static IEnumerable<JsonElement> Array(JsonElement parent, string name, string path)
    {
        if (!TryGetMember(parent, name, path, out var value))
        {
            return [];
        }

        return value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray()
            : throw new BundleFormatException($"{path} must be an array");
    }

    public static string? OptionalString(JsonElement parent, string name, string path)
    {
        if (!TryGetMember(parent, name, path, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw new BundleFormatException($"{path} must be a string");
    }

    public static string String(JsonElement parent, string name, string path)
    {
        var value = OptionalString(parent, name, path);
        return string.IsNullOrEmpty(value) ? throw new BundleFormatException($"missing {path}") : value;
    }

    /// <summary>An int64 written as a decimal string (protobuf-JSON) or as a JSON number. Absent means 0.</summary>
    public static long Int64(JsonElement parent, string name, string path)
    {
        if (!TryGetMember(parent, name, path, out var value))
        {
            return 0;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt64(out var number) => number,
            JsonValueKind.String when long.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => throw new BundleFormatException($"{path} must be an integer"),
        };
    }

    public static byte[]? OptionalBytes(JsonElement parent, string name, string path)
    {
        var text = OptionalString(parent, name, path);
        return text is null ? null : Base64(text, path);
    }

    public static byte[] Bytes(JsonElement parent, string name, string path) =>
        OptionalBytes(parent, name, path) ?? throw new BundleFormatException($"missing {path}");

    public static byte[] Base64(string text, string path)
    {
        var normalized = text.Replace('-', '+').Replace('_', '/');
        if (normalized.Length % 4 != 0)
        {
            normalized = normalized.PadRight(normalized.Length + (4 - (normalized.Length % 4)), '=');
        }

        try
        {
            return Convert.FromBase64String(normalized);
        }
        catch (FormatException)
        {
            throw new BundleFormatException($"invalid base64 in {path}");
        }
    }

    public static DateTimeOffset? OptionalTime(JsonElement parent, string name, string path)
    {
        var text = OptionalString(parent, name, path);
        if (text is null)
        {
            return null;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new BundleFormatException($"{path} must be an RFC 3339 timestamp");
    }

    /// <summary>RFC 3339 in UTC with whole seconds when possible, as protobuf's Timestamp JSON mapping writes it.</summary>
    public static string FormatTime(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return utc.Millisecond == 0 && utc.Microsecond == 0
            ? utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
    }

    public static string Int64String(long value) => value.ToString(CultureInfo.InvariantCulture);
}
