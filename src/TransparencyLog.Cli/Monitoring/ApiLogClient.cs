using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.CertificateTransparency;
using TransparencyLog.Sigstore.Http;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>
/// A log's signed tree head as the API served it: its text (kept as evidence and in the state), the checkpoint it
/// states when its signature verified (null otherwise), and the global index of the tree's first entry (Rekor v1:
/// the entries of earlier, frozen shards come first).
/// </summary>
internal sealed record SignedHead(string Text, Checkpoint? Checkpoint, long IndexOffset);

/// <summary>
/// Follows a log through its own API rather than tiles, for logs that serve none (public Rekor v1, RFC 6962 CT logs):
/// the signed tree head, a consistency proof between two sizes, and the entries' leaf data by index.
/// </summary>
internal abstract class ApiLogClient(HttpClient http, string baseUrl)
{
    protected const int MaxHeadBytes = 64 * 1024;
    protected const int MaxProofBytes = 64 * 1024;

    protected HttpClient Http { get; } = http;

    /// <summary>Where the API is: the state is keyed by it, apart from a tiles follower's state of the same log.</summary>
    public string BaseUrl { get; } = baseUrl.TrimEnd('/');

    /// <summary>Entries asked for per request (the server may answer fewer).</summary>
    public abstract int PageSize { get; }

    public abstract Task<SignedHead> GetHeadAsync(NoteVerifierKey key, CancellationToken cancellationToken);

    /// <summary>The RFC 6962 consistency proof from <paramref name="size1"/> to <paramref name="size2"/> (size1 ≥ 1).</summary>
    public abstract Task<IReadOnlyList<Hash>> ConsistencyAsync(long size1, long size2, CancellationToken cancellationToken);

    /// <summary>
    /// The leaf data (what the log hashes into the tree) of entries <paramref name="start"/> onwards, at most up to
    /// <paramref name="end"/> (exclusive), in index order; at least one, possibly fewer than asked for.
    /// </summary>
    public abstract Task<IReadOnlyList<byte[]>> GetEntriesAsync(long start, long end, long indexOffset, CancellationToken cancellationToken);

    protected Uri Url(string pathAndQuery) => new(BaseUrl + pathAndQuery);

    protected Task<byte[]> GetAsync(string pathAndQuery, int maxBytes, CancellationToken cancellationToken) =>
        BoundedHttp.ReadAsync(Http, new HttpRequestMessage(HttpMethod.Get, Url(pathAndQuery)), maxBytes, cancellationToken);

    protected static JsonElement ParseJson(byte[] body, string what)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new MonitorLogException($"{what} is not JSON");
        }
    }

    protected static Hash HashFrom(byte[] bytes, string what) =>
        bytes.Length == Hash.Size ? Hash.FromBytes(bytes) : throw new MonitorLogException($"{what} is not a 32-byte hash");

    protected static byte[] Base64(JsonElement value, string what)
    {
        try
        {
            return value.ValueKind == JsonValueKind.String ? Convert.FromBase64String(value.GetString()!) : throw new MonitorLogException($"{what} is missing");
        }
        catch (FormatException)
        {
            throw new MonitorLogException($"{what} is not base64");
        }
    }
}

/// <summary>
/// Rekor v1's REST API, as public Rekor serves it: <c>GET /api/v1/log</c> (the signed checkpoint, and the frozen
/// shards before it), <c>GET /api/v1/log/proof</c>, and entries by global index through
/// <c>POST /api/v1/log/entries/retrieve</c>, ten per request (Rekor's limit).
/// </summary>
internal sealed class RekorApiLogClient(HttpClient http, string url) : ApiLogClient(http, url + "/api/v1/log")
{
    private const int MaxEntriesBytes = 8 * 1024 * 1024;

    public override int PageSize => 10;

