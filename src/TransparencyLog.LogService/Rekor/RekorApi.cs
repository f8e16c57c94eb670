using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;
using TransparencyLog.LogService.Http;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.LogService.Sequencing;
using TransparencyLog.LogService.Storage;
using TransparencyLog.LogService.Witnessing;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Json;
using TransparencyLog.Sigstore.Rekor;

namespace TransparencyLog.LogService.Rekor;

/// <summary>The Rekor v1 REST API, wire-compatible with what sigstore clients, cosign and rekor-cli use.</summary>
internal static class RekorApi
{
    public static IHostApplicationBuilder AddRekorApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<EntryReader>();
        return builder;
    }

    public static IEndpointRouteBuilder MapRekorApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/v1").AnswerStorageOutage(RekorError.Result);
        api.MapPost("/log/entries", CreateEntryAsync);
        api.MapGet("/log", GetLogInfoAsync);
        api.MapGet("/log/publicKey", GetPublicKey);
        api.MapGet("/log/verifierKey", GetVerifierKey);
        api.MapGet("/log/proof", GetConsistencyProofAsync);
        api.MapGet("/log/entries", GetEntryByIndexAsync);
        api.MapGet("/log/entries/{entryUUID}", GetEntryByIdAsync);
        api.MapPost("/log/entries/retrieve", RetrieveEntriesAsync);
        api.MapPost("/index/retrieve", SearchIndexAsync);
        return app;
    }

    private static async Task<IResult> CreateEntryAsync(
        HttpContext context, LogRegistry registry, Sequencers sequencers, EntryStore entries, CosignedCheckpoints cosigned, IOptions<LimitsOptions> limits)
    {
        var log = registry.Get(LogKind.RekorV1);
        ProposedEntry proposed;
        try
        {
            var body = await RequestBodies.ReadAsync(context.Request, limits.Value.MaxRequestBytes, context.RequestAborted);
            proposed = ProposedEntryParser.Parse(body, limits.Value.ToEntryLimits());
        }
        catch (RequestTooLargeException e)
        {
            return RekorError.Result(StatusCodes.Status413PayloadTooLarge, e.Message);
        }
        catch (EntryRejectedException e)
        {
            return RekorError.Result(StatusCodes.Status400BadRequest, e.Message);
        }

        var entry = new EntryToAppend(proposed.CanonicalBody, proposed.Kind, proposed.ApiVersion, SearchKeys.For(proposed.IndexKeys));
        foreach (var shard in registry.FrozenRekorShards)
        {
            // The same entry in a frozen shard is the same entry: answered as a duplicate there, never added again.
            if (await entries.GetByLeafHashAsync(shard.Log.Id, entry.LeafHash, context.RequestAborted) is not null)
            {
                var existing = RekorEntryWriter.EntryId(shard.Log, entry.LeafHash);
                context.Response.Headers.Location = $"/api/v1/log/entries/{existing}";
                return RekorError.Result(StatusCodes.Status409Conflict, $"an equivalent entry already exists in the transparency log with UUID {existing}");
            }
        }

        var (outcome, failure) = await sequencers.For(log).TryAppendAsync(entry);
        if (failure is { ShardFrozen: true })
        {
            // `shard rotate` froze the shard this process appended to: follow it to the new shard and append there,
            // so writers see no interruption. Without the new shard's key, say where the log went.
            var active = await registry.RefreshRekorShardsAsync(context.RequestAborted);
            if (active.Id != log.Id)
            {
                log = active;
                (outcome, failure) = await sequencers.For(log).TryAppendAsync(entry);
            }
            else if (registry.ActiveShardUnavailable is { } reason)
            {
                failure = failure with { Message = failure.Message + "; " + reason };
            }
        }

        if (failure is not null)
        {
            failure.SetRetryAfter(context.Response);
            return RekorError.Result(failure.Status, failure.Message);
        }

        switch (outcome)
        {
            case Appended appended:
            {
                var id = RekorEntryWriter.EntryId(log, entry.LeafHash);
                context.Response.Headers.Location = $"/api/v1/log/entries/{id}";
                context.Response.Headers.ETag = id;
                var beside = await cosigned.BesideAsync(log, appended.Head, context.RequestAborted);
                var verified = new VerifiedEntry(appended.Index, entry.Body, appended.IntegratedTime, appended.EntrySignature, entry.LeafHash, appended.Head, appended.InclusionProof, beside);
                return new JsonBytes(RekorEntryWriter.Map(log, verified), StatusCodes.Status201Created);
            }

            case AlreadyPresent:
            {
                var id = RekorEntryWriter.EntryId(log, entry.LeafHash);
                context.Response.Headers.Location = $"/api/v1/log/entries/{id}";
                return RekorError.Result(StatusCodes.Status409Conflict, $"an equivalent entry already exists in the transparency log with UUID {id}");
            }

            case AppendedWithoutProof added:
            {
                // Durable, but without a proof to return: say so, and where the complete entry can be read.
                var id = RekorEntryWriter.EntryId(log, entry.LeafHash);
                context.Response.Headers.Location = $"/api/v1/log/entries/{id}";
                return RekorError.Result(
                    StatusCodes.Status500InternalServerError,
                    $"the entry was added at log index {added.Index} (UUID {id}) but its inclusion proof could not be built; retrieve it from the Location");
            }

            default:
                throw new InvalidOperationException("unknown append outcome");
        }
    }

    private static async Task<IResult> GetLogInfoAsync(string? treeID, LogRegistry registry, LogHeads heads, CancellationToken cancellationToken)
    {
        if (ShardByTreeId(registry, treeID) is not { } log)
        {
            return RekorError.Result(StatusCodes.Status400BadRequest, $"unknown treeID {Truncate(treeID!)}");
        }

        var head = await heads.GetServableAsync(log.Id, fresh: log.FrozenAt is null, cancellationToken);
        if (log != registry.Get(LogKind.RekorV1))
        {
            // One shard named by treeID (a frozen one: its final head), without the list of the others.
            return TypedResults.Json(new
            {
                rootHash = head.Root.ToString(),
                treeSize = head.Size,
                signedTreeHead = head.Checkpoint,
                treeID = log.TreeId.ToString(CultureInfo.InvariantCulture),
            });
        }

        return TypedResults.Json(new
        {
            rootHash = head.Root.ToString(),
            treeSize = head.Size,
            signedTreeHead = head.Checkpoint,
            treeID = log.TreeId.ToString(CultureInfo.InvariantCulture),
            inactiveShards = await InactiveShardsAsync(registry, heads, cancellationToken),
        });
    }

    /// <summary>Rekor's <c>inactiveShards</c>: each frozen shard's final tree head, oldest first.</summary>
    private static async Task<object[]> InactiveShardsAsync(LogRegistry registry, LogHeads heads, CancellationToken cancellationToken)
    {
        var shards = new List<object>();
        foreach (var shard in registry.FrozenRekorShards)
        {
            var head = await heads.GetServableAsync(shard.Log.Id, fresh: false, cancellationToken);
            shards.Add(new
            {
                rootHash = head.Root.ToString(),
                treeSize = head.Size,
                signedTreeHead = head.Checkpoint,
                treeID = shard.Log.TreeId.ToString(CultureInfo.InvariantCulture),
            });
        }

        return [.. shards];
    }

    /// <summary>The shard a <c>treeID</c> parameter names (decimal, as Rekor's); the active one when absent.</summary>
    private static LogInstance? ShardByTreeId(LogRegistry registry, string? treeID) =>
        treeID is null
            ? registry.Get(LogKind.RekorV1)
            : registry.RekorShards.FirstOrDefault(s => s.TreeId.ToString(CultureInfo.InvariantCulture) == treeID);

    private static IResult GetPublicKey(string? treeID, LogRegistry registry) =>
        ShardByTreeId(registry, treeID) is { } log
            ? TypedResults.Text(log.Signer.PublicKeyPem, "application/x-pem-file")
            : RekorError.Result(StatusCodes.Status400BadRequest, $"unknown treeID {Truncate(treeID!)}");

    /// <summary>Our addition: the C2SP verifier key (<c>name+keyid+key</c>) for checking checkpoints with note tools.</summary>
    private static ContentHttpResult GetVerifierKey(LogRegistry registry) =>
        TypedResults.Text(registry.Get(LogKind.RekorV1).VerifierKey + "\n", "text/plain; charset=utf-8");

    private static async Task<IResult> GetConsistencyProofAsync(
        string? firstSize, string? lastSize, string? treeID, LogRegistry registry, LogHeads heads, ProofService proofs, CancellationToken cancellationToken)
    {
        if (ShardByTreeId(registry, treeID) is not { } log)
        {
            return RekorError.Result(StatusCodes.Status400BadRequest, $"unknown treeID {Truncate(treeID!)}");
        }

        // Rekor defaults firstSize to 1; lastSize is required.
        if (!TryParseSize(firstSize ?? "1", out var first) || first < 1)
        {
            return RekorError.Result(StatusCodes.Status400BadRequest, "firstSize must be an integer of at least 1");
        }

        if (!TryParseSize(lastSize, out var last))
        {
            return RekorError.Result(StatusCodes.Status400BadRequest, "lastSize must be an integer");
        }

        if (first > last)
        {
            return RekorError.Result(StatusCodes.Status400BadRequest, "firstSize must not exceed lastSize");
        }

        var head = await heads.GetAsync(log.Id, fresh: true, cancellationToken);
        if (last > head.Size)
        {
            // A standby may lag the head the client was given; the primary has the last word.
            head = await heads.GetNewestAsync(log.Id, cancellationToken);
        }

        if (last > head.Size)
        {
            return RekorError.Result(StatusCodes.Status400BadRequest, $"lastSize {last} is beyond the current tree size {head.Size}");
        }

        var proof = await proofs.ConsistencyAsync(log.Id, first, last, cancellationToken);
        var root = last == head.Size ? head.Root : await proofs.RootAsync(log.Id, last, cancellationToken);
        return TypedResults.Json(new { rootHash = root.ToString(), hashes = proof.Select(h => h.ToString()).ToArray() });
    }

    private static async Task<IResult> GetEntryByIndexAsync(string? logIndex, LogRegistry registry, EntryReader reader, CancellationToken cancellationToken)
    {
        if (!long.TryParse(logIndex, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return RekorError.Result(StatusCodes.Status400BadRequest, "logIndex must be a non-negative integer");
        }

        // The global index across shards, as Rekor's: the shard holding it answers with its local index in the proof.
        var found = registry.ShardOf(index);
        var log = found?.Log ?? registry.Get(LogKind.RekorV1);
        var entry = found is { } at ? await reader.ByIndexAsync(at.Log, at.LocalIndex, cancellationToken) : null;
        return entry is null
            ? RekorError.Result(StatusCodes.Status404NotFound, $"no entry at log index {index}")
            : RekorEntryWriter.Result(log, entry);
    }

    private static async Task<IResult> GetEntryByIdAsync([FromRoute(Name = "entryUUID")] string entryId, LogRegistry registry, EntryReader reader, CancellationToken cancellationToken)
    {
        if (!TryParseEntryId(registry, entryId, out var shards, out var leafHash, out var error))
        {
            return RekorError.Result(StatusCodes.Status400BadRequest, error);
        }

        var found = await FindAsync(shards, leafHash, reader, cancellationToken);
        return found is not { } hit
            ? RekorError.Result(StatusCodes.Status404NotFound, $"no entry with UUID {entryId}")
            : RekorEntryWriter.Result(hit.Log, hit.Entry);
    }

    private static async Task<IResult> RetrieveEntriesAsync(
        HttpContext context, LogRegistry registry, EntryReader reader, IOptions<LimitsOptions> limits)
    {
        var cancellationToken = context.RequestAborted;
        JsonElement request;
        try
        {
            request = ParseObject(await RequestBodies.ReadAsync(context.Request, limits.Value.MaxRequestBytes, cancellationToken));
        }
        catch (RequestTooLargeException e)
        {
            return RekorError.Result(StatusCodes.Status413PayloadTooLarge, e.Message);
        }
        catch (NotUtf8JsonException)
        {
            return RekorError.Result(StatusCodes.Status400BadRequest, "request body is not UTF-8 JSON");
        }
        catch (JsonException)
        {
            return RekorError.Result(StatusCodes.Status400BadRequest, "request body is not a JSON object");
        }

        var found = new List<(LogInstance Log, VerifiedEntry Entry)>();
        var count = 0;
        var max = limits.Value.MaxRetrieveItems;
        if (request.TryGetProperty("entryUUIDs", out var ids) && ids.ValueKind == JsonValueKind.Array)
        {
            foreach (var id in ids.EnumerateArray())
            {
                if (++count > max)
                {
                    return RekorError.Result(StatusCodes.Status400BadRequest, $"at most {max} items per request");
                }

                if (id.ValueKind != JsonValueKind.String)
                {
                    return RekorError.Result(StatusCodes.Status400BadRequest, "entryUUIDs must be strings");
                }

                if (!TryParseEntryId(registry, id.GetString()!, out var shards, out var leafHash, out var error))
                {
                    return RekorError.Result(StatusCodes.Status400BadRequest, error);
                }

                if (await FindAsync(shards, leafHash, reader, cancellationToken) is { } hit)
                {
                    found.Add(hit);
                }
            }
        }

        if (request.TryGetProperty("logIndexes", out var indexes) && indexes.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in indexes.EnumerateArray())
            {
                if (++count > max)
                {
                    return RekorError.Result(StatusCodes.Status400BadRequest, $"at most {max} items per request");
                }

                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var index) || index < 0)
                {
                    return RekorError.Result(StatusCodes.Status400BadRequest, "logIndexes must be non-negative integers");
                }

                if (registry.ShardOf(index) is { } at && await reader.ByIndexAsync(at.Log, at.LocalIndex, cancellationToken) is { } entry)
                {
                    found.Add((at.Log, entry));
                }
            }
        }

        if (request.TryGetProperty("entries", out var proposedEntries) && proposedEntries.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in proposedEntries.EnumerateArray())
            {
                if (++count > max)
                {
                    return RekorError.Result(StatusCodes.Status400BadRequest, $"at most {max} items per request");
                }

                ProposedEntry proposed;
                try
                {
                    proposed = ProposedEntryParser.Parse(Encoding.UTF8.GetBytes(item.GetRawText()), limits.Value.ToEntryLimits());
                }
                catch (EntryRejectedException e)
                {
                    return RekorError.Result(StatusCodes.Status400BadRequest, e.Message);
                }

                if (await FindAsync(registry.RekorShards, Rfc6962.HashLeaf(proposed.CanonicalBody), reader, cancellationToken) is { } hit)
                {
                    found.Add(hit);
                }
            }
        }

        if (count == 0)
        {
            // As search does: a query that asks for nothing is a mistake, not an empty answer.
            return RekorError.Result(StatusCodes.Status400BadRequest, "give at least one of entryUUIDs, logIndexes or entries");
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, RekorEntryWriter.WriterOptions))
        {
            writer.WriteStartArray();
            foreach (var (log, entry) in found)
            {
                RekorEntryWriter.WriteMap(writer, log, [entry]);
            }

            writer.WriteEndArray();
        }

        return new JsonBytes(buffer.ToArray());
    }

    private static async Task<IResult> SearchIndexAsync(
        HttpContext context, LogRegistry registry, EntryStore entries, IOptions<LimitsOptions> limits)
    {
        JsonElement request;
        try
        {
            request = ParseObject(await RequestBodies.ReadAsync(context.Request, limits.Value.MaxRequestBytes, context.RequestAborted));
        }
        catch (RequestTooLargeException e)
        {
            return RekorError.Result(StatusCodes.Status413PayloadTooLarge, e.Message);
        }
        catch (NotUtf8JsonException)
        {
            return RekorError.Result(StatusCodes.Status400BadRequest, "request body is not UTF-8 JSON");
        }
        catch (JsonException)
        {
            return RekorError.Result(StatusCodes.Status400BadRequest, "request body is not a JSON object");
        }

        if (!SearchQuery.TryParse(request, out var query, out var error))
        {
            return RekorError.Result(StatusCodes.Status400BadRequest, error);
        }

        // Every shard, oldest first, within one result limit: a search finds entries from before a rotation too.
        var ids = new List<string>();
        foreach (var log in registry.RekorShards)
        {
            var remaining = limits.Value.MaxSearchResults - ids.Count;
            if (remaining <= 0)
            {
                break;
            }

            var indices = await entries.SearchAsync(log.Id, query.Keys, query.MatchAll, remaining, context.RequestAborted);
            foreach (var index in indices)
            {
                if (await entries.GetByIndexAsync(log.Id, index, context.RequestAborted) is { } entry)
                {
                    ids.Add(RekorEntryWriter.EntryId(log, entry.LeafHash));
                }
            }
        }

        return TypedResults.Json(ids);
    }

    internal static JsonElement ParseObject(byte[] body)
    {
        using var document = JsonInput.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("not an object");
        }

        return document.RootElement.Clone();
    }

    private static bool TryParseSize(string? text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary>
    /// Accepts a 64-hex UUID (the leaf hash, looked up in every shard) or an 80-hex entry ID (16-hex tree ID naming
    /// the shard, then the UUID).
    /// </summary>
    private static bool TryParseEntryId(LogRegistry registry, string entryId, out IReadOnlyList<LogInstance> shards, out Hash leafHash, out string error)
    {
        leafHash = default;
        error = "";
        shards = registry.RekorShards;
        if (entryId.Length == 80)
        {
            var treeId = entryId[..16];
            shards = [.. shards.Where(s => string.Equals(treeId, s.TreeId.ToString("x16", CultureInfo.InvariantCulture), StringComparison.OrdinalIgnoreCase))];
            if (shards.Count == 0)
            {
                error = $"entry ID {Truncate(entryId)} belongs to another tree";
                return false;
            }

            entryId = entryId[16..];
        }

        if (entryId.Length != 64 || !Hash.TryFromHex(entryId, out leafHash))
        {
            error = $"{Truncate(entryId)} is not an entry UUID (64 hex digits) or entry ID (80 hex digits)";
            return false;
        }

        return true;
    }

    /// <summary>The entry with this leaf hash in the first of <paramref name="shards"/> holding it, newest shard first.</summary>
    private static async Task<(LogInstance Log, VerifiedEntry Entry)?> FindAsync(
        IReadOnlyList<LogInstance> shards, Hash leafHash, EntryReader reader, CancellationToken cancellationToken)
    {
        for (var i = shards.Count - 1; i >= 0; i--)
        {
            if (await reader.ByLeafHashAsync(shards[i], leafHash, cancellationToken) is { } entry)
            {
                return (shards[i], entry);
            }
        }

        return null;
    }

    private static string Truncate(string text) => text.Length <= 100 ? text : text[..100] + "…";

}

