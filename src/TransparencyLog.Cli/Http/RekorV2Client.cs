using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Cli.Http;

/// <summary>
/// Client for the Rekor v2 (rekor-tiles) REST API of the log service: protobuf-JSON requests, and a response that
/// already is the bundle's <c>TransparencyLogEntry</c> (no SET, integratedTime 0; see docs/rekor-v2.md).
/// </summary>
internal sealed class RekorV2Client(HttpClient http, string baseUrl)
{
    private const string Service = "the Rekor v2 log";

    /// <summary><c>POST /api/v2/log/entries</c>. A 409 is an error: v2 has no way to fetch the existing entry's proof.</summary>
    public async Task<TransparencyLogEntry> CreateEntryAsync(JsonObject request, CancellationToken cancellationToken)
    {
        var url = ServiceCall.Url(baseUrl, "/api/v2/log/entries");
        var (status, body, response) = await ServiceCall.PostJsonAsync(http, url, request, Service, cancellationToken);
        using (response)
        {
            if (status == HttpStatusCode.Conflict)
            {
                var index = response.Headers.TryGetValues("X-Log-Index", out var values) ? values.FirstOrDefault() : null;
                throw new CliException(ExitCodes.Error, $"{Service} already holds this entry{(index is null ? string.Empty : $" at index {index}")}: {ServiceCall.ErrorMessage(body)}");
            }

            ServiceCall.EnsureSuccess(status, body, Service, url);
        }

        try
        {
            return RekorEntryConverter.FromTransparencyLogEntry(Encoding.UTF8.GetString(body));
        }
        catch (BundleFormatException ex)
        {
            throw new CliException(ExitCodes.Error, $"{Service} sent an entry that cannot be used: {ex.Message}");
        }
    }

    /// <summary><c>GET /api/v2/log/tlogInstance</c>: this log as a trusted-root <c>tlogs[]</c> item (without a validity window).</summary>
    public async Task<TransparencyLogInstance> GetTlogInstanceAsync(CancellationToken cancellationToken)
    {
        var body = await ServiceCall.GetAsync(http, ServiceCall.Url(baseUrl, "/api/v2/log/tlogInstance"), Service, cancellationToken);
        try
        {
            return TrustedRoot.ParseLogInstance(Encoding.UTF8.GetString(body));
        }
        catch (BundleFormatException ex)
        {
            throw new CliException(ExitCodes.Error, $"{Service}'s tlogInstance is unusable: {ex.Message}");
        }
    }

    /// <summary>A <c>hashedRekordRequestV002</c>: the SHA-256 digest, the signature and who made it.</summary>
    public static JsonObject HashedRekordRequest(byte[] digest, byte[] signature, JsonObject verifier) => new()
    {
        ["hashedRekordRequestV002"] = new JsonObject
        {
            ["digest"] = Convert.ToBase64String(digest),
            ["signature"] = new JsonObject { ["content"] = Convert.ToBase64String(signature), ["verifier"] = verifier },
        },
    };

    /// <summary>A <c>dsseRequestV002</c>: the whole envelope and its one verifier.</summary>
    public static JsonObject DsseRequest(DsseEnvelope envelope, JsonObject verifier) => new()
    {
        ["dsseRequestV002"] = new JsonObject
        {
            ["envelope"] = JsonNode.Parse(envelope.ToRekorJson()),
            ["verifiers"] = new JsonArray(verifier),
        },
    };
}
