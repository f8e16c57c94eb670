using System.Text.Json;
using TransparencyLog.Interop.Tests.Cli;
using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests.Oci;

/// <summary><c>tlog sign</c>, <c>verify</c>, <c>attest</c> and <c>verify-attestation</c> on images in the system's registry.</summary>
[Collection(ImageSystemCollection.Name)]
public sealed class ImageSigningTests(LocalSystem system) : IDisposable
{
    private readonly TlogRunner _tlog = new(system);
    private readonly ImageLab _lab = new(system);

    private string Rekor => system["REKOR_URL"];

    [Fact]
    public async Task SignKeyless_VerifyWithIdentity_PrintsPayloadForTheDigest()
    {
        var digest = await _lab.PushImageAsync("images/keyless:1.0");
        var token = await system.DevTokenAsync(TlogRunner.Alice);
        var signed = await _tlog.SucceedAsync(
            "sign", $"{_lab.Registry}/images/keyless:1.0", "--identity-token", token, "--fulcio-url", system["FULCIO_URL"], "--rekor-url", Rekor,
            "--tsa-url", system["TSA_URL"]);

        var verified = await _tlog.RunAsync(["verify", $"{_lab.Registry}/images/keyless:1.0", "--trusted-root", system["TRUSTED_ROOT"], .. _tlog.Identity()], null);
        var wrong = await _tlog.RunAsync(["verify", $"{_lab.Registry}/images/keyless:1.0", "--trusted-root", system["TRUSTED_ROOT"], .. _tlog.Identity("mallory@example.com")], null);

        Assert.Contains($"signing the digest it resolves to now: {_lab.Registry}/images/keyless@{digest}", signed.StandardError, StringComparison.Ordinal);
        Assert.True(verified.ExitCode == 0, verified.Output);
        var payloads = JsonDocument.Parse(verified.StandardOutput).RootElement;
        Assert.Equal(digest, payloads[0].GetProperty("critical").GetProperty("image").GetProperty("docker-manifest-digest").GetString());
        Assert.Equal(TlogRunner.Alice, payloads[0].GetProperty("optional").GetProperty("Subject").GetString());
        TlogRunner.AssertFailed(wrong, 12, "UNTRUSTED_SIGNER_ERROR");
    }

    [Fact]
    public async Task SignLegacyOnly_VerifyKeyless_ReadsTheSigTag()
    {
        var digest = await _lab.PushImageAsync("images/legacy:1.0");
        var token = await system.DevTokenAsync(TlogRunner.Alice);
        await _tlog.SucceedAsync(
            "sign", $"{_lab.Registry}/images/legacy@{digest}", "--identity-token", token, "--fulcio-url", system["FULCIO_URL"], "--rekor-url", Rekor,
            "--format", "legacy", "-a", "build=42");

        var verified = await _tlog.RunAsync(
            ["verify", $"{_lab.Registry}/images/legacy:1.0", "--trusted-root", system["TRUSTED_ROOT"], "-a", "build=42", "--output", "json", .. _tlog.Identity()], null);
        var missingAnnotation = await _tlog.RunAsync(
            ["verify", $"{_lab.Registry}/images/legacy:1.0", "--trusted-root", system["TRUSTED_ROOT"], "-a", "build=43", .. _tlog.Identity()], null);

        Assert.True(verified.ExitCode == 0, verified.Output);
        var result = TlogRunner.Json(verified);
        Assert.Equal("legacy", result.GetProperty("source").GetString());
        Assert.Equal("cosign container image signature", result.GetProperty("verified")[0].GetProperty("critical").GetProperty("type").GetString());
        Assert.Equal("42", result.GetProperty("verified")[0].GetProperty("optional").GetProperty("build").GetString());
        TlogRunner.AssertFailed(missingAnnotation, 12, "build=43");
    }

    [Fact]
    public async Task Verify_MissingOrUnsignedImage_StableExitCodes()
    {
        await _lab.PushImageAsync("images/unsigned:1.0");
        var (_, publicKey) = _tlog.WriteKeyPair("k");

        var missing = await _tlog.RunAsync("verify", $"{_lab.Registry}/images/nothing-here:1.0", "--key", publicKey, "--trusted-root", system["TRUSTED_ROOT"]);
        var unsigned = await _tlog.RunAsync("verify", $"{_lab.Registry}/images/unsigned:1.0", "--key", publicKey, "--trusted-root", system["TRUSTED_ROOT"]);
        var badReference = await _tlog.RunAsync("verify", $"{_lab.Registry}/Images/UPPER:1.0", "--key", publicKey, "--trusted-root", system["TRUSTED_ROOT"]);
        var down = await _tlog.RunAsync("verify", "127.0.0.1:1/images/x:1.0", "--key", publicKey, "--trusted-root", system["TRUSTED_ROOT"]);

        TlogRunner.AssertFailed(missing, 11, "IMAGE_NOT_FOUND");
        TlogRunner.AssertFailed(unsigned, 10, "NO_SIGNATURES");
        TlogRunner.AssertFailed(badReference, 2, "not a valid image reference");
        TlogRunner.AssertFailed(down, 1, "REGISTRY_UNREACHABLE");
    }

