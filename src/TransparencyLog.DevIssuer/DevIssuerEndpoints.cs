using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using TransparencyLog.Hosting;

namespace TransparencyLog.DevIssuer;

/// <summary>The development issuer's services and endpoints: discovery, JWKS and a token endpoint.</summary>
internal static class DevIssuerEndpoints
{
    public static IHostApplicationBuilder AddDevIssuer(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DevIssuerOptions>()
            .BindConfiguration(DevIssuerOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => TryParseLoopback(o.Url, out _),
                "DevIssuer:Url must be http://127.0.0.1:<port>, http://[::1]:<port> or http://localhost:<port>: "
                + "the development issuer mints tokens for anyone and refuses to listen beyond loopback")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SigningKey>();
        builder.Services.AddSingleton<IssuerAddress>();
        builder.Services.AddSingleton<CaIssuerEntry>();
        builder.Services.AddHealthChecks().AddCheck<SigningKeyHealthCheck>("signing-key", tags: [ServiceDefaults.ReadyTag]);
        builder.Services.AddApiDescriptions(Operations);
        // Only the configured loopback address: explicit Listen calls override ASPNETCORE_URLS and --urls.
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<DevIssuerOptions>>((kestrel, options) =>
        {
            if (TryParseLoopback(options.Value.Url, out var endpoint) && endpoint is not null)
            {
                kestrel.Listen(endpoint);
            }
        });
        return builder;
    }

    private static readonly ApiOperation[] Operations =
    [
        new("GET", "/.well-known/openid-configuration", "getOpenIdConfiguration", "OpenID Connect discovery document",
            "Issuer URL, JWKS and token endpoints, and the claims the development tokens carry.", [new(200, "The discovery document.", "application/json")]),
        new("GET", "/jwks", "getJwks", "The issuer's signing keys (JWK set)", "The public key development tokens are signed with.",
            [new(200, "The JWK set.", "application/json")]),
        new("POST", "/token", "mintToken", "Mints a development identity token",
            "Form or JSON fields email, sub, aud (default sigstore), ttl (seconds), email_verified and claims (merged last; null removes a claim). Anyone on loopback can mint tokens: never for production.",
            [
                new(200, "The token (id_token, access_token, token_type, expires_in).", "application/json"),
                new(400, "The request is not valid form data or JSON, or a field is out of range.", "application/problem+json"),
                new(413, "The request body is too large."),
            ]),
    ];

