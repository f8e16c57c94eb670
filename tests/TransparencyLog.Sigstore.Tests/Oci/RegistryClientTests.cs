using System.Net;
using Microsoft.AspNetCore.Http;
using System.Text;
using TransparencyLog.Sigstore.Oci;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Sigstore.Tests.Oci;

/// <summary>The registry client against a real distribution registry (and a fake one for what a real one never does).</summary>
public sealed class RegistryClientTests(RegistryPair registries) : IClassFixture<RegistryPair>, IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly string _home = Directory.CreateTempSubdirectory("tlog-registry-home-").FullName;

    private RegistryClient Open() => new(_http, registries.Open.Address, null, allowInsecure: false);

    [Fact]
    public async Task PushBlob_Chunked_ReadsBackTheSameBytes()
    {
        var client = Open();
        var content = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("chunked upload ", 400)) + Guid.NewGuid());

        var digest = await client.PushBlobAsync("blobs/chunked", content, CancellationToken.None, chunkSize: 1000);

        Assert.Equal(OciDigest.Of(content), digest);
        Assert.Equal(content, await client.GetBlobAsync("blobs/chunked", digest, RegistryClient.MaxBlobBytes, CancellationToken.None));
    }

    [Fact]
    public async Task MountBlob_FromAnotherRepository_IsMountedWithoutUpload()
    {
        var client = Open();
        var content = Encoding.UTF8.GetBytes("mount me " + Guid.NewGuid());
        var digest = await client.PushBlobAsync("blobs/source", content, CancellationToken.None);

        var mounted = await client.MountBlobAsync("blobs/target", digest, "blobs/source", CancellationToken.None);

        Assert.True(mounted);
        Assert.True(await client.BlobExistsAsync("blobs/target", digest, CancellationToken.None));
    }

    [Fact]
    public async Task PutManifest_GetByTagAndDigest_ReturnsServedBytesAndTheirDigest()
    {
        var client = Open();
        var manifest = await PushManifestAsync(client, "manifests/app", "v1");

        var byTag = await client.GetManifestAsync("manifests/app", "v1", CancellationToken.None);
        var byDigest = await client.GetManifestAsync("manifests/app", OciDigest.Of(manifest), CancellationToken.None);
        var missing = await client.GetManifestAsync("manifests/app", "v2", CancellationToken.None);

        Assert.Equal(manifest, byTag!.Bytes);
        Assert.Equal(OciDigest.Of(manifest), byTag.Digest);
        Assert.Equal(byTag.Digest, byDigest!.Digest);
        Assert.Null(missing);
    }

    [Fact]
    public async Task ListTags_PagesOfTwo_FollowsLinksToEveryTag()
    {
        var client = Open();
        var tags = new[] { "a", "b", "c", "d", "e" };
        foreach (var tag in tags)
        {
            await PushManifestAsync(client, "tags/paged", tag);
        }

        var listed = await client.ListTagsAsync("tags/paged", 2, CancellationToken.None);

        Assert.Equal(tags, listed.Order(StringComparer.Ordinal));
        Assert.True(client.RoundTrips >= 3);
    }

    [Fact]
    public async Task Referrers_RegistryWithoutApi_UsesTheFallbackTagIndex()
    {
        var client = Open();
        var subject = await PushManifestAsync(client, "referrers/app", "v1");
        var referrerManifest = await PushManifestAsync(client, "referrers/app", "referrer");
        var referrer = new OciDescriptor(MediaTypes.OciManifest, OciDigest.Of(referrerManifest), referrerManifest.Length, "application/vnd.example+json");

        await client.AddToReferrersFallbackAsync("referrers/app", OciDigest.Of(subject), referrer, CancellationToken.None);
        await client.AddToReferrersFallbackAsync("referrers/app", OciDigest.Of(subject), referrer, CancellationToken.None);
        var found = await client.GetReferrersAsync("referrers/app", OciDigest.Of(subject), CancellationToken.None);

        var only = Assert.Single(found);
        Assert.Equal(referrer.Digest, only.Digest);
        Assert.Equal("application/vnd.example+json", only.ArtifactType);
    }

    [Fact]
    public async Task BasicAuth_CredentialsFromFlagsOrDockerConfig_Accepted()
    {
        var credential = new RegistryCredential(LocalRegistry.Username, LocalRegistry.Password);
        var withFlags = new RegistryClient(_http, registries.Protected.Address, credential, allowInsecure: false);
        await PushManifestAsync(withFlags, "auth/app", "v1");

        var dockerConfig = Directory.CreateDirectory(Path.Combine(_home, ".docker")).FullName;
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{LocalRegistry.Username}:{LocalRegistry.Password}"));
        await File.WriteAllTextAsync(Path.Combine(dockerConfig, "config.json"), "{\"auths\":{\"http://" + registries.Protected.Address + "/v2/\":{\"auth\":\"" + auth + "\"}}}");
        var found = RegistryCredentials.Find(registries.Protected.Address, static _ => null, _home);
        var fromConfig = new RegistryClient(_http, registries.Protected.Address, found, allowInsecure: false);

        Assert.NotNull(await fromConfig.GetManifestAsync("auth/app", "v1", CancellationToken.None));
        Assert.DoesNotContain(LocalRegistry.Password, found!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BasicAuth_WrongPasswordOrNone_RefusedWithoutLeakingThePassword()
    {
        var wrong = new RegistryClient(_http, registries.Protected.Address, new RegistryCredential(LocalRegistry.Username, "wrong-password-123"), allowInsecure: false);
        var anonymous = new RegistryClient(_http, registries.Protected.Address, null, allowInsecure: false);

        var refused = await Assert.ThrowsAsync<OciException>(() => wrong.GetManifestAsync("auth/app", "v1", CancellationToken.None));
        var needsLogin = await Assert.ThrowsAsync<OciException>(() => anonymous.GetManifestAsync("auth/app", "v1", CancellationToken.None));

        Assert.Equal("REGISTRY_UNAUTHORIZED", refused.Code);
        Assert.DoesNotContain("wrong-password-123", refused.Message, StringComparison.Ordinal);
        Assert.Equal("REGISTRY_UNAUTHORIZED", needsLogin.Code);
        Assert.Contains("--registry-username", needsLogin.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CredentialHelper_DockerCredentialProtocol_SuppliesTheSecret()
    {
        var bin = Directory.CreateDirectory(Path.Combine(_home, "bin")).FullName;
        var helper = Path.Combine(bin, "docker-credential-tlogtest");
        await File.WriteAllTextAsync(
            helper,
            $"#!/bin/sh\nread server\n[ \"$1\" = get ] && [ \"$server\" = \"{registries.Protected.Address}\" ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\n" +
            $"echo '{{\"ServerURL\":\"'$server'\",\"Username\":\"{LocalRegistry.Username}\",\"Secret\":\"{LocalRegistry.Password}\"}}'\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(helper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var dockerConfig = Directory.CreateDirectory(Path.Combine(_home, "helper-config")).FullName;
        await File.WriteAllTextAsync(Path.Combine(dockerConfig, "config.json"), "{\"credHelpers\":{\"" + registries.Protected.Address + "\":\"tlogtest\"}}");
        var path = Environment.GetEnvironmentVariable("PATH");
        Environment.SetEnvironmentVariable("PATH", bin + ":" + path);
        try
        {
            string? Env(string name) => name == "DOCKER_CONFIG" ? dockerConfig : null;
            var credential = RegistryCredentials.Find(registries.Protected.Address, Env, _home);
            var missing = RegistryCredentials.Find("other.example:5000", Env, _home);

            Assert.Equal(LocalRegistry.Username, credential?.Username);
            Assert.Null(missing);
            await PushManifestAsync(new RegistryClient(_http, registries.Protected.Address, credential, allowInsecure: false), "helper/app", "v1");
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", path);
        }
    }

    [Fact]
    public async Task GetManifest_RegistryServesOtherBytes_RefusedAsDigestMismatch()
    {
        var real = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{},\"layers\":[]}"u8.ToArray();
        await using var fake = await FakeRegistry.StartAsync(static async (_, context) =>
        {
            context.Response.ContentType = MediaTypes.OciManifest;
            await context.Response.WriteAsync("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{},\"layers\":[],\"x\":1}");
        });
        var client = new RegistryClient(_http, fake.Address, null, allowInsecure: false);

        var error = await Assert.ThrowsAsync<OciException>(() => client.GetManifestAsync("app", OciDigest.Of(real), CancellationToken.None));

        Assert.Equal("DIGEST_MISMATCH", error.Code);
    }

    [Fact]
    public async Task GetManifest_TooLargeOrUnknownMediaType_Refused()
    {
        await using var fake = await FakeRegistry.StartAsync(static async (_, context) =>
        {
            if (context.Request.Path.Value!.EndsWith("/big", StringComparison.Ordinal))
            {
                context.Response.ContentType = MediaTypes.OciManifest;
                context.Response.ContentLength = RegistryClient.MaxManifestBytes + 1;
                await context.Response.Body.WriteAsync(new byte[RegistryClient.MaxManifestBytes + 1]);
                return;
            }

            context.Response.ContentType = "application/vnd.example.unknown+json";
            await context.Response.WriteAsync("{\"schemaVersion\":2}");
        });
        var client = new RegistryClient(_http, fake.Address, null, allowInsecure: false);

        var big = await Assert.ThrowsAsync<OciException>(() => client.GetManifestAsync("app", "big", CancellationToken.None));
        var unknown = await Assert.ThrowsAsync<OciException>(() => client.GetManifestAsync("app", "odd", CancellationToken.None));

        Assert.Equal("TOO_LARGE", big.Code);
        Assert.Equal("UNSUPPORTED_MEDIA_TYPE", unknown.Code);
    }

    [Fact]
    public async Task Send_ServiceUnavailableThenOk_RetriedButNeverUnbounded()
    {
        await using var flaky = await FakeRegistry.StartAsync(static async (registry, context) =>
        {
            if (registry.Requests < 3)
            {
                context.Response.StatusCode = 503;
                return;
            }

            context.Response.StatusCode = 404;
            await Task.CompletedTask;
        });
        await using var limited = await FakeRegistry.StartAsync(static async (_, context) =>
        {
            context.Response.StatusCode = 429;
            context.Response.Headers.RetryAfter = "0";
            await context.Response.WriteAsync("{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}");
        });

        var recovered = await new RegistryClient(_http, flaky.Address, null, false, TimeSpan.FromMilliseconds(10)).GetManifestAsync("app", "v1", CancellationToken.None);
        var error = await Assert.ThrowsAsync<OciException>(() => new RegistryClient(_http, limited.Address, null, false, TimeSpan.FromMilliseconds(10)).GetManifestAsync("app", "v1", CancellationToken.None));

        Assert.Null(recovered);
        Assert.Equal(3, flaky.Requests);
        Assert.Equal("REGISTRY_TOOMANYREQUESTS", error.Code);
        Assert.Contains("slow down", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, limited.Requests);
    }

    [Fact]
    public async Task BearerChallenge_TokenFlow_FetchesScopedTokenWithBasicCredentials()
    {
        string? tokenRequest = null;
        string? tokenAuthorization = null;
        await using var fake = await FakeRegistry.StartAsync(async (registry, context) =>
        {
            if (context.Request.Path == "/token")
            {
                tokenRequest = context.Request.QueryString.Value;
                tokenAuthorization = context.Request.Headers.Authorization;
                await context.Response.WriteAsJsonAsync(new { token = "t0ken", expires_in = 300 });
                return;
            }

            if (context.Request.Headers.Authorization != "Bearer t0ken")
            {
                context.Response.StatusCode = 401;
                context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"http://{registry.Address}/token\",service=\"fake\",scope=\"repository:team/app:pull\"";
                return;
            }

            context.Response.StatusCode = (int)HttpStatusCode.NotFound;
        });
        var client = new RegistryClient(_http, fake.Address, new RegistryCredential("robot", "pw"), allowInsecure: false);

        var manifest = await client.GetManifestAsync("team/app", "v1", CancellationToken.None);

        Assert.Null(manifest);
        Assert.Equal("?service=fake&scope=repository%3Ateam%2Fapp%3Apull", tokenRequest);
        Assert.Equal("Basic " + Convert.ToBase64String("robot:pw"u8), tokenAuthorization);
    }

    [Theory]
    [InlineData("127.0.0.1:5000/app:1.0", "127.0.0.1:5000", "app", "1.0", null)]
    [InlineData("localhost/team/app@sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "localhost", "team/app", null, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")]
    [InlineData("busybox", "index.docker.io", "library/busybox", "latest", null)]
    [InlineData("docker.io/me/app:v2", "index.docker.io", "me/app", "v2", null)]
    [InlineData("Registry/app:1", "Registry", "app", "1", null)]
    [InlineData("MyHost:5000/team/app", "MyHost:5000", "team/app", "latest", null)]
    [InlineData("[::1]:5000/app:v1", "[::1]:5000", "app", "v1", null)]
    [InlineData("team/app", "index.docker.io", "team/app", "latest", null)]
    public void ImageReference_Parse_NormalizesLikeDocker(string text, string registry, string repository, string? tag, string? digest)
    {
        var reference = ImageReference.Parse(text);

        Assert.Equal(new ImageReference(registry, repository, tag, digest), reference);
    }

    [Theory]
    [InlineData("Upper/Case:1")]
    [InlineData("team/App:1")]
    [InlineData("-bad.example/app")]
    [InlineData("bad_host.example/app")]
    [InlineData("host:port/app")]
    [InlineData("host:5000/app@sha256:short")]
    [InlineData("host:5000/app:-bad")]
    [InlineData("")]
    public void ImageReference_Invalid_UsageError(string text)
    {
        var error = Assert.Throws<OciException>(() => ImageReference.Parse(text));

        Assert.Equal(OciFailure.Usage, error.Failure);
    }

    [Fact]
    public async Task PushBlob_SameBytesAgain_AsksTheRegistryNothing()
    {
        var client = Open();
        var content = Encoding.UTF8.GetBytes("pushed twice " + Guid.NewGuid());
        await client.PushBlobAsync("blobs/twice", content, CancellationToken.None);
        var afterFirst = client.RoundTrips;

        var again = await client.PushBlobAsync("blobs/twice", content, CancellationToken.None);
        var uploaded = await client.UploadBlobAsync("blobs/twice", content, CancellationToken.None);
        var elsewhere = await client.PushBlobAsync("blobs/elsewhere", content, CancellationToken.None);

        Assert.Equal(OciDigest.Of(content), again);
        Assert.Equal(again, uploaded);
        Assert.Equal(again, elsewhere);
        Assert.Equal(afterFirst + 3, client.RoundTrips); // only the other repository: HEAD 404, POST, PUT
        Assert.True(await Open().BlobExistsAsync("blobs/elsewhere", again, CancellationToken.None));
    }

    [Fact]
    public async Task PushBlob_EightCallersAtOnce_OneHeadAndOneUpload()
    {
        var client = Open();
        var content = Encoding.UTF8.GetBytes("{\"shared\":\"" + Guid.NewGuid() + "\"}");

        var digests = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => client.PushBlobAsync("blobs/shared", content, CancellationToken.None))));

        Assert.All(digests, d => Assert.Equal(OciDigest.Of(content), d));
        Assert.Equal(3, client.RoundTrips); // HEAD 404, POST, PUT: once for all eight
        Assert.Equal(content, await Open().GetBlobAsync("blobs/shared", digests[0], RegistryClient.MaxBlobBytes, CancellationToken.None));
    }

    [Fact]
    public async Task UploadBlob_FreshBytes_TwoRoundTripsAndReadableBack()
    {
        var client = Open();
        var content = Encoding.UTF8.GetBytes("fresh signature " + Guid.NewGuid());

        var digest = await client.UploadBlobAsync("blobs/fresh", content, CancellationToken.None);

        Assert.Equal(2, client.RoundTrips); // POST, PUT: no HEAD first
        Assert.Equal(content, await client.GetBlobAsync("blobs/fresh", digest, RegistryClient.MaxBlobBytes, CancellationToken.None));
    }

    [Fact]
    public async Task UploadBlob_DistributionIgnoresSinglePost_FinishedWithPutAndNotOfferedAgain()
    {
        // distribution 2.x answers a POST ?digest= with a body by opening an ordinary session (202) and ignoring the
        // bytes: the upload must still complete, and the next one must not send its bytes twice.
        var client = Open();
        var first = Encoding.UTF8.GetBytes("first " + Guid.NewGuid());
        var second = Encoding.UTF8.GetBytes("second " + Guid.NewGuid());

        var firstDigest = await client.UploadBlobAsync("blobs/single", first, CancellationToken.None);
        var secondDigest = await client.UploadBlobAsync("blobs/single", second, CancellationToken.None);

        Assert.Equal(4, client.RoundTrips); // POST ?digest= (202), PUT; then POST, PUT
        var reader = Open();
        Assert.Equal(first, await reader.GetBlobAsync("blobs/single", firstDigest, RegistryClient.MaxBlobBytes, CancellationToken.None));
        Assert.Equal(second, await reader.GetBlobAsync("blobs/single", secondDigest, RegistryClient.MaxBlobBytes, CancellationToken.None));
    }

    [Theory]
    [InlineData(true, 1)]   // the registry takes the blob in the POST: one round trip
    [InlineData(false, 3)]  // it refuses a POST with a body (405): POST, then POST + PUT
    public async Task UploadBlob_SinglePostTakenOrRefused_StoredWithTheFewestRoundTrips(bool supported, int roundTrips)
    {
        var blobs = new System.Collections.Concurrent.ConcurrentDictionary<string, byte[]>();
        var singlePosts = 0;
        await using var fake = await FakeRegistry.StartAsync(async (_, context) =>
        {
            var path = context.Request.Path.Value!;
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            if (context.Request.Method == "POST" && context.Request.Query.ContainsKey("digest"))
            {
                Interlocked.Increment(ref singlePosts);
                if (!supported)
                {
                    context.Response.StatusCode = 405;
                    return;
                }

                var digest = context.Request.Query["digest"].ToString();
                if (OciDigest.Of(body.ToArray()) != digest)
                {
                    context.Response.StatusCode = 400;
                    return;
                }

                blobs[digest] = body.ToArray();
                context.Response.StatusCode = 201;
                context.Response.Headers["Docker-Content-Digest"] = digest;
            }
            else if (context.Request.Method == "POST")
            {
                context.Response.StatusCode = 202;
                context.Response.Headers.Location = path + Guid.NewGuid().ToString("N");
            }
            else if (context.Request.Method == "PUT")
            {
                blobs[context.Request.Query["digest"]!] = body.ToArray();
                context.Response.StatusCode = 201;
            }
            else if (blobs.TryGetValue(path[(path.LastIndexOf('/') + 1)..], out var blob))
            {
                await context.Response.Body.WriteAsync(blob);
            }
            else
            {
                context.Response.StatusCode = 404;
            }
        });
        var client = new RegistryClient(_http, fake.Address, null, allowInsecure: false);
        var content = Encoding.UTF8.GetBytes("one request " + Guid.NewGuid());
        var more = Encoding.UTF8.GetBytes("another " + Guid.NewGuid());

        var digest = await client.UploadBlobAsync("team/app", content, CancellationToken.None);
        Assert.Equal(roundTrips, client.RoundTrips);
        await client.UploadBlobAsync("team/app", more, CancellationToken.None);

        Assert.Equal(content, blobs[digest]);
        Assert.Equal(more, blobs[OciDigest.Of(more)]);
        Assert.Equal(supported ? 2 : 1, singlePosts); // a refusal is remembered: the second upload is not offered that way
        Assert.Equal(content, await client.GetBlobAsync("team/app", digest, RegistryClient.MaxBlobBytes, CancellationToken.None));
    }

    [Fact]
    public async Task ReadLayers_TwentyLayers_ReturnedInTheTagsOrderWithTheirContent()
    {
        var client = Open();
        var contents = Enumerable.Range(0, 20).Select(i => Encoding.UTF8.GetBytes($"{{\"layer\":{i},\"id\":\"{Guid.NewGuid()}\"}}")).ToList();
        var layers = new List<string>();
        foreach (var content in contents)
        {
            var digest = await client.UploadBlobAsync("sigs/app", content, CancellationToken.None);
            layers.Add($"{{\"mediaType\":\"{MediaTypes.SimpleSigning}\",\"digest\":\"{digest}\",\"size\":{content.Length}}}");
        }

        var config = Encoding.UTF8.GetBytes("{}");
        var configDigest = await client.PushBlobAsync("sigs/app", config, CancellationToken.None);
        var manifest = Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{configDigest}\",\"size\":2}},\"layers\":[{string.Join(',', layers)}]}}");
        await client.PutManifestAsync("sigs/app", "sha256-0000.sig", manifest, MediaTypes.OciManifest, CancellationToken.None);
        var reader = Open();

        var read = await new SignatureStore(reader, TimeProvider.System).ReadLayersAsync("sigs/app", "sha256-0000.sig", CancellationToken.None);

        Assert.Equal(contents, read.Select(static l => l.Content));
        Assert.Equal(21, reader.RoundTrips); // the tag, then each layer once
    }

    [Fact]
    public async Task AppendLayer_ManifestPutRefusedAsDigestInvalidOnce_MergesAgainAndTheLayerIsStored()
    {
        // distribution answers DIGEST_INVALID to a manifest PUT that checks a blob whose link file another writer of
        // the same blob is rewriting at that moment; the next PUT succeeds. The fake does that on the first PUT.
        var blobs = new System.Collections.Concurrent.ConcurrentDictionary<string, byte[]>();
        byte[]? stored = null;
        var manifestPuts = 0;
        await using var fake = await FakeRegistry.StartAsync(async (_, context) =>
        {
            var path = context.Request.Path.Value!;
            if (context.Request.Method == "POST" && path.EndsWith("/blobs/uploads/", StringComparison.Ordinal))
            {
                context.Response.StatusCode = 202;
                context.Response.Headers.Location = path + Guid.NewGuid().ToString("N");
            }
            else if (context.Request.Method == "PUT" && path.Contains("/blobs/uploads/", StringComparison.Ordinal))
            {
                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                blobs[context.Request.Query["digest"]!] = body.ToArray();
                context.Response.StatusCode = 201;
            }
            else if (context.Request.Method == "PUT" && path.Contains("/manifests/", StringComparison.Ordinal))
            {
                if (Interlocked.Increment(ref manifestPuts) == 1)
                {
                    context.Response.StatusCode = 400;
                    await context.Response.WriteAsync("{\"errors\":[{\"code\":\"DIGEST_INVALID\",\"message\":\"provided digest did not match uploaded content\"}]}");
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.Body.CopyToAsync(body);
                stored = body.ToArray();
                context.Response.StatusCode = 201;
                context.Response.Headers["Docker-Content-Digest"] = OciDigest.Of(stored);
            }
            else if (path.Contains("/blobs/sha256:", StringComparison.Ordinal) && blobs.TryGetValue(path[(path.LastIndexOf('/') + 1)..], out var blob))
            {
                await context.Response.Body.WriteAsync(blob);
            }
            else if (path.Contains("/manifests/", StringComparison.Ordinal) && stored is { } manifest)
            {
                context.Response.ContentType = MediaTypes.OciManifest;
                context.Response.Headers["Docker-Content-Digest"] = OciDigest.Of(manifest);
                await context.Response.Body.WriteAsync(manifest);
            }
            else
            {
                context.Response.StatusCode = 404;
            }
        });
        var store = new SignatureStore(new RegistryClient(_http, fake.Address, null, allowInsecure: false), TimeProvider.System);
        var payload = Encoding.UTF8.GetBytes("{\"critical\":{}}");
        var layer = new SignatureLayer(payload, MediaTypes.SimpleSigning, new Dictionary<string, string> { [CosignFormats.SignatureAnnotation] = "c2ln" });

        await store.AppendLayerAsync("team/app", "sha256-00.sig", layer, CancellationToken.None);

        var layers = await store.ReadLayersAsync("team/app", "sha256-00.sig", CancellationToken.None);
        Assert.Equal(2, manifestPuts);
        Assert.Equal(payload, Assert.Single(layers).Content);
        Assert.True(blobs.ContainsKey(OciDigest.Of(payload)));
    }

    private static async Task<byte[]> PushManifestAsync(RegistryClient client, string repository, string tag)
    {
        var config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"tag\":\"" + tag + Guid.NewGuid() + "\"}");
        var configDigest = await client.PushBlobAsync(repository, config, CancellationToken.None);
        var manifest = Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"{MediaTypes.OciManifest}\",\"config\":{{\"mediaType\":\"{MediaTypes.OciConfig}\",\"digest\":\"{configDigest}\",\"size\":{config.Length}}},\"layers\":[]}}");
        await client.PutManifestAsync(repository, tag, manifest, MediaTypes.OciManifest, CancellationToken.None);
        return manifest;
    }

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_home, recursive: true);
    }
}
