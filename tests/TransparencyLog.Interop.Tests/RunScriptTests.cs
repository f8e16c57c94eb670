using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests;

[Collection(SystemCollection.Name)]
public sealed class RunScriptTests(LocalSystem system)
{
    [Theory]
    [InlineData("REKOR_URL")]
    [InlineData("REKOR_NOTE_VKEY")]
    [InlineData("REKOR_V2_URL")]
    [InlineData("TSA_URL")]
    [InlineData("CT_LOG_URL")]
    [InlineData("FULCIO_URL")]
    [InlineData("FULCIO_GRPC")]
    [InlineData("OIDC_ISSUER")]
    [InlineData("DEV_TOKEN_CMD")]
    [InlineData("TRUSTED_ROOT")]
    [InlineData("SIGNING_CONFIG")]
    [InlineData("PG_CONNECTION")]
    [InlineData("EXPLORER_URL")]
    public void RunBackground_EndpointsFile_HasEveryVariable(string name) =>
        Assert.False(string.IsNullOrWhiteSpace(system[name]), $"{name} is empty");

    [Theory]
    [InlineData("REKOR_URL", "/healthz")]
    [InlineData("FULCIO_URL", "/healthz")]
    [InlineData("OIDC_ISSUER", "/.well-known/openid-configuration")]
    [InlineData("REKOR_URL", "/api/v1/log")]
    [InlineData("FULCIO_URL", "/api/v2/trustBundle")]
    [InlineData("EXPLORER_URL", "")]
    public async Task RunBackground_Services_AnswerOnTheirUrls(string variable, string path)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(system[variable] + path);
        Assert.True(response.IsSuccessStatusCode, $"{system[variable]}{path} answered {(int)response.StatusCode}");
    }

    [Fact]
    public async Task DevTokenCommand_Email_PrintsAThreePartJwt()
    {
        var token = await system.DevTokenAsync("someone@example.com");
        Assert.Equal(2, token.Count(c => c == '.'));
    }
}