    [Fact]
    public async Task SignRecursive_Index_EachPlatformVerifiesButOneAddedLaterDoesNot()
    {
        var amd64 = await _lab.PushImageAsync("images/multi:amd64", "amd64");
        var arm64 = await _lab.PushImageAsync("images/multi:arm64", "arm64");
        var index = await _lab.PushIndexAsync("images/multi", "1.0", [(amd64, "amd64"), (arm64, "arm64")]);
        var (privateKey, publicKey) = _tlog.WriteKeyPair("k");
        await _tlog.SucceedAsync("sign", $"{_lab.Registry}/images/multi:1.0", "--recursive", "--key", privateKey, "--rekor-url", Rekor);
        var riscv = await _lab.PushImageAsync("images/multi:riscv64", "riscv64");
        await _lab.PushIndexAsync("images/multi", "1.0", [(amd64, "amd64"), (arm64, "arm64"), (riscv, "riscv64")]);

        foreach (var digest in new[] { index, amd64, arm64 })
        {
            var result = await _tlog.RunAsync("verify", $"{_lab.Registry}/images/multi@{digest}", "--key", publicKey, "--trusted-root", system["TRUSTED_ROOT"]);
            Assert.True(result.ExitCode == 0, $"{digest}: {result.Output}");
        }

        var added = await _tlog.RunAsync("verify", $"{_lab.Registry}/images/multi@{riscv}", "--key", publicKey, "--trusted-root", system["TRUSTED_ROOT"]);
        var newIndex = await _tlog.RunAsync("verify", $"{_lab.Registry}/images/multi:1.0", "--key", publicKey, "--trusted-root", system["TRUSTED_ROOT"]);
        TlogRunner.AssertFailed(added, 10, "NO_SIGNATURES");
        TlogRunner.AssertFailed(newIndex, 10, "NO_SIGNATURES");
    }

    [Fact]
    public async Task AttestWithKey_VerifyAttestation_PrintsTheStatementOfThatType()
    {
        var digest = await _lab.PushImageAsync("images/attested:1.0");
        var (privateKey, publicKey) = _tlog.WriteKeyPair("k");
        var predicate = _tlog.Write("provenance.json", """{"buildDefinition":{"buildType":"https://example.com/build/v1"},"runDetails":{"builder":{"id":"ci"}}}""");
        await _tlog.SucceedAsync("attest", $"{_lab.Registry}/images/attested:1.0", "--predicate", predicate, "--type", "slsaprovenance1", "--key", privateKey, "--rekor-url", Rekor);

        var verified = await _tlog.RunAsync("verify-attestation", $"{_lab.Registry}/images/attested:1.0", "--type", "slsaprovenance1", "--key", publicKey, "--trusted-root", system["TRUSTED_ROOT"]);
        var otherType = await _tlog.RunAsync("verify-attestation", $"{_lab.Registry}/images/attested:1.0", "--type", "cyclonedx", "--key", publicKey, "--trusted-root", system["TRUSTED_ROOT"]);
        var asSignature = await _tlog.RunAsync("verify", $"{_lab.Registry}/images/attested:1.0", "--key", publicKey, "--trusted-root", system["TRUSTED_ROOT"]);

        Assert.True(verified.ExitCode == 0, verified.Output);
        var statement = JsonDocument.Parse(verified.StandardOutput).RootElement[0].GetProperty("statement");
        Assert.Equal("https://slsa.dev/provenance/v1", statement.GetProperty("predicateType").GetString());
        Assert.Equal(digest["sha256:".Length..], statement.GetProperty("subject")[0].GetProperty("digest").GetProperty("sha256").GetString());
        Assert.Equal("ci", statement.GetProperty("predicate").GetProperty("runDetails").GetProperty("builder").GetProperty("id").GetString());
        TlogRunner.AssertFailed(otherType, 12, "NO_MATCHING_ATTESTATION");

        // As cosign does, a valid attestation bundle about the digest also satisfies verify (no predicate filter there).
        Assert.True(asSignature.ExitCode == 0, asSignature.Output);
    }