    public override async Task<SignedHead> GetHeadAsync(NoteVerifierKey key, CancellationToken cancellationToken)
    {
        var info = ParseJson(await GetAsync("", MaxHeadBytes, cancellationToken), "the log's info");
        if (!info.TryGetProperty("signedTreeHead", out var sth) || sth.ValueKind != JsonValueKind.String)
        {
            throw new MonitorLogException("the log's info has no signedTreeHead");
        }

        var offset = 0L;
        if (info.TryGetProperty("inactiveShards", out var shards) && shards.ValueKind == JsonValueKind.Array)
        {
            foreach (var shard in shards.EnumerateArray())
            {
                offset += shard.TryGetProperty("treeSize", out var size) && size.TryGetInt64(out var n) && n >= 0
                    ? n
                    : throw new MonitorLogException("an inactive shard of the log has no tree size");
            }
        }

        var note = sth.GetString()!;
        return new SignedHead(note, new NoteVerifier([key]).TryVerifyCheckpoint(note, out var checkpoint) ? checkpoint : null, offset);
    }

    public override async Task<IReadOnlyList<Hash>> ConsistencyAsync(long size1, long size2, CancellationToken cancellationToken)
    {
        var answer = ParseJson(await GetAsync(string.Create(CultureInfo.InvariantCulture, $"/proof?firstSize={size1}&lastSize={size2}"), MaxProofBytes, cancellationToken), "the consistency proof");
        if (!answer.TryGetProperty("hashes", out var hashes) || hashes.ValueKind != JsonValueKind.Array)
        {
            // Rekor omits an empty list.
            return [];
        }

        try
        {
            return [.. hashes.EnumerateArray().Select(static h => Hash.FromHex(h.GetString() ?? ""))];
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            throw new MonitorLogException("the consistency proof holds a value that is not a hex hash");
        }
    }