/// <summary>How entries are keyed in the search index; the same keys are computed when searching.</summary>
internal static class SearchKeys
{
    // Keys are stored as text of at most 1,024 characters; identities come from certificates the client chose.
    private const int MaxStoredValue = 512;

    public static IReadOnlyList<string> For(EntryIndexKeys keys)
    {
        var result = new List<string>();
        result.AddRange(keys.Hashes.Select(h => Stored("hash:", h.ToLowerInvariant())));
        result.AddRange(keys.PublicKeyFingerprints.Select(f => Stored("key:", f.ToLowerInvariant())));
        result.AddRange(keys.Identities.Select(Identity));
        return result;
    }

    public static string Identity(string value) => Stored("id:", value.Trim().ToLowerInvariant());

    /// <summary>
    /// A value as the index stores it. A value that is long or holds control characters (PostgreSQL text cannot
    /// hold NUL) is stored as its SHA-256 instead, so it can never fail the entry's transaction, and a search for
    /// the same value computes the same key.
    /// </summary>
    private static string Stored(string prefix, string value) =>
        value.Length <= MaxStoredValue && !value.Any(char.IsControl)
            ? prefix + value
            : prefix + "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    public static bool TryArtifactHash(string text, out string key)
    {
        key = "";
        var separator = text.IndexOf(':', StringComparison.Ordinal);
        var (algorithm, hex) = separator < 0 ? ("sha256", text) : (text[..separator].ToLowerInvariant(), text[(separator + 1)..]);
        var expected = algorithm switch { "sha256" => 64, "sha384" => 96, "sha512" => 128, _ => -1 };
        if (hex.Length != expected || !hex.All(char.IsAsciiHexDigit))
        {
            return false;
        }

        key = $"hash:{algorithm}:{hex.ToLowerInvariant()}";
        return true;
    }

    /// <summary>The search key of a public key or certificate: SHA-256 of its SubjectPublicKeyInfo.</summary>
    public static bool TryPublicKey(string base64Content, out string key)
    {
        key = "";
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(base64Content));
            byte[] spki;
            if (text.Contains("BEGIN CERTIFICATE", StringComparison.Ordinal))
            {
                using var certificate = X509Certificate2.CreateFromPem(text);
                spki = certificate.PublicKey.ExportSubjectPublicKeyInfo();
            }
            else
            {
                var pem = PemEncoding.Find(text);
                spki = Convert.FromBase64String(text[pem.Base64Data]);
            }

            key = "key:" + Convert.ToHexStringLower(SHA256.HashData(spki));
            return true;
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentException)
        {
            return false;
        }
    }
}
