using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;

namespace TransparencyLog.Cli.Http;

/// <summary>
/// Mints tokens from the development OIDC issuer: <c>POST {issuer}/token</c> with
/// <c>{"email","sub","aud","ttl"}</c> (absent values omitted). The whole contract lives here so it is easy to adjust:
/// the response may be the bare JWT or JSON holding <c>id_token</c>, <c>token</c> or <c>access_token</c>.
/// </summary>
internal sealed class DevTokenClient(HttpClient http)
{
    private const string Service = "the development issuer";

    public async Task<string> MintAsync(string issuer, string? email, string? subject, string? audience, int? ttlSeconds, CancellationToken cancellationToken)
    {
        var request = new JsonObject();
        if (email is not null)
        {
            request["email"] = email;
        }

        if (subject is not null)
        {
            request["sub"] = subject;
        }

        if (audience is not null)
        {
            request["aud"] = audience;
        }

        if (ttlSeconds is { } ttl)
        {
            request["ttl"] = ttl;
        }

        var url = ServiceCall.Url(issuer, "/token");
        var (status, body, response) = await ServiceCall.PostJsonAsync(http, url, request, Service, cancellationToken);
        using (response)
        {
            ServiceCall.EnsureSuccess(status, body, Service, url);
        }

        var text = Encoding.UTF8.GetString(body).Trim();
        if (text.StartsWith('{'))
        {
            try
            {
                using var document = JsonDocument.Parse(text);
                foreach (var name in new[] { "id_token", "token", "access_token" })
                {
                    if (document.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String)
                    {
                        text = value.GetString() ?? string.Empty;
                        break;
                    }
                }
            }
            catch (JsonException)
            {
                throw new CliException(ExitCodes.Error, "the development issuer sent malformed JSON");
            }
        }

        return text.Count(static c => c == '.') == 2
            ? text
            : throw new CliException(ExitCodes.Error, "the development issuer did not return a JWT");
    }
}
