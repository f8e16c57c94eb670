using System.Text.Json;

namespace TransparencyLog.LogService.Rekor;

/// <summary>
/// The body of <c>POST /api/v1/index/retrieve</c> (and our <c>/api/v2/index/retrieve</c>): any of <c>hash</c>,
/// <c>publicKey.content</c>, <c>email</c> and <c>subject</c>, combined by <c>operator</c> (<c>and</c> by default).
/// </summary>
internal sealed record SearchQuery(IReadOnlyList<string> Keys, bool MatchAll)
{
    private const int MaxSubjectLength = 4096;
    private const int MaxEmailLength = 320;

    /// <summary>Parses the request; on failure <paramref name="error"/> says which field is wrong.</summary>
    public static bool TryParse(JsonElement request, out SearchQuery query, out string error)
    {
        query = new SearchQuery([], true);
        error = "";
        var keys = new List<string>();
        if (request.TryGetProperty("hash", out var hash) && hash.ValueKind == JsonValueKind.String)
        {
            if (!SearchKeys.TryArtifactHash(hash.GetString() ?? "", out var key))
            {
                error = "hash must be <algorithm>:<hex digest> (sha256, sha384 or sha512) or a bare sha256 hex digest";
                return false;
            }

            keys.Add(key);
        }

        if (request.TryGetProperty("publicKey", out var publicKey) && publicKey.ValueKind == JsonValueKind.Object)
        {
            if (!publicKey.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String
                || !SearchKeys.TryPublicKey(content.GetString() ?? "", out var key))
            {
                error = "publicKey.content must be a base64 PEM public key or certificate";
                return false;
            }

            keys.Add(key);
        }

        if (request.TryGetProperty("email", out var email) && email.ValueKind == JsonValueKind.String)
        {
            var address = email.GetString() ?? "";
            if (address.Length is 0 or > MaxEmailLength || !address.Contains('@', StringComparison.Ordinal))
            {
                error = "email is not an email address";
                return false;
            }

            keys.Add(SearchKeys.Identity(address));
        }

        if (request.TryGetProperty("subject", out var subject) && subject.ValueKind == JsonValueKind.String)
        {
            var value = subject.GetString() ?? "";
            if (value.Length is 0 or > MaxSubjectLength)
            {
                error = "subject must be 1 to 4096 characters";
                return false;
            }

            keys.Add(SearchKeys.Identity(value));
        }

        if (keys.Count == 0)
        {
            error = "give at least one of hash, publicKey, email or subject";
            return false;
        }

        var matchAll = true;
        if (request.TryGetProperty("operator", out var op) && op.ValueKind == JsonValueKind.String)
        {
            switch (op.GetString())
            {
                case "and":
                    break;
                case "or":
                    matchAll = false;
                    break;
                default:
                    error = "operator must be \"and\" or \"or\"";
                    return false;
            }
        }

        query = new SearchQuery(keys, matchAll);
        return true;
    }
}
