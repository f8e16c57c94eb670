using System.Text.RegularExpressions;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace TransparencyLog.Hosting;

/// <summary>One documented response of an <see cref="ApiOperation"/>.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Description">When and why the route answers it.</param>
/// <param name="ContentType">The media type of the body, if it has one.</param>
/// <param name="Body">The CLR type whose JSON schema describes the body, if it is JSON.</param>
public sealed record ApiResponse(int Status, string Description, string? ContentType = null, Type? Body = null);

/// <summary>
/// The description of one REST route in the OpenAPI document: operation id (Rekor's and Fulcio's where they have
/// one), summary, description and every status the route can answer. Kept beside each feature's routes rather than
/// on the route builders, so compatible API shapes read as one table per API.
/// </summary>
public sealed record ApiOperation(string Method, string Path, string OperationId, string Summary, string Description, IReadOnlyList<ApiResponse> Responses);

/// <summary>Registers route descriptions and applies them to the generated document.</summary>
public static partial class ApiDescriptions
{
    /// <summary>Adds <paramref name="operations"/> to the service's OpenAPI document.</summary>
    public static IServiceCollection AddApiDescriptions(this IServiceCollection services, IEnumerable<ApiOperation> operations)
    {
        ArgumentNullException.ThrowIfNull(services);
        foreach (var operation in operations)
        {
            services.AddSingleton(operation);
        }

        return services;
    }

    /// <summary>A route pattern as OpenAPI writes it: <c>{**path}</c> and <c>{id:long}</c> become <c>{path}</c>, <c>{id}</c>.</summary>
    public static string NormalizePath(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var path = "/" + pattern.TrimStart('/');
        return ParameterPattern().Replace(path, match => "{" + match.Groups["name"].Value + "}");
    }

    /// <summary>
    /// gRPC methods (<c>/package.Service/Method</c>) are not REST routes: their first path segment names a service,
    /// with dots. <c>/.well-known/...</c> is REST.
    /// </summary>
    public static bool IsGrpcPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var first = path.TrimStart('/').Split('/')[0];
        return first.Contains('.', StringComparison.Ordinal) && !first.StartsWith('.');
    }

    internal static void Configure(OpenApiOptions options)
    {
        options.ShouldInclude = description => !IsGrpcPath(description.RelativePath ?? "");
        options.AddOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var path = NormalizePath(context.Description.RelativePath ?? "");
            var method = context.Description.HttpMethod ?? "";
            var described = context.ApplicationServices.GetServices<ApiOperation>()
                .FirstOrDefault(o => string.Equals(o.Method, method, StringComparison.OrdinalIgnoreCase) && NormalizePath(o.Path) == path);
            if (described is null)
            {
                return;
            }

            operation.OperationId = described.OperationId;
            operation.Summary = described.Summary;
            operation.Description = described.Description;
            operation.Responses ??= [];
            foreach (var response in described.Responses)
            {
                var key = response.Status.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (operation.Responses.TryGetValue(key, out var existing) && existing is OpenApiResponse known)
                {
                    known.Description = response.Description;
                    if (response.ContentType is not null && (known.Content is null || known.Content.Count == 0))
                    {
                        known.Content = await ContentAsync(response, context, cancellationToken);
                    }

                    continue;
                }

                operation.Responses[key] = new OpenApiResponse
                {
                    Description = response.Description,
                    Content = response.ContentType is null ? null : await ContentAsync(response, context, cancellationToken),
                };
            }
        });
    }

    private static async Task<Dictionary<string, OpenApiMediaType>> ContentAsync(
        ApiResponse response, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var media = new OpenApiMediaType();
        if (response.Body is { } body)
        {
            media.Schema = await context.GetOrCreateSchemaAsync(body, null, cancellationToken);
        }

        return new Dictionary<string, OpenApiMediaType> { [response.ContentType!] = media };
    }

    [GeneratedRegex(@"\{\*{0,2}(?<name>[A-Za-z_][A-Za-z0-9_]*)(:[^}]*)?\??\}")]
    private static partial Regex ParameterPattern();
}
