using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using TransparencyLog.CaService.Fulcio;
using TransparencyLog.CaService.Grpc;
using TransparencyLog.CaService.Tests.Grpc;
using TransparencyLog.CaService.Tests.Infrastructure;

namespace TransparencyLog.CaService.Tests.Api;

/// <summary>Each transport answers on its own port only; one shared port serves both.</summary>
[Collection(CaFixture.Collection)]
public sealed class TransportPortTests(CaFixture fixture)
{
    [Theory]
    [InlineData("/healthz")]
    [InlineData("/api/v2/trustBundle")]
    [InlineData("/api/v2/configuration")]
    public async Task RestRoute_OnGrpcPort_Returns404(string path)
    {
        using var client = fixture.Ca.CreateGrpcClient();

        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task SigningCert_OnGrpcPort_Returns404()
    {
        using var client = fixture.Ca.CreateGrpcClient();
        using var content = new StringContent("{}", new MediaTypeHeaderValue("application/json"));

        using var response = await client.PostAsync("/api/v2/signingCert", content);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("GetTrustBundle")]
    [InlineData("CreateSigningCertificate")]
    public async Task GrpcRoute_OnRestPort_Returns404(string method)
    {
        using var content = GrpcContent(new GetTrustBundleRequest());

        using var response = await fixture.Ca.Rest.PostAsync(CaGrpcService.ServicePath + "/" + method, content);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task BothTransports_OnOneDuplexPort_BothAnswer()
    {
        await using var ca = CaServer.Start(fixture.Settings(), duplex: true);
        Assert.Equal(ca.RestUrl, ca.GrpcUrl);

        Assert.Equal("ok", await ca.Rest.GetStringAsync("/healthz"));
        using var bundle = await ca.Rest.GetAsync("/api/v2/trustBundle");
        Assert.Equal(HttpStatusCode.OK, bundle.StatusCode);
        Assert.Equal(new Version(1, 1), bundle.Version);

        using var grpc = ca.CreateGrpcClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, CaGrpcService.ServicePath + "/GetTrustBundle")
        {
            Content = GrpcContent(new GetTrustBundleRequest()),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TE.ParseAdd("trailers");
        using var response = await grpc.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("0", Assert.Single(response.TrailingHeaders.GetValues("grpc-status")));
        Assert.NotEmpty(GrpcFrames.Single(TrustBundle.Parser, body).Chains);
    }

    [Fact]
    public void Start_SamePortOnDifferentAddresses_FailsValidation()
    {
        var settings = fixture.Settings(new Dictionary<string, string?>
        {
            ["Api:RestUrl"] = "http://127.0.0.1:5599",
            ["Api:GrpcUrl"] = "http://127.0.0.2:5599",
        });

        var error = Assert.ThrowsAny<Exception>(() => CaServer.Start(settings));

        var validation = Assert.IsType<OptionsValidationException>(error.GetBaseException());
        Assert.Contains(validation.Failures, f => f.Contains("share a port", StringComparison.Ordinal));
    }

    private static ByteArrayContent GrpcContent(IMessage message)
    {
        var content = new ByteArrayContent(GrpcFrames.Frame(message));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/grpc");
        return content;
    }
}
