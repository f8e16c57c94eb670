using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace TransparencyLog.Admission.Tests.Webhook;

/// <summary>
/// Connections are kept: every answer has a Content-Length, so an HTTP/1.0 keep-alive client (ab), an HTTP/1.1 API
/// server and an HTTP/2 one send review after review over one TLS connection. And the log gets the request line and
/// the decision record per review, not ASP.NET Core's per-request Information events.
/// </summary>
public sealed partial class WebhookTests
{
    [Fact]
    public async Task Validate_Http10KeepAlive_SeveralReviewsOnOneConnection()
    {
        var url = new Uri(_system["ADMISSION_URL"]);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(url.Host, url.Port);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = url.Host, CertificateChainPolicy = TrustAdmissionCa() });

        for (var i = 0; i < 3; i++)
        {
            var review = SkippedReview();
            var body = Encoding.UTF8.GetBytes(review.ToJsonString());
            var head = $"POST /validate HTTP/1.0\r\nHost: {url.Authority}\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n";
            await tls.WriteAsync(Encoding.ASCII.GetBytes(head));
            await tls.WriteAsync(body);

            var (status, headers, answer) = await ReadResponseAsync(tls);

            Assert.Equal("HTTP/1.1 200 OK", status);
            Assert.Equal("keep-alive", headers["connection"], ignoreCase: true);
            Assert.StartsWith("application/json", headers["content-type"], StringComparison.Ordinal);
            Assert.Equal(review["request"]!["uid"]!.GetValue<string>(), JsonNode.Parse(answer)!["response"]!["uid"]!.GetValue<string>());
        }
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task Validate_Http11AndHttp2_SeveralReviewsOnOneConnection(string version)
    {
        var connections = 0;
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = TrustAdmissionCa() },
            ConnectCallback = async (context, cancellationToken) =>
            {
                Interlocked.Increment(ref connections);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        using var http = new HttpClient(handler)
        {
            BaseAddress = new Uri(_system["ADMISSION_URL"]),
            DefaultRequestVersion = Version.Parse(version),
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        for (var i = 0; i < 3; i++)
        {
            var review = SkippedReview();
            using var content = new StringContent(review.ToJsonString(), Encoding.UTF8, "application/json");
            using var response = await http.PostAsync("/validate", content);
            var answer = await response.Content.ReadAsByteArrayAsync();

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(Version.Parse(version), response.Version);
            Assert.Equal(answer.Length, response.Content.Headers.ContentLength);
            Assert.Equal(review["request"]!["uid"]!.GetValue<string>(), JsonNode.Parse(answer)!["response"]!["uid"]!.GetValue<string>());
        }

        Assert.Equal(1, connections);
    }

    [Fact]
    public async Task Validate_AnyReview_RequestLineAndDecisionLoggedWithoutAspNetCoreInformation()
    {
        var review = SkippedReview();
        var uid = review["request"]!["uid"]!.GetValue<string>();

        await ValidateAsync(review);
        var decision = await WaitForLogAsync("Admission decision", uid);
        await WaitForLogAsync("HTTP POST /validate responded 200", "ms");
        string log;
        using (var stream = new FileStream(AdmissionLog, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        using (var reader = new StreamReader(stream))
        {
            log = await reader.ReadToEndAsync();
        }

        Assert.Contains("\"verdict\":\"skipped\"", decision, StringComparison.Ordinal);
        // ASP.NET Core's hosting and routing Information events, in either log format.
        Assert.DoesNotContain("Request starting", log, StringComparison.Ordinal);
        Assert.DoesNotContain("Executing endpoint", log, StringComparison.Ordinal);
    }

    /// <summary>A review the webhook answers without any policy or registry: a DELETE (never checked).</summary>
    private static JsonObject SkippedReview()
    {
        var review = Review("Pod", "", PodSpec(containers: [Unreachable]));
        review["request"]!["operation"] = "DELETE";
        return review;
    }

    private X509ChainPolicy TrustAdmissionCa()
    {
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(_system["ADMISSION_CA_BUNDLE"]);
        policy.CustomTrustStore.AddRange(roots);
        return policy;
    }

    /// <summary>One HTTP/1.x response: status line, headers (lower-case names), and exactly Content-Length bytes of body.</summary>
    private static async Task<(string Status, Dictionary<string, string> Headers, byte[] Body)> ReadResponseAsync(Stream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 4 || head[^4] != '\r' || head[^3] != '\n' || head[^2] != '\r' || head[^1] != '\n')
        {
            Assert.True(await stream.ReadAsync(one) == 1, "the connection closed before the response headers ended");
            head.Add(one[0]);
            Assert.True(head.Count < 16 * 1024, "response headers too long");
        }

        var lines = Encoding.ASCII.GetString([.. head]).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var headers = lines.Skip(1).Select(static l => l.Split(':', 2)).ToDictionary(static p => p[0].Trim().ToLowerInvariant(), static p => p[1].Trim());
        Assert.True(headers.TryGetValue("content-length", out var length), $"no Content-Length in:\n{string.Join('\n', lines)}");
        var body = new byte[int.Parse(length, System.Globalization.CultureInfo.InvariantCulture)];
        await stream.ReadExactlyAsync(body);
        return (lines[0], headers, body);
    }
}
