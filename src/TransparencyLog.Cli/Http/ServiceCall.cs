using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Sigstore.Http;

namespace TransparencyLog.Cli.Http;

/// <summary>HTTP plumbing shared by the service clients: one place that turns failures into clear, bounded messages.</summary>
internal static class ServiceCall
{
    /// <summary>Responses are bounded: a bundle-sized entry or a certificate chain, never an unbounded stream.</summary>
    public const int MaxResponseBytes = 8 * 1024 * 1024;

    public static Uri Url(string baseUrl, string path)
    {
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliException(ExitCodes.Usage, $"'{baseUrl}' is not an http(s) URL");
        }

        return new Uri(baseUrl.TrimEnd('/') + path);
    }

    /// <summary>
    /// Sends the request and reads the answer (at most <see cref="MaxResponseBytes"/>). Requests to the CA, the log and
    /// the TSA are safe to send again (ServiceRetryHandler says why) and are retried on 429/503 unless
    /// <paramref name="repeatable"/> is false.
    /// </summary>
    public static async Task<(HttpStatusCode Status, byte[] Body, HttpResponseMessage Response)> SendAsync(
        HttpClient http, HttpRequestMessage request, string service, CancellationToken cancellationToken, bool repeatable = true)
    {
        if (repeatable)
        {
            ServiceRetryHandler.MarkRepeatable(request, service);
        }
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException(ExitCodes.Error, $"{service} at {request.RequestUri} is unreachable: {ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException(ExitCodes.Error, $"{service} at {request.RequestUri} did not answer in time");
        }

        if (await BoundedBody.ReadAsync(response.Content, MaxResponseBytes, cancellationToken) is not { } body)
        {
            response.Dispose();
            throw new CliException(ExitCodes.Error, $"{service} sent a response larger than {MaxResponseBytes} bytes");
        }

        var (attempts, waited) = ServiceRetryHandler.Tries(request);
        if (attempts > 1 && response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests)
        {
            response.Dispose();
            throw new CliException(
                ExitCodes.Error,
                string.Create(
                    CultureInfo.InvariantCulture,
                    $"{service} at {request.RequestUri} still answered {(int)response.StatusCode} after {attempts} tries over {waited.TotalSeconds:0.#} s; giving up: {ErrorMessage(body)}"));
        }

        return (response.StatusCode, body, response);
    }

    public static async Task<byte[]> GetAsync(HttpClient http, Uri url, string service, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        var (status, body, response) = await SendAsync(http, request, service, cancellationToken);
        using (response)
        {
            EnsureSuccess(status, body, service, url);
            return body;
        }
    }

    public static async Task<(HttpStatusCode Status, byte[] Body, HttpResponseMessage Response)> PostJsonAsync(
        HttpClient http, Uri url, JsonNode payload, string service, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return await SendAsync(http, request, service, cancellationToken);
    }

    public static void EnsureSuccess(HttpStatusCode status, byte[] body, string service, Uri url)
    {
        if ((int)status is >= 200 and < 300)
        {
            return;
        }

        throw new CliException(ExitCodes.Error, $"{service} at {url} answered {(int)status}: {ErrorMessage(body)}");
    }

    /// <summary>The <c>message</c> of a <c>{code, message}</c> error body, else a short excerpt of the text.</summary>
    public static string ErrorMessage(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("message", out var message)
                && message.ValueKind == JsonValueKind.String)
            {
                return message.GetString() ?? string.Empty;
            }
        }
        catch (JsonException)
        {
        }

        var text = Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 200))).Trim();
        return text.Length == 0 ? "(empty response)" : text;
    }

    public static JsonDocument ParseJson(byte[] body, string service)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            throw new CliException(ExitCodes.Error, $"{service} sent a response that is not JSON");
        }
    }
}
