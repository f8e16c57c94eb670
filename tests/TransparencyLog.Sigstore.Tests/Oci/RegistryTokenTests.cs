using System.Net;
using Microsoft.AspNetCore.Http;
using TransparencyLog.Sigstore.Oci;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Sigstore.Tests.Oci;

/// <summary>The Bearer token flow against a small token service: refresh-token grant, expiry, 401 and 403, concurrent requests.</summary>
public sealed class RegistryTokenTests : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task BearerChallenge_IdentityToken_RefreshTokenGrantAndExpiredTokenRefetched()
    {
        var forms = new List<Dictionary<string, string>>();
        var issued = 0;
        string? valid = null;
        await using var fake = await FakeRegistry.StartAsync(async (registry, context) =>
        {
            if (context.Request.Path == "/token")
            {
                var form = await context.Request.ReadFormAsync();
                lock (forms)
                {
                    forms.Add(form.ToDictionary(static f => f.Key, static f => f.Value.ToString(), StringComparer.Ordinal));
                }

                if (context.Request.Method != "POST" || form["grant_type"] != "refresh_token" || form["refresh_token"] != "refresh-secret-42")
                {
                    context.Response.StatusCode = 401;
                    return;
                }

                valid = $"access-{Interlocked.Increment(ref issued)}";
                await context.Response.WriteAsJsonAsync(new { access_token = valid, expires_in = 60 });
                return;
            }

            if (valid is null || context.Request.Headers.Authorization != "Bearer " + valid)
            {
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"http://{registry.Address}/token\",service=\"fake-registry\"";
                return;
            }

            // Each access token serves one request, then expires: the next request must fetch a fresh one.
            valid = null;
            context.Response.StatusCode = (int)HttpStatusCode.NotFound;
        });
        var client = new RegistryClient(_http, fake.Address, new RegistryCredential("<token>", "refresh-secret-42"), allowInsecure: false);

        var first = await client.GetManifestAsync("team/app", "v1", CancellationToken.None);
        var second = await client.GetManifestAsync("team/app", "v2", CancellationToken.None);

        Assert.Null(first);
        Assert.Null(second);
        Assert.Equal(2, issued);
        Assert.All(forms, form =>
        {
            Assert.Equal("refresh_token", form["grant_type"]);
            Assert.Equal("fake-registry", form["service"]);
            Assert.Equal("repository:team/app:pull", form["scope"]);
        });
    }

    [Theory]
    [InlineData(401, "REGISTRY_UNAUTHORIZED", "401 unauthorized")]
    [InlineData(403, "REGISTRY_DENIED", "403 forbidden")]
    public async Task BearerChallenge_TokenServiceRefuses_ClearErrorWithoutTheSecret(int status, string code, string phrase)
    {
        var tokenRequests = 0;
        await using var fake = await FakeRegistry.StartAsync(async (registry, context) =>
        {
            if (context.Request.Path == "/token")
            {
                Interlocked.Increment(ref tokenRequests);
                context.Response.StatusCode = status;
                // A token service that echoes what it was sent: the client must not repeat the secret.
                await context.Response.WriteAsJsonAsync(new { errors = new[] { new { code = "DENIED", message = "no access for " + context.Request.Headers.Authorization } } });
                return;
            }

            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"http://{registry.Address}/token\",service=\"fake\"";
        });
        var client = new RegistryClient(_http, fake.Address, new RegistryCredential("robot", "pw-secret-9"), allowInsecure: false);

        var error = await Assert.ThrowsAsync<OciException>(() => client.GetManifestAsync("team/app", "v1", CancellationToken.None));

        Assert.Equal(code, error.Code);
        Assert.Contains(phrase, error.Message, StringComparison.Ordinal);
        Assert.Contains("repository:team/app:pull", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pw-secret-9", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String("robot:pw-secret-9"u8), error.Message, StringComparison.Ordinal);
        Assert.Equal(1, tokenRequests);
    }

    [Fact]
    public async Task BearerChallenge_ManyConcurrentRequests_EveryOneAuthorized()
    {
        await using var fake = await FakeRegistry.StartAsync(async (registry, context) =>
        {
            if (context.Request.Path == "/token")
            {
                await context.Response.WriteAsJsonAsync(new { token = "t0ken-" + context.Request.Query["scope"].ToString().Replace(':', '-'), expires_in = 300 });
                return;
            }

            var repository = (context.Request.Path.Value ?? string.Empty).Split("/manifests/")[0]["/v2/".Length..];
            if (context.Request.Headers.Authorization != "Bearer t0ken-repository-" + repository + "-pull")
            {
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"http://{registry.Address}/token\",service=\"fake\"";
                return;
            }

            context.Response.StatusCode = (int)HttpStatusCode.NotFound;
        });
        var client = new RegistryClient(_http, fake.Address, null, allowInsecure: false);

        // Many images of several repositories read at once through one client, as a multi-image sign or verify does:
        // each repository's token is fetched and used without one request's token reaching another's scope.
        var reads = await Task.WhenAll(Enumerable.Range(0, 48).Select(i => client.GetManifestAsync($"team/app{i % 6}", $"v{i}", CancellationToken.None)));

        Assert.All(reads, Assert.Null);
    }
}
