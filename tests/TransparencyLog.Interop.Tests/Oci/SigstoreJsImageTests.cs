using System.Net.Http.Headers;
using System.Text.Json;
using TransparencyLog.Interop.Tests.Infrastructure;
using TransparencyLog.Interop.Tests.SigstoreJs;

namespace TransparencyLog.Interop.Tests.Oci;

/// <summary>
/// sigstore-js (@sigstore/verify) checks the bundle <c>tlog sign</c> pushed as a referrer, read straight from the
/// registry with plain HTTP (the referrers fallback tag, the referrer manifest, its layer), and the image manifest
/// as the artifact whose SHA-256 the statement must name.
/// </summary>
[Collection(ImageSystemCollection.Name)]
public sealed class SigstoreJsImageTests(LocalSystem system) : IDisposable
{
    private readonly ImageLab _lab = new(system);

    [Fact]
    public async Task SignImageKeyless_ReferrerBundleFromRegistry_SigstoreJsVerifies()
    {
        var run = SigstoreJsRun.Start(system, "image-referrer");
        var digest = await _lab.PushImageAsync("js/app:1.0");
        await run.TlogSucceedsAsync(
            "sign", $"{_lab.Registry}/js/app:1.0", "--identity-token", await run.TokenAsync(), "--fulcio-url", system["FULCIO_URL"],
            "--rekor-url", system["REKOR_URL"], "--tsa-url", system["TSA_URL"], "--format", "bundle");

        using var http = new HttpClient();
        var manifest = await GetAsync(http, $"js/app/manifests/{digest}", "application/vnd.oci.image.manifest.v1+json");
        var index = JsonDocument.Parse(await GetAsync(http, $"js/app/manifests/sha256-{digest["sha256:".Length..]}", "application/vnd.oci.image.index.v1+json")).RootElement;
        var referrer = index.GetProperty("manifests").EnumerateArray().Single(m => m.GetProperty("artifactType").GetString() == "application/vnd.dev.sigstore.bundle.v0.3+json");
        var referrerManifest = JsonDocument.Parse(await GetAsync(http, $"js/app/manifests/{referrer.GetProperty("digest").GetString()}", "application/vnd.oci.image.manifest.v1+json")).RootElement;
        Assert.Equal(digest, referrerManifest.GetProperty("subject").GetProperty("digest").GetString());
        var bundle = await GetAsync(http, $"js/app/blobs/{referrerManifest.GetProperty("layers")[0].GetProperty("digest").GetString()}", "*/*");
        await File.WriteAllBytesAsync(run.PathOf("manifest.json"), manifest);
        await File.WriteAllBytesAsync(run.PathOf("image.sigstore.json"), bundle);

        await run.NodeAsync("verify.mjs", "--artifact", run.PathOf("manifest.json"), "--bundle", run.PathOf("image.sigstore.json"), "--dsse", "--timestamps", "2");
    }

    private async Task<byte[]> GetAsync(HttpClient http, string path, string accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{_lab.Registry}/v2/{path}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        using var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode}");
        return await response.Content.ReadAsByteArrayAsync();
    }

    public void Dispose() => _lab.Dispose();
}
