extern alias devissuer;

using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using devissuer::TransparencyLog.DevIssuer;

namespace TransparencyLog.CaService.Tests.Infrastructure;

/// <summary>A real development issuer on a loopback port, minting tokens over HTTP like a client would.</summary>
public sealed class DevIssuerServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _http;

    private DevIssuerServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
        _http = new HttpClient { BaseAddress = new Uri(url) };
    }

    public string Url { get; }

    /// <summary>Starts an issuer on a free loopback port; <paramref name="settings"/> adds <c>DevIssuer</c> settings.</summary>
    public static async Task<DevIssuerServer> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration["DevIssuer:Url"] = "http://127.0.0.1:0";
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.Configuration[key] = value;
        }
        builder.Logging.ClearProviders();
        builder.AddDevIssuer();
        var app = builder.Build();
        app.MapDevIssuer();
        await app.StartAsync();
        return new DevIssuerServer(app, app.Services.GetRequiredService<IssuerAddress>().Url);
    }

    /// <summary>Mints a token; <paramref name="claims"/> are merged last (null removes a claim).</summary>
    public async Task<string> MintAsync(string? email = null, string? sub = null, string? aud = null, object? claims = null, bool? emailVerified = null)
    {
        var request = new JsonObject();
        if (email is not null)
        {
            request["email"] = email;
        }

        if (sub is not null)
        {
            request["sub"] = sub;
        }

        if (aud is not null)
        {
            request["aud"] = aud;
        }

        if (emailVerified is not null)
        {
            request["email_verified"] = emailVerified;
        }

        if (claims is not null)
        {
            request["claims"] = JsonSerializer.SerializeToNode(claims);
        }

        using var response = await _http.PostAsJsonAsync("/token", request);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return body?["id_token"]?.GetValue<string>() ?? throw new InvalidOperationException("no id_token");
    }

    public async Task<string> JwksAsync() => await _http.GetStringAsync("/jwks");

    /// <summary>Stops the issuer as a shutdown signal would (its stopping hooks run); idempotent with dispose.</summary>
    public async Task StopAsync() => await _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
