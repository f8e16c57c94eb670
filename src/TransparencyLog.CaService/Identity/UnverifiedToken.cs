using System.Buffers.Text;
using System.Text.Json;
using TransparencyLog.CaService.Errors;
using TransparencyLog.Sigstore.Json;

namespace TransparencyLog.CaService.Identity;

/// <summary>
/// The header and payload of a JWS compact token, decoded but not yet verified. Only <c>iss</c> (to pick the
/// issuer), <c>alg</c> and <c>kid</c> (to pick the key) are read before the signature is checked; the claims used
/// for the certificate are read from the same payload bytes after the signature over them has been verified.
/// </summary>
internal sealed class UnverifiedToken : IDisposable
{
    private const int MaxJsonDepth = 16;

    private readonly JsonDocument _header;
    private readonly JsonDocument _payload;

    private UnverifiedToken(JsonDocument header, JsonDocument payload)
    {
        _header = header;
        _payload = payload;
        Claims = new TokenClaims(payload.RootElement);
    }

    public TokenClaims Claims { get; }

    public string? Algorithm => _header.RootElement.TryGetProperty("alg", out var alg) && alg.ValueKind == JsonValueKind.String
        ? alg.GetString()
        : null;

    public string? KeyId => _header.RootElement.TryGetProperty("kid", out var kid) && kid.ValueKind == JsonValueKind.String
        ? kid.GetString()
        : null;

    /// <summary>
    /// Splits and decodes <paramref name="token"/>. The dot count is checked first, on the raw string, so that a
    /// token made of a million dots costs one linear scan and no allocation (GHSA-f83f-xpx7-ffpw).
    /// </summary>
    public static UnverifiedToken Parse(string token, int maxLength)
    {
        if (token.Length == 0)
        {
            throw Invalid("the identity token is empty");
        }

        if (token.Length > maxLength)
        {
            throw Invalid($"the identity token is longer than {maxLength} characters");
        }

        var span = token.AsSpan();
        if (span.Count('.') != 2)
        {
            throw Invalid("the identity token is not a signed JWT (expected three dot-separated parts)");
        }

        var firstDot = span.IndexOf('.');
        var secondDot = firstDot + 1 + span[(firstDot + 1)..].IndexOf('.');
        // An empty signature is left to the algorithm check, which names "none" as the reason.
        if (firstDot == 0 || secondDot == firstDot + 1)
        {
            throw Invalid("the identity token has an empty header or payload");
        }

        var header = ParseJsonPart(span[..firstDot], "header");
        try
        {
            var payload = ParseJsonPart(span[(firstDot + 1)..secondDot], "payload");
            return new UnverifiedToken(header, payload);
        }
        catch
        {
            header.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _header.Dispose();
        _payload.Dispose();
    }

    private static JsonDocument ParseJsonPart(ReadOnlySpan<char> part, string name)
    {
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(part);
        }
        catch (FormatException)
        {
            throw Invalid($"the identity token {name} is not base64url");
        }

        JsonDocument document;
        try
        {
            document = JsonInput.Parse(bytes, new JsonDocumentOptions { MaxDepth = MaxJsonDepth });
        }
        catch (NotUtf8JsonException)
        {
            throw Invalid($"the identity token {name} is not UTF-8 JSON");
        }
        catch (JsonException)
        {
            throw Invalid($"the identity token {name} is not JSON");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw Invalid($"the identity token {name} is not a JSON object");
        }

        // Two parsers disagreeing on a duplicated name ("iss" twice) is how signature checks get bypassed: the
        // JWT library and this class must see the same claims, so duplicates are refused outright.
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (!names.Add(property.Name))
            {
                document.Dispose();
                throw Invalid($"the identity token {name} has a duplicated member");
            }
        }

        return document;
    }

    private static CaException Invalid(string message) => new(CaErrorCode.InvalidIdentityToken, message);
}

/// <summary>Typed, checked access to token claims; every failure names the claim and never echoes the token.</summary>
internal sealed class TokenClaims(JsonElement root)
{
    public JsonElement Root => root;

    public bool Has(string name) => root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    /// <summary>A claim as a string: JSON strings as they are, numbers and booleans in their JSON spelling.</summary>
    public string? GetString(string name) => root.TryGetProperty(name, out var value) ? AsString(value) : null;

    public string GetRequiredString(string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            throw Missing(name);
        }

        var text = AsString(value)
            ?? throw new CaException(CaErrorCode.InvalidIdentityToken, $"claim '{name}' is not a string");
        return text.Length == 0 ? throw Missing(name) : text;
    }

    public static CaException Missing(string name) => new(CaErrorCode.MissingClaim, $"claim '{name}' is missing");

    internal static string? AsString(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };
}
