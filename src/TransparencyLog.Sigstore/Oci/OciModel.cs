using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Json;

namespace TransparencyLog.Sigstore.Oci;

/// <summary>Media types this client reads and writes (image-spec, Docker v2 schema 2, cosign and sigstore).</summary>
public static class MediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";
    public const string SimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json";
    public const string DsseEnvelope = "application/vnd.dsse.envelope.v1+json";
    public const string SigstoreBundleV03 = "application/vnd.dev.sigstore.bundle.v0.3+json";

    /// <summary>The Accept header of every manifest GET and HEAD (go-containerregistry's set): without it a registry may down-convert.</summary>
    public static readonly string[] Manifests = [OciManifest, OciIndex, DockerManifest, DockerManifestList];

    public static bool IsIndex(string mediaType) => mediaType is OciIndex or DockerManifestList;
}

/// <summary>An OCI content descriptor (image-spec descriptor.md), with the fields this client uses.</summary>
public sealed record OciDescriptor(
    string MediaType,
    string Digest,
    long Size,
    string? ArtifactType = null,
    IReadOnlyDictionary<string, string>? Annotations = null,
    JsonObject? Platform = null)
{
    public JsonObject ToJson()
    {
        var node = new JsonObject { ["mediaType"] = MediaType, ["digest"] = Digest, ["size"] = Size };
        if (ArtifactType is not null)
        {
            node["artifactType"] = ArtifactType;
        }

        if (Annotations is { Count: > 0 })
        {
            var annotations = new JsonObject();
            foreach (var (key, value) in Annotations)
            {
                annotations[key] = value;
            }

            node["annotations"] = annotations;
        }

        if (Platform is not null)
        {
            node["platform"] = Platform.DeepClone();
        }

        return node;
    }

    public static OciDescriptor Parse(JsonElement element, string where)
    {
        try
        {
            var mediaType = element.GetProperty("mediaType").GetString() ?? throw new FormatException();
            var digest = element.GetProperty("digest").GetString();
            var size = element.GetProperty("size").GetInt64();
            if (!OciDigest.IsValid(digest) || size < 0)
            {
                throw new FormatException();
            }

            Dictionary<string, string>? annotations = null;
            if (element.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object)
            {
                annotations = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var property in a.EnumerateObject())
                {
                    annotations[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() ?? string.Empty : property.Value.GetRawText();
                }
            }

            var artifactType = element.TryGetProperty("artifactType", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            var platform = element.TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object ? JsonNode.Parse(p.GetRawText()) as JsonObject : null;
            return new OciDescriptor(mediaType, digest!, size, artifactType, annotations, platform);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new OciException(OciFailure.Error, $"{where} holds a descriptor without a valid mediaType, sha256 digest and size", "MANIFEST_INVALID");
        }
    }
}

/// <summary>A manifest exactly as the registry served it; <see cref="Digest"/> is the SHA-256 of those bytes.</summary>
public sealed class OciManifest
{
    public const int MaxLayers = 1000;

    private OciManifest(byte[] bytes, string mediaType, string digest, JsonElement root)
    {
        Bytes = bytes;
        MediaType = mediaType;
        Digest = digest;
        Root = root;
    }

    public byte[] Bytes { get; }

    public string MediaType { get; }

    public string Digest { get; }

    public JsonElement Root { get; }

    public bool IsIndex => MediaTypes.IsIndex(MediaType);

    public OciDescriptor Descriptor(string? artifactType = null) => new(MediaType, Digest, Bytes.Length, artifactType);

    public string? ArtifactType => Root.TryGetProperty("artifactType", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;

    public OciDescriptor? Config => Root.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? OciDescriptor.Parse(c, $"manifest {Digest}") : null;

    public OciDescriptor? Subject => Root.TryGetProperty("subject", out var s) && s.ValueKind == JsonValueKind.Object ? OciDescriptor.Parse(s, $"manifest {Digest}") : null;

    public IReadOnlyDictionary<string, string> Annotations =>
        Root.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object
            ? StringAnnotations(a)
            : new Dictionary<string, string>();

    /// <summary>As a descriptor's annotations are read: a value that is not a string as its JSON text, a repeated key's last value.</summary>
    private static Dictionary<string, string> StringAnnotations(JsonElement annotations)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in annotations.EnumerateObject())
        {
            result[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() ?? string.Empty : property.Value.GetRawText();
        }

        return result;
    }

    /// <summary>The layers of an image manifest, or the manifests of an index.</summary>
    public IReadOnlyList<OciDescriptor> Children
    {
        get
        {
            var name = IsIndex ? "manifests" : "layers";
            if (!Root.TryGetProperty(name, out var list) || list.ValueKind != JsonValueKind.Array)
            {
                return [];
            }

            if (list.GetArrayLength() > MaxLayers)
            {
                throw new OciException(OciFailure.Error, $"manifest {Digest} lists more than {MaxLayers} {name}", "MANIFEST_INVALID");
            }

            return [.. list.EnumerateArray().Select(e => OciDescriptor.Parse(e, $"manifest {Digest}"))];
        }
    }

    /// <summary>
    /// Parses served bytes. The <c>Content-Type</c> must be a manifest type, and equal to the body's <c>mediaType</c>
    /// when the body names one (image-spec: a mismatch is how type-confusion attacks start).
    /// </summary>
    public static OciManifest Parse(byte[] bytes, string? contentType, string where)
    {
        JsonElement root;
        try
        {
            // UTF-8 is checked first: JsonDocument would otherwise throw InvalidOperationException only when a
            // string is read (mediaType below, or any descriptor later), far from this error mapping.
            using var document = JsonInput.Parse(bytes);
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new OciException(OciFailure.Error, $"{where} is not JSON", "MANIFEST_INVALID");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new OciException(OciFailure.Error, $"{where} is not a JSON object", "MANIFEST_INVALID");
        }

        var bodyType = root.TryGetProperty("mediaType", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        var mediaType = bodyType ?? contentType ?? string.Empty;
        if (!MediaTypes.Manifests.Contains(mediaType))
        {
            throw new OciException(
                OciFailure.Error,
                $"{where} has media type '{Shorten(mediaType)}', not an OCI or Docker v2 manifest or index",
                "UNSUPPORTED_MEDIA_TYPE");
        }

        if (bodyType is not null && contentType is not null && MediaTypes.Manifests.Contains(contentType) && contentType != bodyType)
        {
            throw new OciException(OciFailure.Error, $"{where} was served as {contentType} but says it is {bodyType}", "MANIFEST_INVALID");
        }

        return new OciManifest(bytes, mediaType, OciDigest.Of(bytes), root);
    }

    private static string Shorten(string text) => text.Length > 100 ? text[..100] + "…" : text;
}
