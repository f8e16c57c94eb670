using System.Text.Json;

namespace TransparencyLog.Sigstore.Rekor;

/// <summary>
/// Validates a Rekor v1 proposed entry (<c>POST /api/v1/log/entries</c> body), verifies its signatures and
/// reduces it to the canonical body the log stores.
/// </summary>
public static class ProposedEntryParser
{
    /// <exception cref="EntryRejectedException">The entry is malformed, unsupported, too large, or its signature does not verify.</exception>
    public static ProposedEntry Parse(ReadOnlySpan<byte> utf8Json, EntryLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);

        // Checked before parsing: the request must not cost more than its size allows.
        if (utf8Json.Length > limits.MaxRequestBytes)
        {
            throw new EntryRejectedException($"request exceeds the {limits.MaxRequestBytes}-byte limit");
        }

        using var document = RekorJson.Parse(utf8Json.ToArray(), "the request body");
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new EntryRejectedException("the request body must be a JSON object");
        }

        var kind = RekorJson.String(root, "kind", "kind");
        var apiVersion = RekorJson.String(root, "apiVersion", "apiVersion");
        var spec = RekorJson.Object(root, "spec", "spec");

        return (kind, apiVersion) switch
        {
            (HashedRekordV001.Kind, HashedRekordV001.ApiVersion) => HashedRekordV001.Parse(spec, limits),
            (DsseV001.Kind, DsseV001.ApiVersion) => DsseV001.Parse(spec, limits),
            (IntotoV002.Kind, IntotoV002.ApiVersion) => IntotoV002.Parse(spec, limits),
            (HashedRekordV001.Kind or DsseV001.Kind or IntotoV002.Kind, _) =>
                throw new EntryRejectedException($"unsupported apiVersion '{RekorJson.Echo(apiVersion)}' for kind '{kind}'"),
            _ => throw new EntryRejectedException($"unsupported entry kind '{RekorJson.Echo(kind)}'"),
        };
    }
}
