using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TransparencyLog.CaService.Tests.Infrastructure;

namespace TransparencyLog.CaService.Tests.Identity;

/// <summary>
/// Discovery and JWKS fetches across hosts (Fulcio #2354). Two loopback "hosts": an issuer named by
/// <c>127.0.0.1</c> and a second server named by <c>localhost</c>, which the redirect check tells apart by name.
/// Tokens are minted by the email development issuer with <c>iss</c> rewritten, so its JWKS verifies them.
/// </summary>
[Collection(CaFixture.Collection)]
public sealed class DiscoveryHardeningTests(CaFixture fixture)
{
    private const string DiscoveryPath = "/.well-known/openid-configuration";

    [Fact]
    public async Task SigningCert_DiscoveryRedirectsToAnotherHost_RejectedAndOtherHostNeverAsked()
    {
        await using var other = await LoopbackHost.StartAsync("localhost", _ => Results.Text("{}", "application/json"));
        await using var issuer = await LoopbackHost.StartAsync("127.0.0.1", _ => Results.Redirect(other.Url + DiscoveryPath));

        using var response = await RequestCertificateAsync(issuer.Url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"the keys of issuer '{issuer.Url}' could not be retrieved", await MessageAsync(response), StringComparison.Ordinal);
        Assert.Contains(DiscoveryPath, issuer.Requests);
        Assert.Empty(other.Requests);
    }

    [Fact]
    public async Task SigningCert_DiscoveryRedirectsWithinTheSameHost_Followed()
    {
        var jwks = await fixture.Email.JwksAsync();
        LoopbackHost? self = null;
        await using var issuer = await LoopbackHost.StartAsync("127.0.0.1", context => context.Request.Path.Value switch
        {
            DiscoveryPath => Results.Redirect("/moved/openid-configuration"),
            "/moved/openid-configuration" => Discovery(self?.Url ?? "", (self?.Url ?? "") + "/jwks"),
            "/jwks" => Results.Text(jwks, "application/json"),
            _ => Results.NotFound(),
        });
        self = issuer;

        using var response = await RequestCertificateAsync(issuer.Url);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal([DiscoveryPath, "/moved/openid-configuration", "/jwks"], issuer.Requests);
    }

    [Fact]
    public async Task SigningCert_JwksOnAnotherHost_AcceptedAsFulcioDoes()
    {
        // Fulcio (go-oidc) takes jwks_uri from the discovery document wherever it points: the document itself is
        // only ever read from the issuer's own host, so whoever controls it controls the keys either way.
        var jwks = await fixture.Email.JwksAsync();
        await using var keys = await LoopbackHost.StartAsync("localhost", _ => Results.Text(jwks, "application/json"));
        LoopbackHost? self = null;
        await using var issuer = await LoopbackHost.StartAsync("127.0.0.1", _ => Discovery(self?.Url ?? "", keys.Url + "/keys"));
        self = issuer;

        using var response = await RequestCertificateAsync(issuer.Url);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(["/keys"], keys.Requests);
    }

    [Fact]
    public async Task SigningCert_JwksRedirectsToAnotherHost_Rejected()
    {
        var jwks = await fixture.Email.JwksAsync();
        await using var other = await LoopbackHost.StartAsync("localhost", _ => Results.Text(jwks, "application/json"));
        LoopbackHost? self = null;
        await using var issuer = await LoopbackHost.StartAsync("127.0.0.1", context => context.Request.Path.Value switch
        {
            DiscoveryPath => Discovery(self?.Url ?? "", (self?.Url ?? "") + "/jwks"),
            _ => Results.Redirect(other.Url + "/jwks"),
        });
        self = issuer;

        using var response = await RequestCertificateAsync(issuer.Url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("could not be retrieved", await MessageAsync(response), StringComparison.Ordinal);
        Assert.Empty(other.Requests);
    }

    private static async Task<string> MessageAsync(HttpResponseMessage response)
    {
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("message").GetString() ?? "";
    }

    private static IResult Discovery(string issuer, string jwksUri) => Results.Text(JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["issuer"] = issuer,
        ["jwks_uri"] = jwksUri,
        ["id_token_signing_alg_values_supported"] = new[] { "ES256" },
    }), "application/json");

    private async Task<HttpResponseMessage> RequestCertificateAsync(string issuerUrl)
    {
        await using var ca = CaServer.Start(new Dictionary<string, string?>
        {
            ["Identity:Issuers:0:IssuerUrl"] = issuerUrl,
            ["Identity:Issuers:0:Type"] = "email",
        });
        var token = await fixture.Email.MintAsync(email: "alice@example.com", claims: new { iss = issuerUrl });
        using var key = new TestKey();
        var response = await CaResponses.PostSigningCertAsync(ca.Rest, key.RequestJson(token, "alice@example.com"));
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    /// <summary>A one-handler HTTP server on 127.0.0.1, addressed by <paramref name="hostName"/>, recording paths.</summary>
    private sealed class LoopbackHost : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private LoopbackHost(WebApplication app, string url)
        {
            _app = app;
            Url = url;
        }

        public string Url { get; }

        public ConcurrentQueue<string> Requests { get; } = new();

        public static async Task<LoopbackHost> StartAsync(string hostName, Func<HttpContext, IResult> handler)
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            LoopbackHost? host = null;
            app.Run(async context =>
            {
                host?.Requests.Enqueue(context.Request.Path.Value ?? "");
                await handler(context).ExecuteAsync(context);
            });
            await app.StartAsync();
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
            host = new LoopbackHost(app, $"http://{hostName}:{address.Port}");
            return host;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
