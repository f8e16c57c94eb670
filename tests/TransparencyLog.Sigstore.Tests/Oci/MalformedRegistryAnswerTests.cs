using System.Text;
using Microsoft.AspNetCore.Http;
using TransparencyLog.Sigstore.Oci;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Verification;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Sigstore.Tests.Oci;

/// <summary>
/// A registry's answers are untrusted input (an image may name any registry, and the admission webhook reads it):
/// JSON of the wrong shape, or not UTF-8, is an <see cref="OciException"/> or a failed signature, never an
/// InvalidOperationException or ArgumentException escaping the client (found by reading, 2026-12-06).
/// </summary>
public sealed class MalformedRegistryAnswerTests : IDisposable
{
    private const string ImageManifest = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"size\":2},\"layers\":[]}";

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly string _directory = Directory.CreateTempSubdirectory("tlog-registry-answers-").FullName;

    [Theory]
    [InlineData("[]")]
    [InlineData("\"t0ken\"")]
    [InlineData("{\"token\":5}")]
    [InlineData("{\"token\":{\"value\":\"t0ken\"}}")]
    public Task BearerChallenge_TokenAnswerOfAnotherShape_RefusedAsUnauthorized(string answer) =>
        AssertTokenAnswerRefusedAsync(Encoding.UTF8.GetBytes(answer));

    [Fact]
    public Task BearerChallenge_TokenNotUtf8_RefusedAsUnauthorized() =>
        AssertTokenAnswerRefusedAsync([.. "{\"token\":\"t"u8, 0xff, .. "\"}"u8]);

    /// <summary>A registry that challenges for a Bearer token and whose token service answers <paramref name="answer"/>.</summary>
    private async Task AssertTokenAnswerRefusedAsync(byte[] answer)
    {
        await using var fake = await FakeRegistry.StartAsync(async (registry, context) =>
        {
            if (context.Request.Path == "/token")
            {
                context.Response.ContentType = "application/json";
                await context.Response.Body.WriteAsync(answer);
                return;
            }

            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"http://{registry.Address}/token\",service=\"fake\"";
        });
        var client = new RegistryClient(_http, fake.Address, null, allowInsecure: false);

        var error = await Assert.ThrowsAsync<OciException>(() => client.GetManifestAsync("team/app", "v1", CancellationToken.None));

        Assert.Equal("REGISTRY_UNAUTHORIZED", error.Code);
    }

    [Theory]
    [InlineData("[{\"code\":\"DENIED\"}]")]
    [InlineData("{\"errors\":[5]}")]
    [InlineData("{\"errors\":[{\"code\":5,\"message\":[\"x\"]}]}")]
    public async Task ErrorAnswer_BodyOfAnotherShape_ReportedByStatus(string body)
    {
        await using var fake = await FakeRegistry.StartAsync(async (_, context) =>
        {
            context.Response.StatusCode = 403;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body);
        });
        var client = new RegistryClient(_http, fake.Address, null, allowInsecure: false);

        var error = await Assert.ThrowsAsync<OciException>(() => client.GetManifestAsync("team/app", "v1", CancellationToken.None));

