using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;

namespace TransparencyLog.Cli.Http;

/// <summary>Client for the CA's Fulcio v2 REST API.</summary>
internal sealed class FulcioClient(HttpClient http, string baseUrl)
{
    private const string Service = "the certificate authority";

    /// <summary>
    /// <c>POST /api/v2/signingCert</c> with a PEM public key and proof of possession; returns the leaf PEM exactly as
    /// sent (it is what Rekor logs) and the chain as DER.
    /// </summary>
    public async Task<(string LeafPem, IReadOnlyList<byte[]> Chain)> CreateSigningCertificateAsync(
        string identityToken, string publicKeyPem, byte[] proofOfPossession, CancellationToken cancellationToken)
    {
        var url = ServiceCall.Url(baseUrl, "/api/v2/signingCert");
        var request = new JsonObject
        {
            ["credentials"] = new JsonObject { ["oidcIdentityToken"] = identityToken },
            ["publicKeyRequest"] = new JsonObject
            {
                ["publicKey"] = new JsonObject { ["algorithm"] = "ECDSA", ["content"] = publicKeyPem },
                ["proofOfPossession"] = Convert.ToBase64String(proofOfPossession),
            },
        };
        var (status, body, response) = await ServiceCall.PostJsonAsync(http, url, request, Service, cancellationToken);
        using (response)
        {
            ServiceCall.EnsureSuccess(status, body, Service, url);
        }

        using var document = ServiceCall.ParseJson(body, Service);
        var root = document.RootElement;
        JsonElement chain = default;
        var found = root.ValueKind == JsonValueKind.Object
            && ((root.TryGetProperty("signedCertificateEmbeddedSct", out var embedded) && embedded.TryGetProperty("chain", out chain))
                || (root.TryGetProperty("signedCertificateDetachedSct", out var detached) && detached.TryGetProperty("chain", out chain)));
        if (!found || !chain.TryGetProperty("certificates", out var certificates) || certificates.ValueKind != JsonValueKind.Array || certificates.GetArrayLength() == 0)
        {
            throw new CliException(ExitCodes.Error, "the certificate authority's response holds no certificate chain");
        }

        var pems = certificates.EnumerateArray().Select(static c => c.GetString() ?? string.Empty).ToList();
        return (pems[0], [.. pems.Select(DecodeCertificate)]);
    }

    /// <summary><c>GET /api/v2/trustBundle</c>: each chain is intermediates..root, as DER.</summary>
    public async Task<IReadOnlyList<IReadOnlyList<byte[]>>> GetTrustBundleAsync(CancellationToken cancellationToken)
    {
        var body = await ServiceCall.GetAsync(http, ServiceCall.Url(baseUrl, "/api/v2/trustBundle"), Service, cancellationToken);
        using var document = ServiceCall.ParseJson(body, Service);
        if (!document.RootElement.TryGetProperty("chains", out var chains) || chains.ValueKind != JsonValueKind.Array)
        {
            throw new CliException(ExitCodes.Error, "the certificate authority's trust bundle has no chains");
        }

        var result = new List<IReadOnlyList<byte[]>>();
        foreach (var chain in chains.EnumerateArray())
        {
            if (chain.TryGetProperty("certificates", out var certificates) && certificates.ValueKind == JsonValueKind.Array)
            {
                result.Add([.. certificates.EnumerateArray().Select(static c => DecodeCertificate(c.GetString() ?? string.Empty))]);
            }
        }

        return result;
    }

    public static byte[] DecodeCertificate(string pem)
    {
        try
        {
            var fields = PemEncoding.Find(pem);
            return Convert.FromBase64String(pem[fields.Base64Data]);
        }
        catch (ArgumentException)
        {
            throw new CliException(ExitCodes.Error, "the certificate authority sent a certificate that is not PEM");
        }
    }
}
