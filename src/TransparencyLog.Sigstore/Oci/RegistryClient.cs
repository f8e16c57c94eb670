using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Http;
using TransparencyLog.Sigstore.Json;

namespace TransparencyLog.Sigstore.Oci;

/// <summary>
/// The OCI distribution API of one registry (oci-signing §1): manifests, blobs, tags, referrers, with anonymous,
/// Basic and Bearer-token authentication. Every manifest and blob is hashed as received and refused when it is not the
/// digest asked for; every response is size-bounded; idempotent requests are retried a bounded number of times on
/// 429 and 5xx. Safe for concurrent use: a command signing or reading many images shares one client (its tokens, the
/// blobs it knows the registry holds, and the HTTP connections of its <see cref="HttpClient"/>).
/// </summary>
public sealed class RegistryClient
{
    /// <summary>Manifests above this are refused (the distribution spec expects registries to accept 4 MB).</summary>
    public const int MaxManifestBytes = 4 * 1024 * 1024;

    /// <summary>Signature, attestation and bundle layers above this are refused (containers/image uses the same bound).</summary>
    public const int MaxBlobBytes = 4 * 1024 * 1024;

    private const int MaxErrorBytes = 64 * 1024;
    private const int MaxTagPages = 1000;

    /// <summary>Retries of an idempotent request after 429, 5xx or a connection failure (4 tries in all).</summary>
    private const int MaxRetries = 3;

    /// <summary>Blobs up to this size are offered in one POST (a refused offer resends the bytes: keep it to signatures).</summary>
    private const int MaxSinglePostBytes = 1024 * 1024;

