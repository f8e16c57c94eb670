using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;

namespace TransparencyLog.Cli.Http;

/// <summary>Client for an RFC 3161 timestamp authority's JSON API (<c>POST /api/v1/timestamp</c>).</summary>
internal sealed class TsaClient(HttpClient http, string url)
{
    private const string Service = "the timestamp authority";
    private const string TimestampPath = "/api/v1/timestamp";

    /// <summary>A bare origin gets the standard path appended (as sigstore-js 4.x does); any other URL is used as given.</summary>
    public Uri TimestampUrl => Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.AbsolutePath is "/" or ""
        ? ServiceCall.Url(url, TimestampPath)
        : ServiceCall.Url(url, string.Empty);

    /// <summary>Timestamps the signature: the imprint is SHA-256 of the signature bytes. Returns the DER response.</summary>
    public async Task<byte[]> TimestampAsync(byte[] signature, CancellationToken cancellationToken)
    {
        var request = new JsonObject
        {
            ["artifactHash"] = Convert.ToBase64String(SHA256.HashData(signature)),
            ["hashAlgorithm"] = "sha256",
        };
        var target = TimestampUrl;
        var (status, body, response) = await ServiceCall.PostJsonAsync(http, target, request, Service, cancellationToken);
        using (response)
        {
            ServiceCall.EnsureSuccess(status, body, Service, target);
        }

        return body;
    }

    /// <summary><c>GET …/api/v1/timestamp/certchain</c>: PEM, signing certificate first, root last.</summary>
    public async Task<IReadOnlyList<byte[]>> GetCertificateChainAsync(CancellationToken cancellationToken)
    {
        var target = new Uri(TimestampUrl.ToString().TrimEnd('/') + "/certchain");
        var pem = Encoding.UTF8.GetString(await ServiceCall.GetAsync(http, target, Service, cancellationToken));
        var chain = new List<byte[]>();
        var text = pem.AsSpan();
        while (PemEncoding.TryFind(text, out var fields))
        {
            if (text[fields.Label].SequenceEqual("CERTIFICATE"))
            {
                chain.Add(Convert.FromBase64String(text[fields.Base64Data].ToString()));
            }

            text = text[fields.Location.End..];
        }

        return chain.Count > 0 ? chain : throw new CliException(ExitCodes.Error, "the timestamp authority's certificate chain holds no certificates");
    }
}
