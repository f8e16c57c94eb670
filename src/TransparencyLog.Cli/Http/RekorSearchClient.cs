using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Sigstore.Bundles;

namespace TransparencyLog.Cli.Http;

/// <summary>The search and retrieval calls of the audit commands: Rekor v1's index and our Rekor v2 search.</summary>
internal sealed class RekorSearchClient(HttpClient http, string baseUrl)
{
    private const string Service = "the transparency log";

    /// <summary><c>POST /api/v1/index/retrieve</c>: UUIDs of the matching entries.</summary>
    public async Task<IReadOnlyList<string>> SearchV1Async(JsonObject query, CancellationToken cancellationToken)
    {
        var url = ServiceCall.Url(baseUrl, "/api/v1/index/retrieve");
        var (status, body, response) = await ServiceCall.PostJsonAsync(http, url, query, Service, cancellationToken);
        using (response)
        {
            ServiceCall.EnsureSuccess(status, body, Service, url);
        }

        using var document = ServiceCall.ParseJson(body, Service);
        if (document.RootElement.ValueKind != JsonValueKind.Array || document.RootElement.EnumerateArray().Any(static e => e.ValueKind != JsonValueKind.String))
        {
            throw new CliException(ExitCodes.Error, "the log's search answer is not a list of UUIDs");
        }

        return [.. document.RootElement.EnumerateArray().Select(static e => e.GetString() ?? "")];
    }

    /// <summary><c>POST /api/v2/index/retrieve</c> (our addition to Rekor v2): the matching entries with their proofs.</summary>
    public async Task<IReadOnlyList<TransparencyLogEntry>> SearchV2Async(JsonObject query, CancellationToken cancellationToken)
    {
        var url = ServiceCall.Url(baseUrl, "/api/v2/index/retrieve");
        var (status, body, response) = await ServiceCall.PostJsonAsync(http, url, query, Service, cancellationToken);
        using (response)
        {
            ServiceCall.EnsureSuccess(status, body, Service, url);
        }

        using var document = ServiceCall.ParseJson(body, Service);
        if (!document.RootElement.TryGetProperty("entries", out var entries) || entries.ValueKind != JsonValueKind.Array)
        {
            throw new CliException(ExitCodes.Error, "the log's search answer has no entries list");
        }

        var result = new List<TransparencyLogEntry>();
        foreach (var entry in entries.EnumerateArray())
        {
            result.Add(ParseV2Entry(entry));
        }

        return result;
    }

    /// <summary>
    /// <c>POST /api/v1/log/entries/retrieve</c> with one proposed entry: the logged entry it corresponds to, if any
    /// (how rekor-cli finds an entry from an artifact, signature and key).
    /// </summary>
    public async Task<(string Uuid, TransparencyLogEntry Entry)?> RetrieveByProposedAsync(JsonObject proposed, CancellationToken cancellationToken)
    {
        var url = ServiceCall.Url(baseUrl, "/api/v1/log/entries/retrieve");
        var (status, body, response) = await ServiceCall.PostJsonAsync(http, url, new JsonObject { ["entries"] = new JsonArray(proposed.DeepClone()) }, Service, cancellationToken);
        using (response)
        {
            ServiceCall.EnsureSuccess(status, body, Service, url);
        }

        using var document = ServiceCall.ParseJson(body, Service);
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new CliException(ExitCodes.Error, "the log's retrieve answer is not a list");
        }

        var first = document.RootElement.EnumerateArray().FirstOrDefault();
        if (first.ValueKind != JsonValueKind.Object || !first.EnumerateObject().Any())
        {
            return null;
        }

        try
        {
            return RekorEntryConverter.FromResponse(first.GetRawText());
        }
        catch (BundleFormatException ex)
        {
            throw new CliException(ExitCodes.Error, $"the log sent an entry that cannot be used: {ex.Message}");
        }
    }

    private static TransparencyLogEntry ParseV2Entry(JsonElement entry)
    {
        try
        {
            return RekorEntryConverter.FromTransparencyLogEntry(entry.GetRawText());
        }
        catch (BundleFormatException ex)
        {
            throw new CliException(ExitCodes.Error, $"the log sent an entry that cannot be used: {ex.Message}");
        }
    }
}
