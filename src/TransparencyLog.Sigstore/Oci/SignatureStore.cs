using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace TransparencyLog.Sigstore.Oci;

/// <summary>One signature or attestation layer as cosign stores it in a <c>.sig</c>/<c>.att</c> tag: the blob and its annotations.</summary>
public sealed record SignatureLayer(byte[] Content, string MediaType, IReadOnlyDictionary<string, string> Annotations);

/// <summary>A layer read back from the registry: its descriptor and the verified content.</summary>
public sealed record StoredLayer(OciDescriptor Descriptor, byte[] Content);

/// <summary>
/// Writes and reads signatures in the registry, in both places verifiers look (oci-signing §2, §3): the legacy
/// <c>sha256-HEX.sig</c>/<c>.att</c> tag and OCI 1.1 referrers holding a sigstore bundle.
/// </summary>
public sealed class SignatureStore(RegistryClient registry, TimeProvider time)
{
    private const int MaxMergeAttempts = 8;

    /// <summary>Blobs and referrer manifests fetched at once when reading signatures (20 layers: one wave, not 20 trips).</summary>
    private const int MaxParallelReads = 8;
    private static readonly byte[] s_emptyJson = "{}"u8.ToArray();

    /// <summary>
    /// Appends a layer to the tag (read, add unless an equal layer is there, write), then reads the tag back: when a
    /// concurrent writer replaced it in between, merges again, so no writer's layer is lost (bounded attempts).
    /// </summary>
    public async Task AppendLayerAsync(string repository, string tag, SignatureLayer layer, CancellationToken cancellationToken)
    {
        // A fresh signature's layer is new to the registry nearly always; uploading it without a HEAD saves a trip.
        var layerDigest = await registry.UploadBlobAsync(repository, layer.Content, cancellationToken);
        var ours = new OciDescriptor(layer.MediaType, layerDigest, layer.Content.Length, null, layer.Annotations);
        for (var attempt = 0; attempt < MaxMergeAttempts; attempt++)
        {
            var started = time.GetTimestamp();
            var existing = await registry.GetManifestAsync(repository, tag, cancellationToken);
            var layers = existing is { IsIndex: false } ? existing.Children.ToList() : [];
            if (layers.Any(l => SameLayer(l, ours)))
            {
                return;
            }

            if (layers.Count >= OciManifest.MaxLayers)
            {
                throw new OciException(OciFailure.Error, $"{repository}:{tag} already holds {OciManifest.MaxLayers} layers; readers would refuse more", "TOO_MANY_SIGNATURES");
            }

            layers.Add(ours);
            var config = Encoding.UTF8.GetBytes(new JsonObject
            {
                ["architecture"] = string.Empty,
                ["created"] = "0001-01-01T00:00:00Z",
                ["history"] = new JsonArray(new JsonObject { ["created"] = "0001-01-01T00:00:00Z" }),
                ["os"] = string.Empty,
                ["rootfs"] = new JsonObject
                {
                    ["type"] = "layers",
                    ["diff_ids"] = new JsonArray([.. layers.Select(static l => (JsonNode)l.Digest)]),
                },
                ["config"] = new JsonObject(),
            }.ToJsonString());
            var configDigest = await registry.UploadBlobAsync(repository, config, cancellationToken);
            var manifest = new JsonObject
            {
                ["schemaVersion"] = 2,
                ["mediaType"] = MediaTypes.OciManifest,
                ["config"] = new OciDescriptor(MediaTypes.OciConfig, configDigest, config.Length).ToJson(),
                ["layers"] = new JsonArray([.. layers.Select(static l => (JsonNode)l.ToJson())]),
            };
            try
            {
                await registry.PutManifestAsync(repository, tag, Encoding.UTF8.GetBytes(manifest.ToJsonString()), MediaTypes.OciManifest, cancellationToken);
            }
            catch (OciException e) when (e.Code is "DIGEST_INVALID" or "MANIFEST_BLOB_UNKNOWN" && attempt < MaxMergeAttempts - 1)
            {
                // distribution rewrites a blob's link file in place when another writer uploads the same blob (several
                // keys signing one image upload one payload layer); a manifest check reading the link meanwhile finds
                // it empty and answers DIGEST_INVALID (or MANIFEST_BLOB_UNKNOWN). Nothing was stored: merge again.
                await Task.Delay(TimeSpan.FromMilliseconds(50 + Random.Shared.Next(150)), time, cancellationToken);
                continue;
            }


            if (await StillPresentAsync(repository, tag, ours, time.GetElapsedTime(started), cancellationToken))
            {
                return;
            }
        }

        throw new OciException(OciFailure.Error, $"{repository}:{tag} kept changing under concurrent writers; the signature was not stored after {MaxMergeAttempts} attempts", "CONCURRENT_WRITERS");
    }