    [Fact]
    public async Task AttestLegacyOnlyWithTimestamp_VerifyAttestation_ReadsTheAttTag()
    {
        await _lab.PushImageAsync("images/att-legacy:1.0");
        var token = await system.DevTokenAsync(TlogRunner.Alice);
        var predicate = _tlog.Write("sbom.json", """{"bomFormat":"CycloneDX","specVersion":"1.5"}""");
        await _tlog.SucceedAsync(
            "attest", $"{_lab.Registry}/images/att-legacy:1.0", "--predicate", predicate, "--type", "cyclonedx", "--identity-token", token,
            "--fulcio-url", system["FULCIO_URL"], "--rekor-url", Rekor, "--tsa-url", system["TSA_URL"], "--format", "legacy");

        var verified = await _tlog.RunAsync(
            ["verify-attestation", $"{_lab.Registry}/images/att-legacy:1.0", "--type", "cyclonedx", "--trusted-root", system["TRUSTED_ROOT"], "-o", "json", .. _tlog.Identity()], null);
        var downloaded = await _tlog.RunAsync("download", "attestation", $"{_lab.Registry}/images/att-legacy:1.0");

        Assert.True(verified.ExitCode == 0, verified.Output);
        Assert.Equal("legacy", TlogRunner.Json(verified).GetProperty("source").GetString());
        Assert.Contains("\"payloadType\"", downloaded.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignUploadFalse_WritesFilesAndStoresNothing()
    {
        await _lab.PushImageAsync("images/local:1.0");
        var (privateKey, publicKey) = _tlog.WriteKeyPair("k");
        await _tlog.SucceedAsync(
            "sign", $"{_lab.Registry}/images/local:1.0", "--key", privateKey, "--rekor-url", Rekor, "--upload=false",
            "--output-signature", "sig.b64", "--output-payload", "payload.json", "--bundle", "image.sigstore.json");

        var verified = await _tlog.RunAsync("verify", $"{_lab.Registry}/images/local:1.0", "--key", publicKey, "--trusted-root", system["TRUSTED_ROOT"]);

        Assert.True(File.Exists(_tlog.PathOf("sig.b64")));
        Assert.Contains("docker-manifest-digest", await File.ReadAllTextAsync(_tlog.PathOf("payload.json")), StringComparison.Ordinal);
        Assert.Contains("dsseEnvelope", await File.ReadAllTextAsync(_tlog.PathOf("image.sigstore.json")), StringComparison.Ordinal);
        TlogRunner.AssertFailed(verified, 10, "NO_SIGNATURES");
    }

    [Fact]
    public async Task SignConcurrently_ThreeKeys_NoSignatureIsLost()
    {
        var digest = await _lab.PushImageAsync("images/concurrent:1.0");
        var keys = Enumerable.Range(0, 3).Select(i => _tlog.WriteKeyPair("k" + i)).ToList();

        var runs = await Task.WhenAll(keys.Select(k => _tlog.RunAsync("sign", $"{_lab.Registry}/images/concurrent@{digest}", "--key", k.PrivateKey, "--rekor-url", Rekor, "--format", "legacy")));

        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.Output));
        foreach (var (_, publicKey) in keys)
        {
            var verified = await _tlog.RunAsync("verify", $"{_lab.Registry}/images/concurrent@{digest}", "--key", publicKey, "--trusted-root", system["TRUSTED_ROOT"]);
            Assert.True(verified.ExitCode == 0, verified.Output);
        }
    }

    [Fact]
    public async Task SignSeveral_OneRegistryRefusesWrites_OthersSignedInOrderAndTheFailureNamed()
    {
        var digests = new List<string>();
        foreach (var tag in new[] { "a", "b", "c" })
        {
            digests.Add(await _lab.PushImageAsync($"images/several:{tag}"));
        }

        await using var readOnly = ReadOnlyRegistry.Start();
        var (privateKey, publicKey) = _tlog.WriteKeyPair("k");
        string[] images =
        [
            $"{_lab.Registry}/images/several@{digests[0]}", $"{readOnly.Address}/frozen/app@{readOnly.Digest}",
            $"{_lab.Registry}/images/several@{digests[1]}", $"{_lab.Registry}/images/several@{digests[2]}",
        ];

        var signed = await _tlog.RunAsync(["sign", .. images, "--key", privateKey, "--rekor-url", Rekor, "--parallel", "4", "--output", "json"], null);

        TlogRunner.AssertFailed(signed, 1, $"REGISTRY_DENIED: {images[1]}");
        var result = TlogRunner.Json(signed);
        Assert.False(result.GetProperty("ok").GetBoolean());
        Assert.Equal([images[0], images[2], images[3]], result.GetProperty("signed").EnumerateArray().Select(static s => s.GetProperty("image").GetString()));
        var failed = Assert.Single(result.GetProperty("failed").EnumerateArray());
        Assert.Equal(images[1], failed.GetProperty("image").GetString());
        Assert.Equal("REGISTRY_DENIED", failed.GetProperty("code").GetString());
        foreach (var image in new[] { images[0], images[2], images[3] })
        {
            var verified = await _tlog.RunAsync("verify", image, "--key", publicKey, "--trusted-root", system["TRUSTED_ROOT"]);
            Assert.True(verified.ExitCode == 0, verified.Output);
        }
    }

