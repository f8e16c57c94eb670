using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TransparencyLog.LogService.Timestamping;

namespace TransparencyLog.LogService.Tests.Timestamping;

/// <summary>The timestamping endpoints in a minimal app on a real loopback Kestrel, called over HTTP.</summary>
internal sealed class TsaTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TsaTestServer(WebApplication app, HttpClient client)
    {
        _app = app;
        Client = client;
    }

    public HttpClient Client { get; }

    public static async Task<TsaTestServer> StartAsync(IDictionary<string, string?>? settings = null, TimeProvider? time = null)
    {
        var app = Build(settings, time);
        await app.StartAsync();
        var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        return new TsaTestServer(app, client);
    }

    /// <summary>The same app as the service would build, without starting it (for start-up failure tests).</summary>
    public static WebApplication Build(IDictionary<string, string?>? settings = null, TimeProvider? time = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        builder.AddTimestamping();
        var app = builder.Build();
        app.MapTimestamping();
        return app;
    }

    public Task<HttpResponseMessage> PostAsync(byte[] body, string? contentType = TimestampingEndpoints.TimestampQueryMediaType)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        return Client.PostAsync("/api/v1/timestamp", content);
    }

    public Task<HttpResponseMessage> PostJsonAsync(string json) =>
        PostAsync(System.Text.Encoding.UTF8.GetBytes(json), "application/json");

    /// <summary>Posts and requires a 200 <c>application/timestamp-reply</c>; returns the DER TimeStampResp.</summary>
    public async Task<byte[]> TimestampAsync(byte[] body, string contentType = TimestampingEndpoints.TimestampQueryMediaType)
    {
        using var response = await PostAsync(body, contentType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(bytes)}");
        Assert.Equal(TimestampingEndpoints.TimestampReplyMediaType, response.Content.Headers.ContentType?.MediaType);
        return bytes;
    }

    /// <summary>The served chain, TSA certificate first.</summary>
    public async Task<IReadOnlyList<X509Certificate2>> GetChainAsync()
    {
        var pem = await Client.GetStringAsync("/api/v1/timestamp/certchain");
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(pem);
        return [.. chain];
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Builds DER TimeStampReq values, including ones no honest client would send.</summary>
internal static class TimestampRequests
{
    public const string Sha256Oid = "2.16.840.1.101.3.4.2.1";
    public const string Sha384Oid = "2.16.840.1.101.3.4.2.2";
    public const string Sha512Oid = "2.16.840.1.101.3.4.2.3";
    public const string Sha1Oid = "1.3.14.3.2.26";
    public const string Md5Oid = "1.2.840.113549.2.5";

    public static byte[] Der(
        int version = 1,
        string hashOid = Sha256Oid,
        int digestLength = 32,
        bool nullParameters = true,
        string? policy = null,
        byte[]? nonce = null,
        bool? certReq = null,
        bool extensions = false,
        byte[]? digest = null)
    {
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(version);
            using (writer.PushSequence())
            {
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(hashOid);
                    if (nullParameters)
                    {
                        writer.WriteNull();
                    }
                }

                writer.WriteOctetString(digest ?? RandomNumberGenerator.GetBytes(digestLength));
            }

            if (policy is not null)
            {
                writer.WriteObjectIdentifier(policy);
            }

            if (nonce is not null)
            {
                writer.WriteInteger(nonce);
            }

            if (certReq is { } value)
            {
                writer.WriteBoolean(value);
            }

            if (extensions)
            {
                using (writer.PushSequence(new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 0, true)))
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier("1.2.3.4");
                    writer.WriteOctetString([1, 2, 3]);
                }
            }
        }

        return writer.Encode();
    }

    public static string PolicyWithArcs(int arcs) => "1.2" + string.Concat(Enumerable.Repeat(".1", arcs - 2));
}
