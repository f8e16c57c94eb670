using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using TransparencyLog.CaService.Tests.Infrastructure;

namespace TransparencyLog.CaService.Tests.Identity;

/// <summary>Unverified tokens name their issuer; a flood of made-up wildcard issuers must not lock real ones out.</summary>
[Collection(CaFixture.Collection)]
public sealed class WildcardIssuerCacheTests(CaFixture fixture)
{
    [Fact]
    public async Task SigningCert_AfterManyMadeUpWildcardIssuers_RealWildcardIssuerStillWorks()
    {
        await using var ca = CaServer.Start(fixture.Settings(new Dictionary<string, string?>
        {
            ["Identity:MaxWildcardIssuers"] = "2",
        }));
        using var key = new TestKey();
        using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        // Each names a loopback port nothing listens on: it matches the wildcard, and its discovery fails.
        for (var i = 0; i < 5; i++)
        {
            var iss = $"http://127.0.0.1:{UnusedPort()}";
            var token = Jws.SignEs256(forger, new { alg = "ES256", kid = "k" }, new
            {
                iss,
                sub = "mallory@example.com",
                aud = "sigstore",
                exp = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds(),
                email = "mallory@example.com",
                email_verified = true,
            });
            using var refused = await CaResponses.PostSigningCertAsync(ca.Rest, key.RequestJson(token, "mallory@example.com"));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        var real = await fixture.Wildcard.MintAsync(email: "alice@example.com");
        using var issued = await CaResponses.PostSigningCertAsync(ca.Rest, key.RequestJson(real, "alice@example.com"));
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