    private readonly HttpClient _http;
    private readonly RegistryCredential? _credential;
    private readonly ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);

    // Blobs seen in the registry during this client's life (repository@digest): blobs are content-addressed and
    // immutable, so a second push of the same bytes (the empty config of every referrer) needs no HEAD.
    private readonly ConcurrentDictionary<string, byte> _knownBlobs = new(StringComparer.Ordinal);
    private readonly TimeSpan _retryDelay;

    // Blob pushes in flight (repository@digest), shared by concurrent callers pushing the same bytes.
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _pushing = new(StringComparer.Ordinal);
    private volatile bool _basic;

    // Whether the registry stores a blob sent in one POST with its digest: 0 until the first upload tells, then 1 (it
    // does) or -1 (it does not). Concurrent first uploads may each ask; every answer is the same.
    private volatile int _singlePost;
    private int _roundTrips;

    /// <param name="requireTls">HTTPS even for a loopback registry (given with <c>--registry-cacert</c>: roots for it
    /// mean the registry speaks TLS).</param>
    public RegistryClient(HttpClient http, string registry, RegistryCredential? credential, bool allowInsecure, TimeSpan? retryDelay = null, bool requireTls = false)
    {
        _http = http;
        Registry = registry;
        _credential = credential;
        var scheme = !requireTls && (IsLoopback(registry) || allowInsecure) ? "http" : "https";
        BaseUri = new Uri($"{scheme}://{registry}/");
        _retryDelay = retryDelay ?? TimeSpan.FromMilliseconds(250);
    }

    public string Registry { get; }

    public Uri BaseUri { get; }

    /// <summary>HTTP requests sent so far (each retry and token fetch counts): the figure the benchmarks print.</summary>
    public int RoundTrips => _roundTrips;

    public static bool IsLoopback(string registry)
    {
        var host = registry;
        if (host.StartsWith('['))
        {
            host = host[1..host.IndexOf(']', StringComparison.Ordinal)];
        }
        else if (host.LastIndexOf(':') is var colon and > 0)
        {
            host = host[..colon];
        }

        return host == "localhost" || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }

    // ---- manifests -------------------------------------------------------------------------------------------

    /// <summary>A manifest by tag or digest, or null when the registry has none (404).</summary>
    public async Task<OciManifest?> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        var what = $"manifest {repository}:{reference}";
        using var response = await SendAsync(
            () => ManifestRequest(HttpMethod.Get, repository, reference), repository, push: false, retry: true, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureSuccessAsync(response, what, cancellationToken);
        var bytes = await ReadBoundedAsync(response, MaxManifestBytes, what, cancellationToken);
        var manifest = OciManifest.Parse(bytes, response.Content.Headers.ContentType?.MediaType, $"{Registry}/{what}");
        if (reference.StartsWith("sha256:", StringComparison.Ordinal) && manifest.Digest != reference)
        {
            throw new OciException(
                OciFailure.Error,
                $"the registry {Registry} served other bytes for {repository}@{reference} (they hash to {manifest.Digest}); refusing them",
                "DIGEST_MISMATCH");
        }

        return manifest;
    }

    /// <summary>Stores a manifest; returns whether the registry processed its <c>subject</c> (<c>OCI-Subject</c> header).</summary>
    public async Task<bool> PutManifestAsync(string repository, string reference, byte[] bytes, string mediaType, CancellationToken cancellationToken)
    {
        if (bytes.Length > MaxManifestBytes)
        {
            throw new OciException(OciFailure.Error, $"the manifest for {repository}:{reference} would be {bytes.Length} bytes, above the {MaxManifestBytes}-byte limit", "MANIFEST_TOO_LARGE");
        }

        using var response = await SendAsync(
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Put, Url($"v2/{repository}/manifests/{reference}")) { Content = new ByteArrayContent(bytes) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
                return request;
            },
            repository,
            push: true,
            retry: true,
            cancellationToken);
        await EnsureSuccessAsync(response, $"manifest {repository}:{reference}", cancellationToken);
        var expected = OciDigest.Of(bytes);
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var digests) && digests.FirstOrDefault() is { } stored && stored != expected)
        {
            throw new OciException(OciFailure.Error, $"the registry {Registry} stored manifest {repository}:{reference} as {stored}, not {expected}", "DIGEST_MISMATCH");
        }

        return response.Headers.Contains("OCI-Subject");
    }

    public async Task DeleteManifestAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(
            () => new HttpRequestMessage(HttpMethod.Delete, Url($"v2/{repository}/manifests/{digest}")), repository, push: true, retry: true, cancellationToken);
        if (response.StatusCode != HttpStatusCode.NotFound)
        {
            await EnsureSuccessAsync(response, $"manifest {repository}@{digest}", cancellationToken);
        }
    }

    // ---- blobs -----------------------------------------------------------------------------------------------

    public async Task<bool> BlobExistsAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        if (_knownBlobs.ContainsKey(BlobKey(repository, digest)))
        {
            return true;
        }

        using var response = await SendAsync(
            () => new HttpRequestMessage(HttpMethod.Head, Url($"v2/{repository}/blobs/{digest}")), repository, push: false, retry: true, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureSuccessAsync(response, $"blob {repository}@{digest}", cancellationToken);
        _knownBlobs.TryAdd(BlobKey(repository, digest), 0);
        return true;
    }

    /// <summary>A blob, refused unless it hashes to <paramref name="digest"/> and fits <paramref name="maxBytes"/>.</summary>
    public async Task<byte[]> GetBlobAsync(string repository, string digest, int maxBytes, CancellationToken cancellationToken)
    {
        var what = $"blob {repository}@{digest}";
        using var response = await SendAsync(
            () => new HttpRequestMessage(HttpMethod.Get, Url($"v2/{repository}/blobs/{digest}")), repository, push: false, retry: true, cancellationToken);
        await EnsureSuccessAsync(response, what, cancellationToken);
        var bytes = await ReadBoundedAsync(response, maxBytes, what, cancellationToken);
        if (OciDigest.Of(bytes) != digest)
        {
            throw new OciException(OciFailure.Error, $"the registry {Registry} served {what} with content that does not hash to that digest", "DIGEST_MISMATCH");
        }

        return bytes;
    }

    /// <summary>
    /// Uploads a blob unless the repository has it: monolithic (POST, then PUT with the digest), or chunked (PATCH
    /// with Content-Range per chunk) when <paramref name="chunkSize"/> is positive.
    /// </summary>
    public async Task<string> PushBlobAsync(string repository, byte[] content, CancellationToken cancellationToken, int chunkSize = 0)
    {
        var digest = OciDigest.Of(content);
        var key = BlobKey(repository, digest);
        if (_knownBlobs.ContainsKey(key))
        {
            return digest;
        }

        // Images signed at once all push the same empty config first: one of them asks and uploads, the others wait
        // for it instead of each sending its own HEAD and upload. A failed push is forgotten, so the next caller tries.
        var push = _pushing.GetOrAdd(key, _ => new Lazy<Task<string>>(
            async () => await BlobExistsAsync(repository, digest, cancellationToken)
                ? digest
                : await UploadAsync(repository, content, digest, chunkSize, cancellationToken)));
        try
        {
            return await push.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            if (push.Value.IsCompleted)
            {
                _pushing.TryRemove(KeyValuePair.Create(key, push));
            }
        }
    }

    /// <summary>
    /// Uploads a blob without asking first whether the repository has it (monolithic: POST, then PUT): for bytes just
    /// made, such as a fresh signature or bundle, where the HEAD would only cost a round trip. Uploading a blob the
    /// registry already holds is harmless (same digest, same content).
    /// </summary>
    public async Task<string> UploadBlobAsync(string repository, byte[] content, CancellationToken cancellationToken)
    {
        var digest = OciDigest.Of(content);
        return _knownBlobs.ContainsKey(BlobKey(repository, digest)) ? digest : await UploadAsync(repository, content, digest, 0, cancellationToken);
    }

    private async Task<string> UploadAsync(string repository, byte[] content, string digest, int chunkSize, CancellationToken cancellationToken)
    {
        if (chunkSize == 0 && _singlePost >= 0 && content.Length <= MaxSinglePostBytes)
        {
            var (stored, session) = await SinglePostAsync(repository, content, digest, cancellationToken);
            if (stored)
            {
                _knownBlobs.TryAdd(BlobKey(repository, digest), 0);
                return digest;
            }

            if (session is not null)
            {
                // The registry opened an ordinary upload session instead (202): finish it with the PUT, as below.
                await PutUploadAsync(repository, session, content, digest, cancellationToken);
                return digest;
            }
        }

        var location = await StartUploadAsync(repository, null, cancellationToken)
            ?? throw new OciException(OciFailure.Error, $"the registry {Registry} opened no upload session for {repository}", "BLOB_UPLOAD_INVALID");
        if (chunkSize > 0)
        {
            for (var offset = 0; offset < content.Length; offset += chunkSize)
            {
                var length = Math.Min(chunkSize, content.Length - offset);
                var start = offset;
                var current = location;
                using var patch = await SendAsync(
                    () =>
                    {
                        var request = new HttpRequestMessage(HttpMethod.Patch, current) { Content = new ByteArrayContent(content, start, length) };
                        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                        request.Content.Headers.TryAddWithoutValidation("Content-Range", $"{start}-{start + length - 1}");
                        return request;
                    },
                    repository,
                    push: true,
                    retry: false,
                    cancellationToken);
                await EnsureSuccessAsync(patch, $"blob upload to {repository}", cancellationToken);
                location = NextLocation(patch, location);
            }
        }

        await PutUploadAsync(repository, location, chunkSize > 0 ? [] : content, digest, cancellationToken);
        return digest;
    }

    /// <summary>Closes an upload session with the PUT that names the digest (and carries the rest of the bytes).</summary>
    private async Task PutUploadAsync(string repository, Uri location, byte[] body, string digest, CancellationToken cancellationToken)
    {
        using var put = await SendAsync(
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Put, WithQuery(location, "digest", digest)) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                return request;
            },
            repository,
            push: true,
            retry: false,
            cancellationToken);
        await EnsureSuccessAsync(put, $"blob upload to {repository}", cancellationToken);
        _knownBlobs.TryAdd(BlobKey(repository, digest), 0);
    }

    /// <summary>
    /// The distribution spec's single-request upload: <c>POST .../blobs/uploads/?digest=D</c> with the bytes. A registry
    /// that supports it stores the blob (201, one round trip instead of two); one that does not opens an ordinary
    /// session (202, the body ignored: distribution 2.x does this), which the caller finishes with a PUT, and later
    /// uploads through this client go straight to POST + PUT without sending the bytes twice. A registry that refuses
    /// the request outright (400, 404, 405, 415: some reject a body on POST) is not asked that way again either.
    /// </summary>
    private async Task<(bool Stored, Uri? Session)> SinglePostAsync(string repository, byte[] content, string digest, CancellationToken cancellationToken)
    {
        var url = Url($"v2/{repository}/blobs/uploads/?digest={Uri.EscapeDataString(digest)}");
        using var response = await SendAsync(
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(content) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                return request;
            },
            repository,
            push: true,
            retry: false,
            cancellationToken);
        if (response.StatusCode == HttpStatusCode.Created)
        {
            if (response.Headers.TryGetValues("Docker-Content-Digest", out var digests) && digests.FirstOrDefault() is { } stored && stored != digest)
            {
                throw new OciException(OciFailure.Error, $"the registry {Registry} stored a blob for {repository} as {stored}, not {digest}", "DIGEST_MISMATCH");
            }

            _singlePost = 1;
            return (true, null);
        }

        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            _singlePost = -1;
            return (false, response.Headers.Location is { } location ? new Uri(BaseUri, location) : null);
        }

        if (response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.UnsupportedMediaType)
        {
            _singlePost = -1;
            return (false, null);
        }

        await EnsureSuccessAsync(response, $"blob upload to {repository}", cancellationToken);
        return (false, null);
    }

    private static string BlobKey(string repository, string digest) => repository + "@" + digest;

    /// <summary>Cross-repository mount; true when mounted (201), false when the registry opened an upload instead (202).</summary>
    public async Task<bool> MountBlobAsync(string repository, string digest, string fromRepository, CancellationToken cancellationToken)
    {
        var query = $"?mount={Uri.EscapeDataString(digest)}&from={Uri.EscapeDataString(fromRepository)}";
        using var response = await SendAsync(
            () => new HttpRequestMessage(HttpMethod.Post, Url($"v2/{repository}/blobs/uploads/{query}")) { Content = new ByteArrayContent([]) },
            repository,
            push: true,
            retry: false,
            cancellationToken,
            extraScope: $"repository:{fromRepository}:pull");
        await EnsureSuccessAsync(response, $"mount of {digest} from {fromRepository} into {repository}", cancellationToken);
        if (response.StatusCode == HttpStatusCode.Created)
        {
            return true;
        }

        // An upload session we will not use: close it so no half-open upload lingers.
        if (response.Headers.Location is { } location)
        {
            var url = new Uri(BaseUri, location);
            using var abort = await SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, url), repository, push: true, retry: false, cancellationToken);
        }

        return false;
    }

    private async Task<Uri?> StartUploadAsync(string repository, string? query, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(
            () => new HttpRequestMessage(HttpMethod.Post, Url($"v2/{repository}/blobs/uploads/{query}")) { Content = new ByteArrayContent([]) },
            repository,
            push: true,
            retry: false,
            cancellationToken);
        await EnsureSuccessAsync(response, $"blob upload to {repository}", cancellationToken);
        return response.Headers.Location is { } location ? new Uri(BaseUri, location) : null;
    }

    private Uri NextLocation(HttpResponseMessage response, Uri current) =>
        response.Headers.Location is { } location ? new Uri(BaseUri, location) : current;

    private static Uri WithQuery(Uri location, string name, string value)
    {
        var text = location.ToString();
        return new Uri(text + (text.Contains('?', StringComparison.Ordinal) ? "&" : "?") + name + "=" + Uri.EscapeDataString(value));
    }

    // ---- tags and referrers ----------------------------------------------------------------------------------

    /// <summary>Every tag of a repository, following <c>Link: rel="next"</c> pages of <paramref name="pageSize"/>.</summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, int pageSize, CancellationToken cancellationToken)
    {
        var tags = new List<string>();
        Uri? next = Url($"v2/{repository}/tags/list?n={pageSize.ToString(CultureInfo.InvariantCulture)}");
        for (var page = 0; next is not null; page++)
        {
            if (page >= MaxTagPages)
            {
                throw new OciException(OciFailure.Error, $"the registry {Registry} returned more than {MaxTagPages} pages of tags for {repository}");
            }

            var url = next;
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), repository, push: false, retry: true, cancellationToken);
            await EnsureSuccessAsync(response, $"tags of {repository}", cancellationToken);
            var body = await ReadBoundedAsync(response, MaxManifestBytes, $"tags of {repository}", cancellationToken);
            tags.AddRange(ParseTagList(body, repository));

            next = NextPage(response);
        }

        return tags;
    }

    /// <summary>
    /// The referrers of <paramref name="digest"/>: the OCI 1.1 API, or the referrers tag schema (<c>sha256-HEX</c>)
    /// when the registry has no such API (404, 400, 406 or a body that is not an index).
    /// </summary>
    public async Task<IReadOnlyList<OciDescriptor>> GetReferrersAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        var url = Url($"v2/{repository}/referrers/{digest}");
        using (var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), repository, push: false, retry: true, cancellationToken))
        {
            if (response.IsSuccessStatusCode && response.Content.Headers.ContentType?.MediaType == MediaTypes.OciIndex)
            {
                var result = new List<OciDescriptor>();
                var body = await ReadBoundedAsync(response, MaxManifestBytes, $"referrers of {digest}", cancellationToken);
                result.AddRange(OciManifest.Parse(body, MediaTypes.OciIndex, $"referrers of {repository}@{digest}").Children);
                return result;
            }

            if (response.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.BadRequest or HttpStatusCode.NotAcceptable) && !response.IsSuccessStatusCode)
            {
                await EnsureSuccessAsync(response, $"referrers of {repository}@{digest}", cancellationToken);
            }
        }

        var fallback = await GetManifestAsync(repository, OciDigest.Tag(digest, string.Empty), cancellationToken);
        return fallback is { IsIndex: true } ? fallback.Children : [];
    }

    /// <summary>
    /// Records a referrer in the fallback tag when the registry did not process the subject itself: read the index
    /// (404 = empty), add the descriptor once, write it back.
    /// </summary>
    public async Task AddToReferrersFallbackAsync(string repository, string subjectDigest, OciDescriptor referrer, CancellationToken cancellationToken)
    {
        var tag = OciDigest.Tag(subjectDigest, string.Empty);
        var existing = await GetManifestAsync(repository, tag, cancellationToken);
        var manifests = existing is { IsIndex: true } ? existing.Children.ToList() : [];
        if (manifests.Any(d => d.Digest == referrer.Digest))
        {
            return;
        }

        manifests.Add(referrer);
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciIndex,
            ["manifests"] = new JsonArray([.. manifests.Select(static d => (JsonNode)d.ToJson())]),
        };
        await PutManifestAsync(repository, tag, Encoding.UTF8.GetBytes(index.ToJsonString()), MediaTypes.OciIndex, cancellationToken);
    }

    private static Uri? NextPage(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links))
        {
            return null;
        }

        foreach (var link in links)
        {
            var start = link.IndexOf('<', StringComparison.Ordinal);
            var end = link.IndexOf('>', StringComparison.Ordinal);
            if (start >= 0 && end > start && link.Contains("rel=\"next\"", StringComparison.Ordinal))
            {
                var target = link[(start + 1)..end];
                return new Uri(response.RequestMessage?.RequestUri ?? new Uri("http://invalid/"), target);
            }
        }

        return null;
    }

    // ---- transport, authentication, errors -------------------------------------------------------------------

    private Uri Url(string path) => new(BaseUri, path);

    private HttpRequestMessage ManifestRequest(HttpMethod method, string repository, string reference)
    {
        var request = new HttpRequestMessage(method, Url($"v2/{repository}/manifests/{reference}"));
        foreach (var type in MediaTypes.Manifests)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        return request;
    }

    private async Task<HttpResponseMessage> SendAsync(
        Func<HttpRequestMessage> create, string repository, bool push, bool retry, CancellationToken cancellationToken, string? extraScope = null)
    {
        var scope = $"repository:{repository}:{(push ? "pull,push" : "pull")}" + (extraScope is null ? string.Empty : " " + extraScope);
        for (var attempt = 0; ; attempt++)
        {
            var response = await SendOnceAsync(create, scope, retry, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Unauthorized || attempt > 0)
            {
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    var description = await ErrorDescriptionAsync(response, cancellationToken);
                    response.Dispose();
                    throw new OciException(
                        OciFailure.Error,
                        $"the registry {Registry} refused the {(_credential is null ? "anonymous " : string.Empty)}request for {repository} (401 unauthorized{description}); " +
                        "log in (~/.docker/config.json) or pass --registry-username/--registry-password",
                        "REGISTRY_UNAUTHORIZED");
                }

                return response;
            }

            var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
            response.Dispose();
            if (challenge is null)
            {
                throw new OciException(OciFailure.Error, $"the registry {Registry} answered 401 without a WWW-Authenticate challenge", "REGISTRY_UNAUTHORIZED");
            }

            if (challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
            {
                if (_credential is null)
                {
                    throw new OciException(
                        OciFailure.Error,
                        $"the registry {Registry} needs credentials for {repository}: log in (~/.docker/config.json) or pass --registry-username/--registry-password",
                        "REGISTRY_UNAUTHORIZED");
                }

                _basic = true;
            }
            else if (challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
            {
                _tokens[scope] = await FetchTokenAsync(challenge.Parameter ?? string.Empty, scope, cancellationToken);
            }
            else
            {
                throw new OciException(OciFailure.Error, $"the registry {Registry} asks for '{challenge.Scheme}' authentication, which is not supported", "REGISTRY_UNAUTHORIZED");
            }
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(Func<HttpRequestMessage> create, string scope, bool retry, CancellationToken cancellationToken)
    {
        try
        {
            var response = await SendWithRetriesAsync(create, scope, retry, cancellationToken);
            if (response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500)
            {
                var description = await ErrorDescriptionAsync(response, cancellationToken);
                var status = (int)response.StatusCode;
                response.Dispose();
                throw new OciException(
                    OciFailure.Error,
                    $"the registry {Registry} answered {status}{description}{(retry ? " (after 3 retries)" : string.Empty)}",
                    status == 429 ? "REGISTRY_TOOMANYREQUESTS" : "REGISTRY_UNAVAILABLE");
            }

            return response;
        }
        catch (HttpRequestException ex)
        {
            throw new OciException(OciFailure.Error, $"the registry {Registry} is unreachable at {BaseUri}: {ex.Message}", "REGISTRY_UNREACHABLE");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new OciException(OciFailure.Error, $"the registry {Registry} did not answer in time", "REGISTRY_UNREACHABLE");
        }
    }

    /// <summary>
    /// Sends a request made by <paramref name="create"/> (authorized for <paramref name="scope"/> unless null) and, when
    /// <paramref name="retry"/>, on 429, 500, 502, 503, 504 or a connection failure, sends again up to
    /// <see cref="MaxRetries"/> times: after the server's <c>Retry-After</c> when it asks for at most 10 s, else after an
    /// exponential, jittered backoff from the base delay (250 ms: about 0.25, 0.5, 1 s). The last answer is returned
    /// whatever it is, the last connection failure thrown. A plain loop in one method rather than a resilience library
    /// or a callback per try: a <c>tlog verify</c> is a short process, and building a pipeline (options validation,
    /// telemetry) or each further async method on this path (its state machine is JIT-compiled at run time) is start-up.
    /// </summary>
    private async Task<HttpResponseMessage> SendWithRetriesAsync(Func<HttpRequestMessage> create, string? scope, bool retry, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            HttpResponseMessage response;
            try
            {
                using var request = create();
                if (scope is not null)
                {
                    Authorize(request, scope);
                }

                Interlocked.Increment(ref _roundTrips);
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (HttpRequestException) when (retry && attempt < MaxRetries)
            {
                await Task.Delay(Backoff(attempt), cancellationToken);
                continue;
            }

            if (!retry || attempt >= MaxRetries || !(response.StatusCode == HttpStatusCode.TooManyRequests || (int)response.StatusCode is 500 or 502 or 503 or 504))
            {
                return response;
            }

            var wait = response.Headers.RetryAfter?.Delta is { } delta && delta >= TimeSpan.Zero && delta <= TimeSpan.FromSeconds(10) ? delta : Backoff(attempt);
            response.Dispose();
            await Task.Delay(wait, cancellationToken);
        }
    }

    /// <summary>The base delay doubled per retry, times a random factor between 0.5 and 1.5 so clients do not retry in step.</summary>
    private TimeSpan Backoff(int retry) =>
        TimeSpan.FromTicks((long)(_retryDelay.Ticks * Math.Pow(2, retry) * (0.5 + Random.Shared.NextDouble())));

    private void Authorize(HttpRequestMessage request, string scope)
    {
        // Only ever to the registry's own origin: redirects (blob storage) get no credentials.
        if (request.RequestUri is { } uri && !string.Equals(uri.Authority, BaseUri.Authority, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        if (_tokens.TryGetValue(scope, out var token))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        else if (_basic && _credential is not null)
        {
            request.Headers.Authorization = BasicHeader(_credential);
        }
    }

    private static AuthenticationHeaderValue BasicHeader(RegistryCredential credential) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Secret}")));

    /// <summary>The token flow (distribution auth/token.md): GET the realm with service and scopes, Basic credentials if any.</summary>
    private async Task<string> FetchTokenAsync(string parameters, string scope, CancellationToken cancellationToken)
    {
        var values = ParseChallenge(parameters);
        if (!values.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri))
        {
            throw new OciException(OciFailure.Error, $"the registry {Registry} sent a Bearer challenge without a valid realm", "REGISTRY_UNAUTHORIZED");
        }

        if (realmUri.Scheme != Uri.UriSchemeHttps && !(realmUri.Scheme == Uri.UriSchemeHttp && (IsLoopback(realmUri.Authority) || BaseUri.Scheme == Uri.UriSchemeHttp)))
        {
            throw new OciException(OciFailure.Error, $"the registry {Registry} sent a token realm that is not https ({realmUri.Scheme}); refusing to send credentials there", "REGISTRY_UNAUTHORIZED");
        }

        var query = new StringBuilder();
        if (values.TryGetValue("service", out var service))
        {
            query.Append("service=").Append(Uri.EscapeDataString(service));
        }

        foreach (var part in scope.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            query.Append(query.Length == 0 ? string.Empty : "&").Append("scope=").Append(Uri.EscapeDataString(part));
        }

        HttpRequestMessage Create()
        {
            if (_credential is { IsIdentityToken: true })
            {
                var form = new Dictionary<string, string>
                {
                    ["grant_type"] = "refresh_token",
                    ["refresh_token"] = _credential.Secret,
                    ["service"] = service ?? string.Empty,
                    ["scope"] = scope,
                    ["client_id"] = "tlog",
                };
                return new HttpRequestMessage(HttpMethod.Post, realmUri) { Content = new FormUrlEncodedContent(form) };
            }

            var request = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(realmUri) { Query = query.ToString() }.Uri);
            if (_credential is not null)
            {
                request.Headers.Authorization = BasicHeader(_credential);
            }

            return request;
        }

        using var response = await SendWithRetriesAsync(Create, scope: null, retry: true, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var description = await ErrorDescriptionAsync(response, cancellationToken);
            if (_credential is { Secret.Length: > 0 })
            {
                // Whatever the token service echoes, the secret sent to it (as such or in the Basic header) never
                // reaches a message.
                description = description
                    .Replace(BasicHeader(_credential).Parameter!, "***", StringComparison.Ordinal)
                    .Replace(_credential.Secret, "***", StringComparison.Ordinal);
            }

            var who = _credential is null ? "anonymous access" : $"the credentials of {_credential.Username}";
            throw response.StatusCode switch
            {
                HttpStatusCode.Forbidden => new OciException(
                    OciFailure.Error,
                    $"the token service of {Registry} denied {who} the scope {scope} (403 forbidden{description}): the account lacks that permission",
                    "REGISTRY_DENIED"),
                HttpStatusCode.Unauthorized => new OciException(
                    OciFailure.Error,
                    $"the token service of {Registry} rejected {who} for {scope} (401 unauthorized{description}); " +
                    "log in (~/.docker/config.json) or pass --registry-username/--registry-password",
                    "REGISTRY_UNAUTHORIZED"),
                _ => new OciException(
                    OciFailure.Error,
                    $"the token service of {Registry} answered {(int)response.StatusCode} for {scope}{description}",
                    "REGISTRY_UNAUTHORIZED"),
            };
        }

        var body = await ReadBoundedAsync(response, MaxErrorBytes, "the token response", cancellationToken);
        try
        {
            using var document = JsonInput.Parse(body);
            var token = StringMember(document.RootElement, "token") ?? StringMember(document.RootElement, "access_token");
            return token is { Length: > 0 } ? token : throw new JsonException();
        }
        catch (JsonException)
        {
            throw new OciException(OciFailure.Error, $"the token service of {Registry} returned no token", "REGISTRY_UNAUTHORIZED");
        }
    }

    private static Dictionary<string, string> ParseChallenge(string parameters)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (i < parameters.Length)
        {
            while (i < parameters.Length && (parameters[i] == ',' || char.IsWhiteSpace(parameters[i])))
            {
                i++;
            }

            var eq = parameters.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            var key = parameters[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < parameters.Length && parameters[i] == '"')
            {
                var close = parameters.IndexOf('"', i + 1);
                close = close < 0 ? parameters.Length : close;
                value = parameters[(i + 1)..close];
                i = close + 1;
            }
            else
            {
                var comma = parameters.IndexOf(',', i);
                comma = comma < 0 ? parameters.Length : comma;
                value = parameters[i..comma].Trim();
                i = comma;
            }

            values[key] = value;
        }

        return values;
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var status = (int)response.StatusCode;
        var (code, message) = await ErrorAsync(response, cancellationToken);
        var exitCode = response.StatusCode == HttpStatusCode.NotFound ? OciFailure.ImageNotFound : OciFailure.Error;
        var stable = response.StatusCode switch
        {
            HttpStatusCode.Forbidden => "REGISTRY_DENIED",
            HttpStatusCode.NotFound => "NOT_FOUND",
            _ => code ?? "REGISTRY_ERROR",
        };
        throw new OciException(exitCode, $"the registry {Registry} answered {status} for {what}{(message is null ? string.Empty : ": " + (code is null ? message : $"{code}: {message}"))}", stable);
    }

    private async Task<string> ErrorDescriptionAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var (code, message) = await ErrorAsync(response, cancellationToken);
        return message is null ? string.Empty : $": {(code is null ? message : $"{code}: {message}")}";
    }

    /// <summary>The first <c>{"errors":[{code, message}]}</c> entry of an error body, else a short text excerpt.</summary>
    private static async Task<(string? Code, string? Message)> ErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        byte[] body;
        try
        {
            body = await ReadBoundedAsync(response, MaxErrorBytes, "an error response", cancellationToken);
        }
        catch (OciException)
        {
            return (null, null);
        }

        try
        {
            using var document = JsonInput.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
            {
                var first = errors[0];
                var code = StringMember(first, "code");
                var message = StringMember(first, "message");
                return (code, Clip(message ?? code ?? "error"));
            }
        }
        catch (JsonException)
        {
        }

        var text = Encoding.UTF8.GetString(body).Trim();
        return (null, text.Length == 0 ? null : Clip(text));
    }

    /// <summary>
    /// The tags of one page of <c>GET /v2/NAME/tags/list</c>. A registry's body is untrusted input: anything but an
    /// object whose <c>tags</c> (when present) is an array of strings is refused as an <see cref="OciException"/>.
    /// </summary>
    private List<string> ParseTagList(byte[] body, string repository)
    {
        try
        {
            using var document = JsonInput.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException("not an object");
            }

            if (!root.TryGetProperty("tags", out var list) || list.ValueKind == JsonValueKind.Null)
            {
                return [];
            }

            return list.ValueKind == JsonValueKind.Array && list.EnumerateArray().All(static t => t.ValueKind == JsonValueKind.String)
                ? [.. list.EnumerateArray().Select(static t => t.GetString() ?? string.Empty)]
                : throw new JsonException("tags is not an array of strings");
        }
        catch (JsonException)
        {
            throw new OciException(OciFailure.Error, $"the registry {Registry} answered the tag list of {repository} with something other than {{\"tags\": [strings]}}", "TAGS_INVALID");
        }
    }

    /// <summary>The member <paramref name="name"/> of <paramref name="parent"/> when both are what they should be (an object, a string); else null.</summary>
    private static string? StringMember(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static string Clip(string text) => text.Length > 300 ? text[..300] + "…" : text;

    private async static Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, int maxBytes, string what, CancellationToken cancellationToken)
    {
        return await BoundedBody.ReadAsync(response.Content, maxBytes, cancellationToken)
            ?? throw new OciException(
                OciFailure.Error,
                response.Content.Headers.ContentLength is { } length
                    ? $"{what} is {length} bytes, above the {maxBytes}-byte limit"
                    : $"{what} is larger than the {maxBytes}-byte limit",
                "TOO_LARGE");
    }
}
