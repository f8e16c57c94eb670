using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using Google.Protobuf;
using TransparencyLog.CaService.Fulcio;
using TransparencyLog.CaService.Grpc;
using TransparencyLog.CaService.Tests.Infrastructure;

namespace TransparencyLog.CaService.Tests.Api;

/// <summary>A CT log that stays unreachable: the CA answers 503 with Retry-After (REST) and UNAVAILABLE (gRPC).</summary>
[Collection(CaFixture.Collection)]
public sealed class CtUnavailableTests(CaFixture fixture) : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tlog-ct-down-").FullName;
    private CaServer? _ca;

    private CaServer Ca => _ca ?? throw new InvalidOperationException("not started");

    public Task InitializeAsync()
    {
        using var logKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var keyPath = Path.Combine(_directory, "ctlog.pub");
        File.WriteAllText(keyPath, logKey.ExportSubjectPublicKeyInfoPem());
        _ca = CaServer.Start(fixture.Settings(new Dictionary<string, string?>
        {
            ["Issuance:CtLogUrl"] = $"http://127.0.0.1:{ClosedPort()}",
            ["Issuance:CtLogPublicKeyPath"] = keyPath,
            ["Issuance:CtLogRetryBudget"] = "00:00:03",
        }));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_ca is not null)
        {
            await _ca.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task SigningCert_CtLogUnreachable_Returns503WithRetryAfter()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = new TestKey();

        using var response = await CaResponses.PostSigningCertAsync(Ca.Rest, key.RequestJson(token, "alice@example.com"));

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode}: {body}");
        Assert.NotNull(response.Headers.RetryAfter);
        var (code, message) = CaResponses.Error(body);
        Assert.Equal(14, code);
        Assert.Contains("certificate transparency log", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateSigningCertificateGrpc_CtLogUnreachable_ReturnsUnavailable()
    {
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = new TestKey();
        var message = new CreateSigningCertificateRequest
        {
            Credentials = new Credentials { OidcIdentityToken = token },
            PublicKeyRequest = new PublicKeyRequest
            {
                PublicKey = new PublicKey { Algorithm = PublicKeyAlgorithm.Ecdsa, Content = key.PublicKeyPem },
                ProofOfPossession = ByteString.FromBase64(key.Prove("alice@example.com")),
            },
        };
        using var client = Ca.CreateGrpcClient();
        using var content = new ByteArrayContent(TransparencyLog.CaService.Tests.Grpc.GrpcFrames.Frame(message));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/grpc");
        using var request = new HttpRequestMessage(HttpMethod.Post, CaGrpcService.ServicePath + "/CreateSigningCertificate")
        {
            Content = content,
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.TE.ParseAdd("trailers");

        using var response = await client.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var status = response.TrailingHeaders.TryGetValues("grpc-status", out var trailers) ? trailers.Single()
            : response.Headers.GetValues("grpc-status").Single();
        Assert.Equal("14", status);
    }

    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