    public override async Task<IReadOnlyList<byte[]>> GetEntriesAsync(long start, long end, long indexOffset, CancellationToken cancellationToken)
    {
        var count = (int)Math.Min(PageSize, end - start);
        var indexes = Enumerable.Range(0, count).Select(i => indexOffset + start + i).ToArray();
        using var request = new HttpRequestMessage(HttpMethod.Post, Url("/entries/retrieve"))
        {
            Content = new StringContent(new JsonObject { ["logIndexes"] = new JsonArray([.. indexes.Select(static i => (JsonNode)i)]) }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        var answer = ParseJson(await BoundedHttp.ReadAsync(Http, request, MaxEntriesBytes, cancellationToken), "the retrieved entries");
        if (answer.ValueKind != JsonValueKind.Array)
        {
            throw new MonitorLogException("the retrieved entries are not a list");
        }

        // One map {uuid: entry} per entry found, in any order: placed by the logIndex each states.
        var entries = new byte[count][];
        foreach (var map in answer.EnumerateArray().Where(static m => m.ValueKind == JsonValueKind.Object))
        {
            foreach (var entry in map.EnumerateObject().Select(static p => p.Value))
            {
                if (!entry.TryGetProperty("logIndex", out var index) || !index.TryGetInt64(out var global) || global - indexOffset - start is var at && (at < 0 || at >= count))
                {
                    throw new MonitorLogException($"the log answered entries {indexOffset + start}..{indexOffset + start + count - 1} with another log index");
                }

                entries[at] = Base64(entry.TryGetProperty("body", out var body) ? body : default, $"the body of entry {global}");
            }
        }

        var missing = Array.FindIndex(entries, static e => e is null);
        return missing < 0 ? entries : throw new MonitorLogException($"the log did not return entry {indexOffset + start + missing}, below its signed tree size");
    }
}

/// <summary>
/// An RFC 6962 CT log's API under its URL (<c>…/v1/get-sth</c> etc.): the STH's <c>TreeHeadSignature</c> is
/// verified with the log's key, and get-entries pages are taken as the server cuts them.
/// </summary>
internal sealed class CtApiLogClient(HttpClient http, string url) : ApiLogClient(http, url + "/v1")
{
    private const int MaxEntriesBytes = 32 * 1024 * 1024;

    public override int PageSize => 256;

    public override async Task<SignedHead> GetHeadAsync(NoteVerifierKey key, CancellationToken cancellationToken)
    {
        var bytes = await GetAsync("/get-sth", MaxHeadBytes, cancellationToken);
        var sth = ParseJson(bytes, "the signed tree head");
        if (!sth.TryGetProperty("tree_size", out var sizeValue) || !sizeValue.TryGetInt64(out var size) || size < 0
            || !sth.TryGetProperty("timestamp", out var timeValue) || !timeValue.TryGetUInt64(out var timestamp))
        {
            throw new MonitorLogException("the signed tree head has no tree_size or timestamp");
        }

        var root = HashFrom(Base64(sth.TryGetProperty("sha256_root_hash", out var r) ? r : default, "sha256_root_hash"), "sha256_root_hash");
        var signature = Base64(sth.TryGetProperty("tree_head_signature", out var s) ? s : default, "tree_head_signature");
        var text = Encoding.UTF8.GetString(bytes).Trim();
        return new SignedHead(text, Verify(key, timestamp, size, root, signature) ? new Checkpoint(key.Name, size, root.ToArray()) : null, 0);
    }

    public override async Task<IReadOnlyList<Hash>> ConsistencyAsync(long size1, long size2, CancellationToken cancellationToken)
    {
        var answer = ParseJson(await GetAsync(string.Create(CultureInfo.InvariantCulture, $"/get-sth-consistency?first={size1}&second={size2}"), MaxProofBytes, cancellationToken), "the consistency proof");
        if (!answer.TryGetProperty("consistency", out var hashes) || hashes.ValueKind != JsonValueKind.Array)
        {
            throw new MonitorLogException("the consistency proof has no consistency list");
        }

        return [.. hashes.EnumerateArray().Select(static h => HashFrom(Base64(h, "a consistency proof hash"), "a consistency proof hash"))];
    }

    public override async Task<IReadOnlyList<byte[]>> GetEntriesAsync(long start, long end, long indexOffset, CancellationToken cancellationToken)
    {
        var last = Math.Min(end, start + PageSize) - 1;
        var answer = ParseJson(await GetAsync(string.Create(CultureInfo.InvariantCulture, $"/get-entries?start={start}&end={last}"), MaxEntriesBytes, cancellationToken), "get-entries");
        if (!answer.TryGetProperty("entries", out var entries) || entries.ValueKind != JsonValueKind.Array || entries.GetArrayLength() is 0)
        {
            throw new MonitorLogException($"get-entries {start}..{last} returned no entries, below the signed tree size");
        }

        if (entries.GetArrayLength() > last - start + 1)
        {
            throw new MonitorLogException($"get-entries {start}..{last} returned more entries than asked for");
        }

        return [.. entries.EnumerateArray().Select(static e => Base64(e.TryGetProperty("leaf_input", out var leaf) ? leaf : default, "an entry's leaf_input"))];
    }

    /// <summary>RFC 6962 §3.5: the DigitallySigned TreeHeadSignature (v1, tree_hash, timestamp, size, root), SHA-256.</summary>
    private static bool Verify(NoteVerifierKey key, ulong timestamp, long size, Hash root, byte[] digitallySigned)
    {
        if (digitallySigned.Length < 4 || digitallySigned[0] != 4 || BinaryPrimitives.ReadUInt16BigEndian(digitallySigned.AsSpan(2)) != digitallySigned.Length - 4)
        {
            return false;
        }

        return key.Key.Verify(CtSignedData.TreeHeadSignatureInput(timestamp, size, root), digitallySigned.AsSpan(4));
    }
}

/// <summary>One HTTP exchange with a log, its answer read up to a size limit; unreachable or non-200 is exit 1.</summary>
internal static class BoundedHttp
{
    public static async Task<byte[]> ReadAsync(HttpClient http, HttpRequestMessage request, int maxBytes, CancellationToken cancellationToken)
    {
        var url = request.RequestUri;
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException(ExitCodes.Error, $"cannot reach the log at {url}: {ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Error, $"the log at {url} did not answer in time");
        }
        finally
        {
            request.Dispose();
        }

        using (response)
        {
            if (response.StatusCode != HttpStatusCode.OK)
            {
                throw new CliException(ExitCodes.Error, $"the log answered {(int)response.StatusCode} to {request.Method} {url}");
            }

            return await BoundedBody.ReadAsync(response.Content, maxBytes, cancellationToken)
                ?? throw new MonitorLogException($"{request.Method} {url} is larger than {maxBytes} bytes");
        }
    }
}
