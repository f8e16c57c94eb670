using System.Formats.Tar;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests.Oci;

/// <summary>
/// Test images in the system's registry, pushed by upstream skopeo 1.13.3 (sigstore enabled) from OCI layouts built
/// here: a one-file layer, a config and a manifest, unique per call so every test signs its own digest.
/// </summary>
internal sealed class ImageLab : IDisposable
{
    private static readonly Lazy<string> s_skopeo = new(FindSkopeo);

    public ImageLab(LocalSystem system)
    {
        System = system;
        Directory = global::System.IO.Directory.CreateTempSubdirectory("tlog-oci-").FullName;
        File.WriteAllText(PathOf("accept.json"), """{"default":[{"type":"insecureAcceptAnything"}]}""");
        var registriesD = global::System.IO.Directory.CreateDirectory(PathOf("registries.d")).FullName;
        File.WriteAllText(Path.Combine(registriesD, "tlog.yaml"), $"docker:\n  {Registry}:\n    use-sigstore-attachments: true\n");
    }

    public LocalSystem System { get; }

    public string Directory { get; }

    public string Registry => System["REGISTRY"];

    public static string Skopeo => s_skopeo.Value;

    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>Builds a fresh single-platform image and pushes it with skopeo; returns its digest.</summary>
    public async Task<string> PushImageAsync(string repositoryAndTag, string platform = "amd64")
    {
        var layout = BuildLayout(platform, out var digest);
        var result = await SkopeoAsync("--policy", PathOf("accept.json"), "copy", "--dest-tls-verify=false", $"oci:{layout}:latest", $"docker://{Registry}/{repositoryAndTag}");
        Assert.True(result.ExitCode == 0, $"skopeo copy failed:\n{result.Output}");
        return digest;
    }

