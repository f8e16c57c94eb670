using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Bundles;

namespace TransparencyLog.Cli.Http;

/// <summary><c>GET /api/v1/log</c>: the current tree head and its signed checkpoint.</summary>
internal sealed record LogInfo(string RootHash, long TreeSize, string SignedTreeHead, string TreeId);

/// <summary>Client for the Rekor v1 REST API of the log service.</summary>
internal sealed class RekorClient(HttpClient http, string baseUrl)
{
    private const string Service = "the transparency log";

    public string BaseUrl { get; } = baseUrl;

    /// <summary>Adds an entry; on 409 (already logged) fetches the existing one, as sigstore-js does with fetchOnConflict.</summary>
    public async Task<(string Uuid, TransparencyLogEntry Entry)> CreateEntryAsync(JsonObject proposed, CancellationToken cancellationToken)
    {
        var url = ServiceCall.Url(BaseUrl, "/api/v1/log/entries");
        var (status, body, response) = await ServiceCall.PostJsonAsync(http, url, proposed, Service, cancellationToken);
        using (response)
        {
            if (status == HttpStatusCode.Conflict && response.Headers.Location is { } location)
            {
                var uuid = location.OriginalString[(location.OriginalString.LastIndexOf('/') + 1)..];
                return await GetEntryByUuidAsync(uuid, cancellationToken);
            }

            ServiceCall.EnsureSuccess(status, body, Service, url);
            return Convert(body);
        }
    }

    public async Task<(string Uuid, TransparencyLogEntry Entry)> GetEntryByIndexAsync(long index, CancellationToken cancellationToken) =>
        Convert(await ServiceCall.GetAsync(http, ServiceCall.Url(BaseUrl, $"/api/v1/log/entries?logIndex={index.ToString(CultureInfo.InvariantCulture)}"), Service, cancellationToken));

    public async Task<(string Uuid, TransparencyLogEntry Entry)> GetEntryByUuidAsync(string uuid, CancellationToken cancellationToken) =>
        Convert(await ServiceCall.GetAsync(http, ServiceCall.Url(BaseUrl, $"/api/v1/log/entries/{Uri.EscapeDataString(uuid)}"), Service, cancellationToken));

    public async Task<LogInfo> GetLogInfoAsync(CancellationToken cancellationToken)
    {
        var body = await ServiceCall.GetAsync(http, ServiceCall.Url(BaseUrl, "/api/v1/log"), Service, cancellationToken);
        using var document = ServiceCall.ParseJson(body, Service);
        var root = document.RootElement;
        try
        {
            return new LogInfo(
                root.GetProperty("rootHash").GetString() ?? string.Empty,
                root.GetProperty("treeSize").GetInt64(),
                root.GetProperty("signedTreeHead").GetString() ?? string.Empty,
                root.TryGetProperty("treeID", out var treeId) ? treeId.ToString() : string.Empty);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new CliException(ExitCodes.Error, "the log's /api/v1/log response lacks rootHash, treeSize or signedTreeHead");
        }
    }

    public async Task<string> GetPublicKeyPemAsync(CancellationToken cancellationToken) =>
        Encoding.UTF8.GetString(await ServiceCall.GetAsync(http, ServiceCall.Url(BaseUrl, "/api/v1/log/publicKey"), Service, cancellationToken));

    /// <summary>RFC 6962 consistency proof between two sizes, and the root the log claims at the larger one.</summary>
    public async Task<(Hash Root, IReadOnlyList<Hash> Hashes)> GetConsistencyProofAsync(long firstSize, long lastSize, CancellationToken cancellationToken)
    {
        var path = $"/api/v1/log/proof?firstSize={firstSize.ToString(CultureInfo.InvariantCulture)}&lastSize={lastSize.ToString(CultureInfo.InvariantCulture)}";
        var body = await ServiceCall.GetAsync(http, ServiceCall.Url(BaseUrl, path), Service, cancellationToken);
        using var document = ServiceCall.ParseJson(body, Service);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("rootHash", out var rootHash)
            || !Hash.TryFromHex(rootHash.GetString(), out var parsedRoot)
            || !root.TryGetProperty("hashes", out var hashes)
            || hashes.ValueKind != JsonValueKind.Array)
        {
            throw new CliException(ExitCodes.LogInconsistent, "the log's consistency proof response is malformed (expected {rootHash, hashes} in hex)", "LOG_INCONSISTENT");
        }

        var list = new List<Hash>();
        foreach (var hash in hashes.EnumerateArray())
        {
            if (hash.ValueKind != JsonValueKind.String || !Hash.TryFromHex(hash.GetString(), out var parsed))
            {
                throw new CliException(ExitCodes.LogInconsistent, "the log's consistency proof holds a hash that is not 64 hex digits", "LOG_INCONSISTENT");
            }

            list.Add(parsed);
        }

        return (parsedRoot, list);
    }

    private static (string Uuid, TransparencyLogEntry Entry) Convert(byte[] body)
    {
        try
        {
            return RekorEntryConverter.FromResponse(Encoding.UTF8.GetString(body));
        }
        catch (BundleFormatException ex)
        {
            throw new CliException(ExitCodes.Error, $"the log sent an entry that cannot be used: {ex.Message}");
        }
    }
}
