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

    private static byte[] Frame(IMessage message) => GrpcFrames.Frame(message);

    private async Task<(HttpResponseMessage Response, byte[] Body)> CallAsync(string method, byte[] frame, string contentType = "application/grpc", string? encoding = null)
    {
        using var client = fixture.Ca.CreateGrpcClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, CaGrpcService.ServicePath + "/" + method)
        {
            Content = FrameContent(frame, contentType),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TE.ParseAdd("trailers");
        if (encoding is not null)
        {
            request.Headers.Add("grpc-encoding", encoding);
        }

        var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();
        return (response, body);
    }

    /// <summary>A status field: in the trailers, or in the headers of a trailers-only response (an error without
    /// a message), as PROTOCOL-HTTP2.md allows.</summary>
    private static string Trailer(HttpResponseMessage response, string name) =>
        response.TrailingHeaders.TryGetValues(name, out var values) ? values.Single()
        : response.Headers.TryGetValues(name, out var headers) ? headers.Single() : "";

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
        var certificate = GrpcFrames.Single(SigningCertificate.Parser, body);
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
        var bundle = GrpcFrames.Single(TrustBundle.Parser, body);
        Assert.NotEmpty(bundle.Chains);
    }

    [Fact]
    public async Task GetConfiguration_CompressedFrameWithoutEncoding_ReturnsInternal()
    {
        var frame = Frame(new GetConfigurationRequest());
        frame[0] = 1;

        var (response, _) = await CallAsync("GetConfiguration", frame);

        Assert.Equal("13", Trailer(response, "grpc-status"));
    }

    [Fact]
    public async Task GetConfiguration_GzipFrameLargerThanLimitWhenInflated_ReturnsResourceExhausted()
    {
        // 200 KiB of zeros in an unknown length-delimited field (15): a few hundred bytes once gzipped.
        var inflated = new List<byte> { 0x7A, 0x80, 0xC0, 0x0C };
        inflated.AddRange(new byte[200 * 1024]);
        using var packed = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(packed, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(inflated.ToArray());
        }

        var compressed = packed.ToArray();
        byte[] frame = [1, .. BigEndian((uint)compressed.Length), .. compressed];

        var (response, _) = await CallAsync("GetConfiguration", frame, encoding: "gzip");

        Assert.True(frame.Length < 1024);
        Assert.Equal("8", Trailer(response, "grpc-status"));
    }

    private static byte[] BigEndian(uint value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];

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