    /// <summary>Pushes an OCI index of the given platform images (pushed by digest into the same repository); returns its digest.</summary>
    public async Task<string> PushIndexAsync(string repository, string tag, IReadOnlyList<(string Digest, string Architecture)> platforms)
    {
        var manifests = new JsonArray();
        using var http = new HttpClient();
        foreach (var (digest, architecture) in platforms)
        {
            using var head = new HttpRequestMessage(HttpMethod.Get, $"http://{Registry}/v2/{repository}/manifests/{digest}");
            head.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.manifest.v1+json"));
            using var response = await http.SendAsync(head);
            response.EnsureSuccessStatusCode();
            var size = (await response.Content.ReadAsByteArrayAsync()).Length;
            manifests.Add(new JsonObject
            {
                ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
                ["digest"] = digest,
                ["size"] = size,
                ["platform"] = new JsonObject { ["architecture"] = architecture, ["os"] = "linux" },
            });
        }

        var index = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.index.v1+json",
            ["manifests"] = manifests,
        }.ToJsonString());
        using var put = new HttpRequestMessage(HttpMethod.Put, $"http://{Registry}/v2/{repository}/manifests/{tag}") { Content = new ByteArrayContent(index) };
        put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.index.v1+json");
        using var stored = await http.SendAsync(put);
        Assert.True(stored.IsSuccessStatusCode, $"index PUT answered {(int)stored.StatusCode}");
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(index));
    }

    /// <summary>A <c>sigstoreSigned</c> policy for the registry (every other transport and scope rejected).</summary>
    public string WritePolicy(string name, JsonObject requirement)
    {
        requirement["type"] = "sigstoreSigned";
        requirement["signedIdentity"] ??= new JsonObject { ["type"] = "matchRepository" };
        var policy = new JsonObject
        {
            ["default"] = new JsonArray(new JsonObject { ["type"] = "reject" }),
            ["transports"] = new JsonObject { ["docker"] = new JsonObject { [Registry] = new JsonArray(requirement) } },
        };
        var path = PathOf(name);
        File.WriteAllText(path, policy.ToJsonString());
        return path;
    }

    /// <summary><c>skopeo copy</c> out of the registry under <paramref name="policy"/>: exit 0 means the policy accepted the image.</summary>
    public Task<ProcessResult> PullUnderPolicyAsync(string policy, string reference) =>
        SkopeoAsync(
            "--policy", policy, "--registries.d", PathOf("registries.d"), "copy", "--remove-signatures", "--src-tls-verify=false",
            $"docker://{Registry}/{reference}", $"oci:{PathOf("pulled-" + Guid.NewGuid().ToString("N"))}:x");

    public Task<ProcessResult> SkopeoAsync(params string[] arguments) =>
        LocalSystem.RunAsync(Skopeo, arguments, null, TimeSpan.FromMinutes(2), Directory);

    private string BuildLayout(string architecture, out string manifestDigest)
    {
        var layout = PathOf("layout-" + Guid.NewGuid().ToString("N"));
        var blobs = global::System.IO.Directory.CreateDirectory(Path.Combine(layout, "blobs", "sha256")).FullName;
        string Store(byte[] content)
        {
            var hex = Convert.ToHexStringLower(SHA256.HashData(content));
            File.WriteAllBytes(Path.Combine(blobs, hex), content);
            return "sha256:" + hex;
        }

        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, "hello.txt")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes($"hello from a tlog test image {Guid.NewGuid()}\n")),
            };
            writer.WriteEntry(entry);
        }

        var diffId = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(tar.ToArray()));
        using var gzipped = new MemoryStream();
        using (var gzip = new GZipStream(gzipped, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(tar.ToArray());
        }

        var layer = gzipped.ToArray();
        var layerDigest = Store(layer);
        var config = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["architecture"] = architecture,
            ["os"] = "linux",
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(diffId) },
            ["config"] = new JsonObject(),
        }.ToJsonString());
        var configDigest = Store(config);
        var manifest = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
            ["config"] = new JsonObject { ["mediaType"] = "application/vnd.oci.image.config.v1+json", ["digest"] = configDigest, ["size"] = config.Length },
            ["layers"] = new JsonArray(new JsonObject { ["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip", ["digest"] = layerDigest, ["size"] = layer.Length }),
        }.ToJsonString());
        manifestDigest = Store(manifest);
        File.WriteAllText(Path.Combine(layout, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        File.WriteAllText(Path.Combine(layout, "index.json"), new JsonObject
        {
            ["schemaVersion"] = 2,
            ["manifests"] = new JsonArray(new JsonObject
            {
                ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
                ["digest"] = manifestDigest,
                ["size"] = manifest.Length,
                ["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = "latest" },
            }),
        }.ToJsonString());
        return layout;
    }

    /// <summary>
    /// Upstream skopeo: <c>TLOG_SKOPEO</c> (test.sh sets it), else the shared folder's <c>get.sh</c> found next to the
    /// clone or one of its parents (CI: <c>../shared</c>).
    /// </summary>
    private static string FindSkopeo()
    {
        if ((Environment.GetEnvironmentVariable("TLOG_SKOPEO") ?? Environment.GetEnvironmentVariable("TLOG_TEST_SKOPEO")) is { Length: > 0 } configured)
        {
            return configured;
        }

        for (var directory = new DirectoryInfo(Repository.Root); directory is not null; directory = directory.Parent)
        {
            var getScript = Path.Combine(directory.FullName, "shared", "tools", "skopeo", "get.sh");
            if (File.Exists(getScript))
            {
                var result = LocalSystem.RunAsync(getScript, [], null, TimeSpan.FromMinutes(2)).GetAwaiter().GetResult();
                Assert.True(result.ExitCode == 0, $"{getScript} failed:\n{result.Output}");
                return result.StandardOutput.Trim();
            }
        }

        throw new InvalidOperationException("upstream skopeo not found: set TLOG_SKOPEO or place the shared folder (shared/tools/skopeo/get.sh) next to the clone");
    }

    public void Dispose()
    {
        try
        {
            global::System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
