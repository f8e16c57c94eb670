extern alias devissuer;

using devissuer::TransparencyLog.DevIssuer;

namespace TransparencyLog.CaService.Tests.Identity;

public sealed class DevIssuerTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5556", true)]
    [InlineData("http://[::1]:5556", true)]
    [InlineData("http://localhost:5556", true)]
    [InlineData("http://0.0.0.0:5556", false)]
    [InlineData("http://10.0.0.5:5556", false)]
    [InlineData("http://issuer.example:5556", false)]
    [InlineData("https://127.0.0.1:5556", false)]
    public void TryParseLoopback_Url_AcceptsOnlyLoopback(string url, bool accepted)
    {
        Assert.Equal(accepted, DevIssuerEndpoints.TryParseLoopback(url, out _));
    }
}