    [Fact]
    public async Task Verify_BundleReferrerOfAnotherDigest_IsNotAcceptedForThisOne()
    {
        var signed = await _lab.PushImageAsync("images/borrowed:signed");
        var victim = await _lab.PushImageAsync("images/borrowed:victim");
        var (privateKey, publicKey) = _tlog.WriteKeyPair("k");
        await _tlog.SucceedAsync("sign", $"{_lab.Registry}/images/borrowed@{signed}", "--key", privateKey, "--rekor-url", Rekor, "--format", "bundle");
        using (var http = new HttpClient())
        {
            using var get = new HttpRequestMessage(HttpMethod.Get, $"http://{_lab.Registry}/v2/images/borrowed/manifests/{FallbackTag(signed)}");
            get.Headers.Accept.Add(new System.Net.Http.Headers.MediaTypeWithQualityHeaderValue("application/vnd.oci.image.index.v1+json"));
            using var index = await http.SendAsync(get);
            index.EnsureSuccessStatusCode();
            using var put = new HttpRequestMessage(HttpMethod.Put, $"http://{_lab.Registry}/v2/images/borrowed/manifests/{FallbackTag(victim)}")
            {
                Content = new ByteArrayContent(await index.Content.ReadAsByteArrayAsync()),
            };
            put.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/vnd.oci.image.index.v1+json");
            using var stored = await http.SendAsync(put);
            stored.EnsureSuccessStatusCode();
        }

        var verified = await _tlog.RunAsync("verify", $"{_lab.Registry}/images/borrowed@{victim}", "--key", publicKey, "--trusted-root", system["TRUSTED_ROOT"]);
        var downloaded = await _tlog.RunAsync("download", "signature", $"{_lab.Registry}/images/borrowed@{signed}");

        TlogRunner.AssertFailed(verified, 10, "NO_SIGNATURES");
        Assert.True(downloaded.ExitCode == 0, downloaded.Output);
        Assert.Contains("\"dsseEnvelope\"", downloaded.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyOffline_AfterKeylessSigning_NoRequestReachesTheLogCaTsaOrTheEnvironmentsUrls()
    {
        var digest = await _lab.PushImageAsync("images/offline:1.0");
        var token = await system.DevTokenAsync(TlogRunner.Alice);
        await _tlog.SucceedAsync(
            "sign", $"{_lab.Registry}/images/offline@{digest}", "--identity-token", token, "--fulcio-url", system["FULCIO_URL"], "--rekor-url", Rekor,
            "--tsa-url", system["TSA_URL"]);
        // Every address the CLI could learn but the logs' leads to a listener that counts connections: the service URLs
        // in the environment (the runner clears the rest) and the CA, CT log and TSA URLs of the trusted root. The
        // transparency logs keep their URLs (the checkpoint origin is checked against them), so the log service
        // counts the requests it serves, per route, in /metrics. Only the registry may be contacted.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var connections = 0;
        var accepting = Task.Run(async () =>
        {
            while (true)
            {
                using var socket = await listener.AcceptSocketAsync();
                Interlocked.Increment(ref connections);
            }
        });
        var decoy = $"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}";
        var decoys = new Dictionary<string, string>
        {
            ["REKOR_URL"] = decoy, ["REKOR_V2_URL"] = decoy, ["FULCIO_URL"] = decoy, ["TSA_URL"] = decoy + "/api/v1/timestamp",
            ["SIGSTORE_REKOR_URL"] = decoy, ["SIGSTORE_FULCIO_URL"] = decoy,
        };
        var root = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(system["TRUSTED_ROOT"]))!;
        foreach (var authority in root["certificateAuthorities"]!.AsArray().Concat(root["timestampAuthorities"]!.AsArray()))
        {
            authority!["uri"] = decoy;
        }

        foreach (var ctlog in root["ctlogs"]!.AsArray())
        {
            ctlog!["baseUrl"] = decoy + "/ct";
        }

        var trustedRoot = _tlog.Write("decoy-root.json", root.ToJsonString());
        var logBefore = await SettledRequestsServedAsync(Rekor);

        var verified = await _tlog.RunAsync(
            ["verify", $"{_lab.Registry}/images/offline:1.0", "--offline", "--trusted-root", trustedRoot, .. _tlog.Identity()], decoys);
        var logAfter = await RequestsServedAsync(Rekor);

        Assert.True(verified.ExitCode == 0, verified.Output);
        Assert.Equal(0, Volatile.Read(ref connections));
        Assert.Empty(logAfter.Where(r => logBefore.GetValueOrDefault(r.Key) != r.Value).Select(r => $"{r.Key} {logBefore.GetValueOrDefault(r.Key)} -> {r.Value}"));
        listener.Stop();
        await Assert.ThrowsAnyAsync<Exception>(() => accepting);
    }

    /// <summary>The request counts once two readings 500 ms apart agree (at most 20 readings).</summary>
    private static async Task<Dictionary<string, double>> SettledRequestsServedAsync(string baseUrl)
    {
        var last = await RequestsServedAsync(baseUrl);
        for (var reading = 0; reading < 20; reading++)
        {
            await Task.Delay(500);
            var now = await RequestsServedAsync(baseUrl);
            if (now.Count == last.Count && now.All(r => last.GetValueOrDefault(r.Key) == r.Value))
            {
                break;
            }

            last = now;
        }

        return last;
    }

    /// <summary>The requests a service has answered per route, all but /metrics (its http_requests_received_total).</summary>
    private static async Task<Dictionary<string, double>> RequestsServedAsync(string baseUrl)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(baseUrl + "/metrics");
        return text.Split('\n')
            .Where(static l => l.StartsWith("http_requests_received_total{", StringComparison.Ordinal) && !l.Contains("endpoint=\"/metrics\"", StringComparison.Ordinal))
            .ToDictionary(
                static l => l[..l.LastIndexOf(' ')],
                static l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture),
                StringComparer.Ordinal);
    }

    private static string FallbackTag(string digest) => "sha256-" + digest["sha256:".Length..];

    /// <summary>
    /// A registry that serves one manifest and refuses every write with 403 DENIED, as a registry in read-only
    /// maintenance mode or a pull-only account does: resolving an image there works, storing its signature does not.
    /// </summary>
    private sealed class ReadOnlyRegistry : IAsyncDisposable
    {
        private static readonly byte[] s_manifest = System.Text.Encoding.UTF8.GetBytes(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\"," +
            "\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"size\":2},\"layers\":[]}");

        private readonly System.Net.HttpListener _listener;
        private readonly Task _serving;

        private ReadOnlyRegistry(System.Net.HttpListener listener, string address)
        {
            _listener = listener;
            Address = address;
            _serving = Task.Run(ServeAsync);
        }

        public string Address { get; }

        public string Digest { get; } = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(s_manifest));

        public static ReadOnlyRegistry Start()
        {
            var address = $"127.0.0.1:{TransparencyLog.Tests.Shared.TestPorts.Next()}";
            var listener = new System.Net.HttpListener();
            listener.Prefixes.Add($"http://{address}/");
            listener.Start();
            return new ReadOnlyRegistry(listener, address);
        }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                System.Net.HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is System.Net.HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var response = context.Response;
                if (context.Request.HttpMethod is "GET" or "HEAD" && context.Request.Url?.AbsolutePath == $"/v2/frozen/app/manifests/{Digest}")
                {
                    response.ContentType = "application/vnd.oci.image.manifest.v1+json";
                    response.Headers["Docker-Content-Digest"] = Digest;
                    response.ContentLength64 = s_manifest.Length;
                    if (context.Request.HttpMethod == "GET")
                    {
                        await response.OutputStream.WriteAsync(s_manifest);
                    }

                    continue;
                }

                var denied = System.Text.Encoding.UTF8.GetBytes("{\"errors\":[{\"code\":\"DENIED\",\"message\":\"the registry is read-only\"}]}");
                response.StatusCode = 403;
                response.ContentType = "application/json";
                if (context.Request.HttpMethod != "HEAD")
                {
                    response.ContentLength64 = denied.Length;
                    await response.OutputStream.WriteAsync(denied);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            await _serving;
        }
    }

    public void Dispose()
    {
        _tlog.Dispose();
        _lab.Dispose();
    }
}