    public static WebApplication MapDevIssuer(this WebApplication app)
    {
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            Log.DevelopmentIssuerStarted(app.Logger, app.Services.GetRequiredService<IssuerAddress>().Url);
            app.Services.GetRequiredService<CaIssuerEntry>().Write();
        });
        app.Lifetime.ApplicationStopping.Register(() => app.Services.GetRequiredService<CaIssuerEntry>().Remove());
        app.MapGet("/.well-known/openid-configuration", (IssuerAddress address) => TypedResults.Json(new Dictionary<string, object>
        {
            ["issuer"] = address.Url,
            ["jwks_uri"] = address.Url + "/jwks",
            ["token_endpoint"] = address.Url + "/token",
            ["response_types_supported"] = new[] { "id_token" },
            ["subject_types_supported"] = new[] { "public" },
            ["id_token_signing_alg_values_supported"] = new[] { SigningKey.Algorithm },
            ["claims_supported"] = new[] { "iss", "sub", "aud", "exp", "iat", "nbf", "email", "email_verified" },
        }));
        app.MapGet("/jwks", (SigningKey key) => TypedResults.Json(key.Jwks));
        app.MapPost("/token", MintAsync);
        return app;
    }

    /// <summary>
    /// Mints a token. Form or JSON fields: <c>email</c>, <c>sub</c>, <c>aud</c> (default sigstore), <c>ttl</c>
    /// (seconds), <c>email_verified</c> (default true when an email is given) and <c>claims</c>, a JSON object
    /// merged last (a null value removes a claim, so tests can mint tokens without <c>exp</c> or <c>aud</c>).
    /// </summary>
    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> MintAsync(
        HttpRequest request, SigningKey key, IssuerAddress address, TimeProvider time, IOptions<DevIssuerOptions> options, ILoggerFactory loggers)
    {
        TokenRequest body;
        try
        {
            body = request.HasFormContentType ? TokenRequest.FromForm(await request.ReadFormAsync()) : await TokenRequest.FromJsonAsync(request);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidDataException)
        {
            // The parser's own text is not echoed: the message names what is expected instead.
            return TypedResults.Problem("the token request is not valid form data or a JSON object (email, sub, aud, ttl, email_verified, claims)", statusCode: StatusCodes.Status400BadRequest);
        }

        var ttl = body.Ttl ?? options.Value.DefaultTtlSeconds;
        if (ttl <= 0 || ttl > options.Value.MaxTtlSeconds)
        {
            return TypedResults.Problem($"ttl must be between 1 and {options.Value.MaxTtlSeconds} seconds", statusCode: StatusCodes.Status400BadRequest);
        }

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var subject = body.Sub ?? body.Email ?? "dev-user";
        var audience = body.Aud ?? "sigstore";
        var payload = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["iss"] = address.Url,
            ["sub"] = subject,
            ["aud"] = audience,
            ["iat"] = now,
            ["nbf"] = now,
            ["exp"] = now + ttl,
        };
        if (body.Email is not null)
        {
            payload["email"] = body.Email;
            payload["email_verified"] = body.EmailVerified ?? true;
        }

        foreach (var (name, value) in body.Claims)
        {
            if (value.ValueKind == JsonValueKind.Null)
            {
                payload.Remove(name);
            }
            else
            {
                payload[name] = value;
            }
        }

        Log.TokenMinted(loggers.CreateLogger("TransparencyLog.DevIssuer"), subject, audience, ttl);
        var token = key.Sign(payload);
        return TypedResults.Ok(new TokenResponse(token, token, "Bearer", ttl));
    }

    internal static bool TryParseLoopback(string url, out IPEndPoint? endpoint)
    {
        endpoint = null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "http" || uri.AbsolutePath != "/")
        {
            return false;
        }

        var host = uri.Host == "localhost" ? IPAddress.Loopback.ToString() : uri.Host.Trim('[', ']');
        if (!IPAddress.TryParse(host, out var ip) || !IPAddress.IsLoopback(ip))
        {
            return false;
        }

        endpoint = new IPEndPoint(ip, uri.Port);
        return true;
    }

    private sealed record TokenRequest(string? Email, string? Sub, string? Aud, int? Ttl, bool? EmailVerified, Dictionary<string, JsonElement> Claims)
    {
        public static TokenRequest FromForm(IFormCollection form)
        {
            string? Field(string name) => form.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value.ToString() : null;
            var claims = Field("claims") is { } json
                ? JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json) ?? []
                : [];
            return new TokenRequest(
                Field("email"),
                Field("sub"),
                Field("aud"),
                Field("ttl") is { } ttl ? ParseTtl(ttl) : null,
                Field("email_verified") is { } verified ? bool.Parse(verified) : null,
                claims);
        }

        /// <summary>A ttl too large for an int is out of range like any other: a format error here, not an OverflowException.</summary>
        private static int ParseTtl(string text) =>
            int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ttl) ? ttl : throw new FormatException("ttl is not an integer");

        public static async Task<TokenRequest> FromJsonAsync(HttpRequest request)
        {
            // Buffered and checked before parsing: JsonDocument leaves invalid UTF-8 inside a string to throw
            // InvalidOperationException when it is read, and a root that is not an object throws on the first lookup.
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            if (!System.Text.Unicode.Utf8.IsValid(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)))
            {
                throw new JsonException("the body is not UTF-8");
            }

            using var document = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException("the body is not a JSON object");
            }
            string? Text(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            var claims = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            if (root.TryGetProperty("claims", out var extra) && extra.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in extra.EnumerateObject())
                {
                    claims[property.Name] = property.Value.Clone();
                }
            }

            return new TokenRequest(
                Text("email"),
                Text("sub"),
                Text("aud"),
                root.TryGetProperty("ttl", out var ttl) && ttl.ValueKind == JsonValueKind.Number ? ttl.GetInt32() : null,
                root.TryGetProperty("email_verified", out var verified) && verified.ValueKind is JsonValueKind.True or JsonValueKind.False
                    ? verified.GetBoolean()
                    : null,
                claims);
        }
    }
}

/// <summary>The token endpoint's answer (OAuth-shaped; the id_token and access_token are the same JWT).</summary>
internal sealed record TokenResponse(
    [property: System.Text.Json.Serialization.JsonPropertyName("id_token")] string IdToken,
    [property: System.Text.Json.Serialization.JsonPropertyName("access_token")] string AccessToken,
    [property: System.Text.Json.Serialization.JsonPropertyName("token_type")] string TokenType,
    [property: System.Text.Json.Serialization.JsonPropertyName("expires_in")] int ExpiresIn);

/// <summary>The issuer URL: the configured URL, or the bound address when the configured port is 0.</summary>
internal sealed class IssuerAddress(IOptions<DevIssuerOptions> options, IServer server)
{
    public string Url
    {
        get
        {
            var configured = options.Value.Url.TrimEnd('/');
            if (!configured.EndsWith(":0", StringComparison.Ordinal))
            {
                return configured;
            }

            return server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()?.TrimEnd('/')
                ?? throw new InvalidOperationException("the development issuer is not listening yet");
        }
    }
}

/// <summary>Ready once the signing key is loaded (or generated) from the state directory.</summary>
internal sealed class SigningKeyHealthCheck(IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            services.GetRequiredService<SigningKey>();
            return Task.FromResult(HealthCheckResult.Healthy());
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("the signing key is not loaded"));
        }
    }
}
