using System.Text.Json;
using Microsoft.Extensions.Options;
using TransparencyLog.LogService.Http;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.LogService.Rekor;
using TransparencyLog.LogService.Storage;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Json;

namespace TransparencyLog.LogService.RekorV2;

/// <summary>
/// Our addition to the Rekor v2 API (rekor-tiles has no search): <c>POST /api/v2/index/retrieve</c> takes the body of
/// Rekor v1's <c>/api/v1/index/retrieve</c> and answers <c>{"entries": [TransparencyLogEntry, ...]}</c>, each with an
/// inclusion proof against one current checkpoint, in index order, at most <c>Limits:MaxSearchResults</c>.
/// </summary>
internal static class RekorV2Search
{
    public static async Task<IResult> SearchAsync(
        HttpContext context, LogInstance log, EntryStore entries, LogHeads heads, ProofService proofs, IOptions<LimitsOptions> limits)
    {
        JsonElement request;
        try
        {
            request = RekorApi.ParseObject(await RequestBodies.ReadAsync(context.Request, limits.Value.MaxRequestBytes, context.RequestAborted));
        }
        catch (RequestTooLargeException e)
        {
            return RekorV2Error.Result(StatusCodes.Status413PayloadTooLarge, e.Message);
        }
        catch (NotUtf8JsonException)
        {
            return RekorV2Error.Result(StatusCodes.Status400BadRequest, "request body is not UTF-8 JSON");
        }
        catch (JsonException)
        {
            return RekorV2Error.Result(StatusCodes.Status400BadRequest, "request body is not a JSON object");
        }

        if (!SearchQuery.TryParse(request, out var query, out var error))
        {
            return RekorV2Error.Result(StatusCodes.Status400BadRequest, error);
        }

        // One head for every proof, read after the search: every index found is below its size.
        var indices = await entries.SearchAsync(log.Id, query.Keys, query.MatchAll, limits.Value.MaxSearchResults, context.RequestAborted);
        var head = await heads.GetServableAsync(log.Id, fresh: true, context.RequestAborted);
        var found = new List<JsonElement>(indices.Count);
        foreach (var index in indices.Where(i => i < head.Size))
        {
            if (await entries.GetByIndexAsync(log.Id, index, context.RequestAborted) is not { } entry)
            {
                continue;
            }

            var proof = await proofs.InclusionAsync(log.Id, index, head.Size, context.RequestAborted);
            if (!ProofVerifier.VerifyInclusion(index, head.Size, entry.LeafHash, proof, head.Root))
            {
                throw new LogStorageException($"log {log.Name}: inclusion proof for entry {index} at size {head.Size} does not verify");
            }

            var (kind, version) = KindOf(entry.Body);
            using var document = JsonDocument.Parse(TransparencyLogEntryWriter.Write(log, index, kind, version, entry.Body, head, proof));
            found.Add(document.RootElement.Clone());
        }

        return TypedResults.Json(new SearchResult(found));
    }

    /// <summary>A v2 entry body is an <c>Entry</c> message naming its own kind and apiVersion.</summary>
    private static (string Kind, string Version) KindOf(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        return (
            root.TryGetProperty("kind", out var kind) ? kind.GetString() ?? "" : "",
            root.TryGetProperty("apiVersion", out var version) ? version.GetString() ?? "" : "");
    }

    /// <summary>The search answer: matching entries as <c>dev.sigstore.rekor.v1.TransparencyLogEntry</c> protobuf-JSON.</summary>
    internal sealed record SearchResult(IReadOnlyList<JsonElement> Entries);
}
