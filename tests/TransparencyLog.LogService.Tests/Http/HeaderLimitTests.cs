using System.Net;
using System.Text.Json;
using TransparencyLog.LogService.Tests.Infrastructure;

namespace TransparencyLog.LogService.Tests.Http;

/// <summary>Request headers over the limit: 431 with a body in the API's error shape, not an empty answer.</summary>
public sealed class HeaderLimitTests(LogFixture log) : IClassFixture<LogFixture>
{
    [Theory]
    [InlineData("/api/v1/log", "GET")]
    [InlineData("/api/v1/log/entries", "POST")]
    [InlineData("/api/v1/timestamp", "POST")]
    public async Task Request_OneMegabyteAuthorizationHeader_Returns431WithRekorError(string path, string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + new string('a', 1024 * 1024));
        if (method == "POST")
        {
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await log.Client.SendAsync(request);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.RequestHeaderFieldsTooLarge, $"{(int)response.StatusCode}: {body}");
        using var error = JsonDocument.Parse(body);
        Assert.Equal(431, error.RootElement.GetProperty("code").GetInt32());
        Assert.Contains("header", error.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_HeadersUnderTheLimit_AreServed()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/log");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + new string('a', 16 * 1024));

        using var response = await log.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