    /// <summary>
    /// Pushes a bundle as an OCI 1.1 referrer of <paramref name="subject"/>: the empty config and the bundle blob
    /// first, the manifest by digest last, then the fallback index when the registry did not take the subject itself.
    /// </summary>
    public async Task<string> PushBundleReferrerAsync(string repository, OciDescriptor subject, byte[] bundleJson, string predicateType, CancellationToken cancellationToken)
    {
        await registry.PushBlobAsync(repository, s_emptyJson, cancellationToken);
        var layerDigest = await registry.UploadBlobAsync(repository, bundleJson, cancellationToken);
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["dev.sigstore.bundle.content"] = "dsse-envelope",
            ["dev.sigstore.bundle.predicateType"] = predicateType,
            ["org.opencontainers.image.created"] = time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        };
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["artifactType"] = MediaTypes.SigstoreBundleV03,
            ["config"] = new OciDescriptor(MediaTypes.OciEmpty, OciDigest.Of(s_emptyJson), s_emptyJson.Length).ToJson(),
            ["layers"] = new JsonArray(new OciDescriptor(MediaTypes.SigstoreBundleV03, layerDigest, bundleJson.Length).ToJson()),
            ["subject"] = new OciDescriptor(subject.MediaType, subject.Digest, subject.Size).ToJson(),
            ["annotations"] = new JsonObject([.. annotations.Select(static a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))]),
        };
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var digest = OciDigest.Of(bytes);
        var processed = await registry.PutManifestAsync(repository, digest, bytes, MediaTypes.OciManifest, cancellationToken);
        if (!processed)
        {
            await registry.AddToReferrersFallbackAsync(
                repository, subject.Digest, new OciDescriptor(MediaTypes.OciManifest, digest, bytes.Length, MediaTypes.SigstoreBundleV03, annotations), cancellationToken);
        }

        return digest;
    }

    /// <summary>The layers of a <c>.sig</c>/<c>.att</c> tag with their contents (digest-checked, size-bounded); empty when the tag is absent.</summary>
    public async Task<IReadOnlyList<StoredLayer>> ReadLayersAsync(string repository, string tag, CancellationToken cancellationToken)
    {
        var manifest = await registry.GetManifestAsync(repository, tag, cancellationToken);
        if (manifest is null)
        {
            return [];
        }

        if (manifest.MediaType != MediaTypes.OciManifest && manifest.MediaType != MediaTypes.DockerManifest)
        {
            throw new OciException(OciFailure.Error, $"{repository}:{tag} is a {manifest.MediaType}, not a signature manifest", "SIGNATURE_FORMAT");
        }

        foreach (var descriptor in manifest.Children)
        {
            if (descriptor.Size > RegistryClient.MaxBlobBytes)
            {
                throw new OciException(OciFailure.Error, $"a layer of {repository}:{tag} is {descriptor.Size} bytes, above the {RegistryClient.MaxBlobBytes}-byte limit", "TOO_LARGE");
            }
        }

        return await ReadInOrderAsync(
            manifest.Children,
            async (descriptor, token) => new StoredLayer(descriptor, await registry.GetBlobAsync(repository, descriptor.Digest, RegistryClient.MaxBlobBytes, token)),
            cancellationToken);
    }

    /// <summary>The sigstore bundles (v0.3 and later) among the referrers of <paramref name="digest"/>, with their manifest digests.</summary>
    public async Task<IReadOnlyList<(string ManifestDigest, byte[] Bundle)>> ReadBundlesAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        var candidates = (await registry.GetReferrersAsync(repository, digest, cancellationToken))
            .Where(static r => r.ArtifactType is { } type && type.StartsWith("application/vnd.dev.sigstore.bundle", StringComparison.Ordinal))
            .ToList();
        var bundles = await ReadInOrderAsync(candidates, (referrer, token) => ReadBundleAsync(repository, digest, referrer, token), cancellationToken);
        var found = new List<(string, byte[])>();
        foreach (var bundle in bundles)
        {
            if (bundle is { } present)
            {
                found.Add(present);
            }
        }

        return found;
    }

    /// <summary>One referrer's bundle, or null when the referrer is not a bundle manifest about <paramref name="digest"/>.</summary>
    private async Task<(string ManifestDigest, byte[] Bundle)?> ReadBundleAsync(string repository, string digest, OciDescriptor referrer, CancellationToken cancellationToken)
    {
        var manifest = await registry.GetManifestAsync(repository, referrer.Digest, cancellationToken);
        if (manifest is null || manifest.IsIndex)
        {
            return null;
        }

        // Only a referrer that really refers to this digest counts: a fallback index can be written by anyone.
        if (manifest.Subject?.Digest != digest)
        {
            return null;
        }

        var layers = manifest.Children;
        if (layers.Count != 1 || !layers[0].MediaType.StartsWith("application/vnd.dev.sigstore.bundle", StringComparison.Ordinal))
        {
            return null;
        }

        if (layers[0].Size > RegistryClient.MaxBlobBytes)
        {
            throw new OciException(OciFailure.Error, $"the bundle of referrer {referrer.Digest} is {layers[0].Size} bytes, above the {RegistryClient.MaxBlobBytes}-byte limit", "TOO_LARGE");
        }

        return (referrer.Digest, await registry.GetBlobAsync(repository, layers[0].Digest, RegistryClient.MaxBlobBytes, cancellationToken));
    }

    /// <summary>
    /// Runs <paramref name="read"/> over <paramref name="items"/> a few at a time and returns the results in the items'
    /// order, so what is printed or verified does not depend on which answer came first. The first failure fails the whole.
    /// </summary>
    private static async Task<IReadOnlyList<TResult>> ReadInOrderAsync<TItem, TResult>(
        IReadOnlyList<TItem> items, Func<TItem, CancellationToken, Task<TResult>> read, CancellationToken cancellationToken)
    {
        // One item (the common image with one signature or one referrer) is read directly: Parallel.ForEachAsync's
        // generic machinery is JIT-compiled at run time (about 20 methods outside the ReadyToRun image) for nothing.
        if (items.Count == 1)
        {
            return [await read(items[0], cancellationToken)];
        }

        return await ReadConcurrentlyAsync(items, read, cancellationToken);
    }

    /// <summary>
    /// The several-item case of <see cref="ReadInOrderAsync"/>, in its own method: the JIT compiles a generic async
    /// method's state machine whole, so naming <c>Parallel</c> in the caller loaded its assembly for one item too.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static async Task<IReadOnlyList<TResult>> ReadConcurrentlyAsync<TItem, TResult>(
        IReadOnlyList<TItem> items, Func<TItem, CancellationToken, Task<TResult>> read, CancellationToken cancellationToken)
    {
        var results = new TResult[items.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, items.Count),
            new ParallelOptions { MaxDegreeOfParallelism = MaxParallelReads, CancellationToken = cancellationToken },
            async (i, token) => results[i] = await read(items[i], token));
        return results;
    }

    /// <summary>
    /// The registry has no compare-and-swap for tags (distribution ignores If-Match), so a writer that read the tag
    /// before our PUT can still overwrite it, at most one read-modify-write cycle later. Our layer must be there after
    /// twice our own cycle (plus jitter); otherwise we merge again. One read after the pause is enough: a layer
    /// overwritten at any moment before it is missing then too (a writer that merged it back in keeps it).
    /// </summary>
    private async Task<bool> StillPresentAsync(string repository, string tag, OciDescriptor ours, TimeSpan cycle, CancellationToken cancellationToken)
    {
        var settle = TimeSpan.FromMilliseconds(Math.Min(5_000, (2 * cycle.TotalMilliseconds) + Random.Shared.Next(Math.Max(1, (int)cycle.TotalMilliseconds))));
        await Task.Delay(settle, time, cancellationToken);
        var after = await registry.GetManifestAsync(repository, tag, cancellationToken);
        return after is { IsIndex: false } && after.Children.Any(l => SameLayer(l, ours));
    }

    private static bool SameLayer(OciDescriptor a, OciDescriptor b) =>
        a.Digest == b.Digest && a.MediaType == b.MediaType
        && (a.Annotations?.GetValueOrDefault(CosignFormats.SignatureAnnotation) ?? string.Empty) == (b.Annotations?.GetValueOrDefault(CosignFormats.SignatureAnnotation) ?? string.Empty)
        && (a.Annotations?.GetValueOrDefault(CosignFormats.BundleAnnotation) ?? string.Empty) == (b.Annotations?.GetValueOrDefault(CosignFormats.BundleAnnotation) ?? string.Empty);
}
