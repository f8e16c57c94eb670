using System.Net;
using TransparencyLog.CaService.Tests.Infrastructure;

namespace TransparencyLog.CaService.Tests.Identity;

/// <summary>An air-gapped issuer: keys from a JWKS file, no discovery. The dev issuer's JWKS is copied to a file
/// and the CA is pointed at an issuer URL nobody listens on.</summary>
[Collection(CaFixture.Collection)]
public sealed class StaticJwksTests(CaFixture fixture)
{
    [Fact]
    public async Task SigningCert_IssuerWithJwksFile_VerifiesWithoutDiscovery()
    {
        var jwks = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(jwks, await fixture.Email.JwksAsync());
            const string OfflineIssuer = "https://ci.offline.example";
            await using var ca = CaServer.Start(new Dictionary<string, string?>
            {
                ["Identity:Issuers:0:IssuerUrl"] = OfflineIssuer,
                ["Identity:Issuers:0:Type"] = "email",
                ["Identity:Issuers:0:JwksFile"] = jwks,
                ["Identity:Issuers:0:AllowedAlgorithms:0"] = "ES256",
            });
            var token = await fixture.Email.MintAsync(email: "alice@example.com", claims: new { iss = OfflineIssuer });
            using var key = new TestKey();

            using var response = await CaResponses.PostSigningCertAsync(ca.Rest, key.RequestJson(token, "alice@example.com"));

            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }
        finally
        {
            File.Delete(jwks);
        }
    }
}