        Assert.Contains("403", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[\"v1\"]")]
    [InlineData("{\"tags\":[\"v1\",5]}")]
    [InlineData("{\"tags\":\"v1\"}")]
    public async Task ListTags_AnswerOfAnotherShape_RefusedAsInvalidTags(string body)
    {
        await using var fake = await FakeRegistry.StartAsync(async (_, context) =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body);
        });
        var client = new RegistryClient(_http, fake.Address, null, allowInsecure: false);

        var error = await Assert.ThrowsAsync<OciException>(() => client.ListTagsAsync("team/app", 100, CancellationToken.None));

        Assert.Equal("TAGS_INVALID", error.Code);
    }

    [Fact]
    public async Task ListTags_NoTagsMember_Empty()
    {
        await using var fake = await FakeRegistry.StartAsync(static async (_, context) =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"name\":\"team/app\",\"tags\":null}");
        });
        var client = new RegistryClient(_http, fake.Address, null, allowInsecure: false);

        Assert.Empty(await client.ListTagsAsync("team/app", 100, CancellationToken.None));
    }

    [Fact]
    public void ParseManifest_NotUtf8InsideAString_RefusedAsInvalidManifest()
    {
        byte[] bytes = [.. "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json"u8, 0xff, .. "\"}"u8];

        var error = Assert.Throws<OciException>(() => OciManifest.Parse(bytes, MediaTypes.OciManifest, "the manifest"));

        Assert.Equal("MANIFEST_INVALID", error.Code);
    }

    [Fact]
    public void ManifestAnnotations_NonStringValueAndRepeatedKey_ReadAsDescriptorAnnotationsAre()
    {
        var bytes = Encoding.UTF8.GetBytes(ImageManifest.Replace("\"layers\":[]", "\"layers\":[],\"annotations\":{\"a\":\"1\",\"b\":2,\"a\":\"3\"}", StringComparison.Ordinal));
        var manifest = OciManifest.Parse(bytes, MediaTypes.OciManifest, "the manifest");

        var annotations = manifest.Annotations;

        Assert.Equal("3", annotations["a"]);
        Assert.Equal("2", annotations["b"]);
    }

    [Fact]
    public async Task VerifyAttestation_LegacyLayerNotUtf8_FailsAsAnUnverifiedSignature()
    {
        // The .att layer is read before any signature over it is checked.
        var image = Encoding.UTF8.GetBytes(ImageManifest);
        var digest = OciDigest.Of(image);
        byte[] layer = [.. "{\"payloadType\":\"application/vnd.in-toto+json"u8, 0xc3, 0x28, .. "\",\"payload\":\"e30=\",\"signatures\":[{\"keyid\":\"\",\"sig\":\"AAAA\"}]}"u8];
        var layerDigest = OciDigest.Of(layer);
        var attestations = Encoding.UTF8.GetBytes(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"size\":2},"
            + $"\"layers\":[{{\"mediaType\":\"{MediaTypes.DsseEnvelope}\",\"digest\":\"{layerDigest}\",\"size\":{layer.Length}}}]}}");
        await using var fake = await FakeRegistry.StartAsync(async (_, context) =>
        {
            var path = context.Request.Path.Value ?? string.Empty;
            byte[]? answer = path == $"/v2/app/manifests/{digest}" ? image
                : path == $"/v2/app/manifests/{OciDigest.Tag(digest, "att")}" ? attestations
                : path == $"/v2/app/blobs/{layerDigest}" ? layer
                : null;
            if (answer is null)
            {
                context.Response.StatusCode = 404;
                return;
            }

            context.Response.ContentType = path.Contains("/manifests/", StringComparison.Ordinal) ? MediaTypes.OciManifest : "application/octet-stream";
            await context.Response.Body.WriteAsync(answer);
        });
        var verifier = new ImageVerifier(
            new RegistryConnections(_http, static _ => null, allowInsecure: false),
            new BundleVerifier(TrustedRoot.Empty),
            CertificateIdentityPolicy.Create("alice@example.com", null, "https://issuer.example", null),
            null,
            new Dictionary<string, string>(),
            new Dictionary<string, string>(),
            ignoreTlog: false,
            SignatureFormat.Legacy);

        var error = await Assert.ThrowsAsync<OciException>(() => verifier.VerifyAsync(ImageReference.Parse($"{fake.Address}/app@{digest}"), attestation: true, "https://slsa.dev/provenance/v1", CancellationToken.None));

        Assert.Equal(OciFailure.NoMatchingSignature, error.Failure);
        Assert.Contains("not a DSSE envelope", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"auths\":{\"registry.example\":{\"auth\":5}}}")]
    [InlineData("{\"auths\":{\"registry.example\":{\"identitytoken\":[\"t\"]}}}")]
    [InlineData("{\"auths\":{\"registry.example\":{\"username\":\"u\",\"password\":{}}}}")]
    public void PullSecret_MemberOfAnotherType_RefusedNamingTheMember(string config)
    {
        // A .dockerconfigjson pull secret is written by whoever may create Secrets in a namespace; the admission
        // webhook reads it for every review there (found by reading, 2026-12-06: InvalidOperationException escaped).
        var file = Path.Combine(_directory, "config.json");
        File.WriteAllText(file, config);

        var error = Assert.Throws<OciException>(() => RegistryCredentials.FromFiles("registry.example", [file], allowHelpers: false));

        Assert.Contains("that is not a string", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PullSecret_NotUtf8_RefusedAsNotJson()
    {
        var file = Path.Combine(_directory, "config.json");
        File.WriteAllBytes(file, [.. "{\"auths\":{\"registry.example\":{\"username\":\"u"u8, 0xff, .. "\",\"password\":\"p\"}}}"u8]);

        var error = Assert.Throws<OciException>(() => RegistryCredentials.FromFiles("registry.example", [file], allowHelpers: false));

        Assert.Contains("is not valid JSON", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
