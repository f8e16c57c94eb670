using System.Net;
using TransparencyLog.CaService.Tests.Infrastructure;

namespace TransparencyLog.CaService.Tests.Api;

/// <summary>Request headers over the limit: 431 with a grpc-gateway shaped body, not an empty answer.</summary>
[Collection(CaFixture.Collection)]
public sealed class HeaderLimitTests(CaFixture fixture)
{
    [Fact]
    public async Task SigningCert_OneMegabyteAuthorizationHeader_Returns431WithErrorBody()
    {
        using var key = new TestKey();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/signingCert")
        {
            Content = new StringContent(key.RequestJson("x.y.z", "alice@example.com"), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + new string('a', 1024 * 1024));

        using var response = await fixture.Ca.Rest.SendAsync(request);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.RequestHeaderFieldsTooLarge, $"{(int)response.StatusCode}: {body}");
        var (code, message) = CaResponses.Error(body);
        Assert.Equal(8, code);
        Assert.Contains("header", message, StringComparison.Ordinal);
    }
}
