using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using TransparencyLog.CaService.Fulcio;
using TransparencyLog.CaService.Grpc;
using TransparencyLog.CaService.Tests.Infrastructure;

namespace TransparencyLog.CaService.Tests.Grpc;

/// <summary>The gRPC endpoint over real h2c, checked at the HTTP/2 level: status 200, frames, trailers.</summary>
[Collection(CaFixture.Collection)]
public sealed class GrpcEndpointTests(CaFixture fixture)
{
    private static ByteArrayContent FrameContent(byte[] frame, string contentType = "application/grpc")
    {
        var content = new ByteArrayContent(frame);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    private static byte[] Frame(IMessage message)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        GrpcFraming.WriteMessage(writer, message);
        return writer.WrittenSpan.ToArray();
    }

    private async Task<(HttpResponseMessage Response, byte[] Body)> CallAsync(string method, byte[] frame, string contentType = "application/grpc")
    {
        using var client = fixture.Ca.CreateGrpcClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, CaGrpcApi.ServicePath + "/" + method)
        {
            Content = FrameContent(frame, contentType),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TE.ParseAdd("trailers");
        var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        return (response, body);
    }

    private static string Trailer(HttpResponseMessage response, string name) =>
        response.TrailingHeaders.TryGetValues(name, out var values) ? values.Single() : "";

    [Fact]
    public async Task CreateSigningCertificate_ValidRequest_ReturnsFrameAndStatusOk()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = new TestKey();
        var request = new CreateSigningCertificateRequest
        {
            Credentials = new Credentials { OidcIdentityToken = token },
            PublicKeyRequest = new PublicKeyRequest
            {
                PublicKey = new PublicKey { Algorithm = PublicKeyAlgorithm.Ecdsa, Content = key.PublicKeyPem },
                ProofOfPossession = ByteString.FromBase64(key.Prove("alice@example.com")),
            },
        };

        var (response, body) = await CallAsync("CreateSigningCertificate", Frame(request));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("0", Trailer(response, "grpc-status"));
        Assert.Equal(0, body[0]);
        var certificate = SigningCertificate.Parser.ParseFrom(body.AsSpan(GrpcFraming.HeaderLength).ToArray());
        Assert.True(certificate.SignedCertificateEmbeddedSct.Chain.Certificates.Count >= 2);
    }

    [Fact]
    public async Task CreateSigningCertificate_UnknownIssuer_ReturnsInvalidArgumentInTrailersWithEncodedMessage()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com", claims: new { iss = "https://unknown.example/100%" });
        var request = new CreateSigningCertificateRequest { Credentials = new Credentials { OidcIdentityToken = token } };

        var (response, body) = await CallAsync("CreateSigningCertificate", Frame(request));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(body);
        Assert.Equal("3", Trailer(response, "grpc-status"));
        Assert.Equal("issuer 'https://unknown.example/100%25' is not configured", Trailer(response, "grpc-message"));
    }

    [Fact]
    public async Task GetTrustBundle_EmptyRequest_ReturnsChains()
    {
        var (response, body) = await CallAsync("GetTrustBundle", Frame(new GetTrustBundleRequest()), "application/grpc+proto");

        Assert.Equal("0", Trailer(response, "grpc-status"));
        var bundle = TrustBundle.Parser.ParseFrom(body.AsSpan(GrpcFraming.HeaderLength).ToArray());
        Assert.NotEmpty(bundle.Chains);
    }

    [Fact]
    public async Task GetConfiguration_CompressedFrame_ReturnsUnimplemented()
    {
        var frame = Frame(new GetConfigurationRequest());
        frame[0] = 1;

        var (response, _) = await CallAsync("GetConfiguration", frame);

        Assert.Equal("12", Trailer(response, "grpc-status"));
    }

    [Fact]
    public async Task CreateSigningCertificate_LengthPrefixAboveLimit_ReturnsResourceExhausted()
    {
        byte[] frame = [0, 0x7f, 0xff, 0xff, 0xff];

        var (response, _) = await CallAsync("CreateSigningCertificate", frame);

        Assert.Equal("8", Trailer(response, "grpc-status"));
    }

    [Fact]
    public async Task CreateSigningCertificate_TruncatedFrame_ReturnsInternal()
    {
        var (response, _) = await CallAsync("CreateSigningCertificate", [0, 0, 0, 0, 9, 1, 2]);

        Assert.Equal("13", Trailer(response, "grpc-status"));
    }

    [Fact]
    public async Task GetConfiguration_JsonContentType_Returns415()
    {
        var (response, _) = await CallAsync("GetConfiguration", Frame(new GetConfigurationRequest()), "application/json");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }
}
