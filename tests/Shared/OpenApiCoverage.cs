using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using TransparencyLog.Hosting;

namespace TransparencyLog.Tests.Shared;

/// <summary>
/// Checks a host's <c>/openapi/v1.json</c> against what the host really serves: every REST route in the endpoint data
/// source (minus those excluded from description and gRPC methods) must be in the document with an operation id, a
/// summary or description and described responses including every status its metadata declares; and every status
/// the routes answer to probes must be documented for that route.
/// </summary>
internal sealed class OpenApiCoverage(JsonDocument document)
{
    private readonly List<string> _problems = [];

    public IReadOnlyList<string> Problems => _problems;

    public static async Task<OpenApiCoverage> GetAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new OpenApiCoverage(JsonDocument.Parse(await response.Content.ReadAsStringAsync()));
    }

    /// <summary>The REST routes the host serves, as (method, OpenAPI path).</summary>
    public static IReadOnlyList<(string Method, string Path, Endpoint Endpoint)> Routes(IServiceProvider services)
    {
        var routes = new List<(string, string, Endpoint)>();
        foreach (var endpoint in services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            if (endpoint.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is { ExcludeFromDescription: true })
            {
                continue;
            }

            var path = ApiDescriptions.NormalizePath(endpoint.RoutePattern.RawText ?? "");
            if (ApiDescriptions.IsGrpcPath(path))
            {
                continue;
            }

            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [];
            if (methods.Count == 0)
            {
                routes.Add(("ANY", path, endpoint));
            }

            routes.AddRange(methods.Select(method => (method, path, (Endpoint)endpoint)));
        }

        return routes;
    }

    /// <summary>Every route of <paramref name="services"/> is described, with the statuses its metadata declares.</summary>
    public OpenApiCoverage CheckEndpoints(IServiceProvider services)
    {
        var routes = Routes(services);
        Assert.NotEmpty(routes);
        foreach (var (method, path, endpoint) in routes)
        {
            if (Operation(method, path) is not { } operation)
            {
                _problems.Add($"{method} {path}: not in /openapi/v1.json");
                continue;
            }

            if (!HasText(operation, "summary") && !HasText(operation, "description"))
            {
                _problems.Add($"{method} {path}: no summary or description");
            }

            if (!HasText(operation, "operationId"))
            {
                _problems.Add($"{method} {path}: no operationId");
            }

            if (!operation.TryGetProperty("responses", out var responses) || !responses.EnumerateObject().Any())
            {
                _problems.Add($"{method} {path}: no responses");
                continue;
            }

            foreach (var response in responses.EnumerateObject().Where(r => !HasText(r.Value, "description")))
            {
                _problems.Add($"{method} {path}: response {response.Name} has no description");
            }

            foreach (var declared in endpoint.Metadata.OfType<IProducesResponseTypeMetadata>())
            {
                CheckStatus(method, path, declared.StatusCode, "declared by the route");
            }
        }

        return this;
    }

    /// <summary>Sends <paramref name="request"/> to a route and records a problem if its answer is undocumented.</summary>
    public async Task<int> ProbeAsync(HttpClient client, string method, string template, string url, string? body = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        using var response = await client.SendAsync(request);
        CheckStatus(method, template, (int)response.StatusCode, $"answered to {method} {url}");
        return (int)response.StatusCode;
    }

    /// <summary>Probes every documented operation with empty, malformed and wrongly typed input.</summary>
    public async Task ProbeBadInputAsync(HttpClient client, Func<string, bool>? skip = null)
    {
        foreach (var (method, path) in Operations())
        {
            if (skip?.Invoke(path) == true || path is OperationalEndpoints.Metrics or OperationalEndpoints.Ready)
            {
                continue;
            }

            var url = path.Replace("{", "zz-", StringComparison.Ordinal).Replace("}", "", StringComparison.Ordinal);
            if (method == "GET")
            {
                await ProbeAsync(client, method, path, url);
                await ProbeAsync(client, method, path, url + "?logIndex=-1&firstSize=x&lastSize=0&start=z&end=-5&hash=%%&tree_size=q&first=a&second=b");
                continue;
            }

            await ProbeAsync(client, method, path, url, "{}");
            await ProbeAsync(client, method, path, url, "{\"kind\": 1, \"spec\": [");
            await ProbeAsync(client, method, path, url, "plain text", "text/plain");
            await ProbeAsync(client, method, path, url, new string('x', 2 * 1024 * 1024));
        }
    }

    /// <summary>Every (method, path) of the document.</summary>
    public IEnumerable<(string Method, string Path)> Operations()
    {
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                yield return (operation.Name.ToUpperInvariant(), path.Name);
            }
        }
    }

    public JsonElement? Operation(string method, string path) =>
        document.RootElement.GetProperty("paths").TryGetProperty(path, out var item)
        && item.TryGetProperty(method.ToLowerInvariant(), out var operation)
            ? operation
            : null;

    public void AssertNoProblems() =>
        Assert.True(_problems.Count == 0, "OpenAPI document incomplete:\n" + string.Join('\n', _problems.Distinct()));

    private void CheckStatus(string method, string path, int status, string why)
    {
        if (Operation(method, path) is not { } operation)
        {
            _problems.Add($"{method} {path}: not in /openapi/v1.json ({why})");
            return;
        }

        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!operation.TryGetProperty("responses", out var responses) || !responses.TryGetProperty(key, out _))
        {
            _problems.Add($"{method} {path}: status {key} is not documented ({why})");
        }
    }

    private static bool HasText(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Trim().Length > 0;
}
