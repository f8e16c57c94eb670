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

        using var document = RekorJson.ParseRequest(utf8Json, limits);
        return Parse(document, limits);
    }

    /// <inheritdoc cref="Parse(ReadOnlySpan{byte}, EntryLimits)"/>
    /// <remarks>The array is parsed in place (no copy) and not kept.</remarks>
    public static ProposedEntry Parse(byte[] utf8Json, EntryLimits limits)
    {
        ArgumentNullException.ThrowIfNull(utf8Json);
        ArgumentNullException.ThrowIfNull(limits);

        using var document = RekorJson.ParseRequest(utf8Json.AsMemory(), limits);
        return Parse(document, limits);
    }

    private static ProposedEntry Parse(JsonDocument document, EntryLimits limits)
    {
        var root = document.RootElement;

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
