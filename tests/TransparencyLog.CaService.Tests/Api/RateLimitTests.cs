using System.Net;
using TransparencyLog.CaService.Tests.Infrastructure;

namespace TransparencyLog.CaService.Tests.Api;

/// <summary>Each test runs its own CA, so its limits never touch the shared one.</summary>
[Collection(CaFixture.Collection)]
public sealed class RateLimitTests(CaFixture fixture)
{
    [Fact]
    public async Task SigningCert_MoreThanPerAddressPermits_Returns429WithStableMessage()
    {
        await using var ca = CaServer.Start(fixture.Settings(new Dictionary<string, string?>
        {
            ["Api:RateLimits:PerAddressPermits"] = "2",
            ["Api:RateLimits:Window"] = "00:10:00",
        }));
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = new TestKey();

        for (var i = 0; i < 2; i++)
        {
            using var allowed = await CaResponses.PostSigningCertAsync(ca.Rest, key.RequestJson(token, "alice@example.com"));
            Assert.Equal(HttpStatusCode.Created, allowed.StatusCode);
        }

        using var limited = await CaResponses.PostSigningCertAsync(ca.Rest, key.RequestJson(token, "alice@example.com"));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        var (code, message) = CaResponses.Error(await limited.Content.ReadAsStringAsync());
        Assert.Equal(8, code);
        Assert.Equal("rate limit exceeded for this client address; retry later", message);
    }

    [Fact]
    public async Task SigningCert_MoreThanPerIdentityPermits_Returns429ForThatIdentityOnly()
    {
        await using var ca = CaServer.Start(fixture.Settings(new Dictionary<string, string?>
        {
            ["Api:RateLimits:PerIdentityPermits"] = "1",
            ["Api:RateLimits:Window"] = "00:10:00",
        }));
        var alice = await fixture.Email.MintAsync(email: "alice@example.com");
        var bob = await fixture.Email.MintAsync(email: "bob@example.com");
        using var key = new TestKey();

        using var first = await CaResponses.PostSigningCertAsync(ca.Rest, key.RequestJson(alice, "alice@example.com"));
        using var second = await CaResponses.PostSigningCertAsync(ca.Rest, key.RequestJson(alice, "alice@example.com"));
        using var other = await CaResponses.PostSigningCertAsync(ca.Rest, key.RequestJson(bob, "bob@example.com"));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal("rate limit exceeded for this identity; retry later", CaResponses.Error(await second.Content.ReadAsStringAsync()).Message);
        Assert.Equal(HttpStatusCode.Created, other.StatusCode);
    }
}
