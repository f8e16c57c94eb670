using System.Net;
using System.Security.Cryptography;
using TransparencyLog.Sigstore.Http;

namespace TransparencyLog.Sigstore.Tuf;

/// <summary>The trusted state after a refresh: the final root and the targets it vouches for.</summary>
public sealed record TufTrustedState(TufRoot Root, TufMetadata Timestamp, TufMetadata Snapshot, TufMetadata Targets)
{
    public IReadOnlyDictionary<string, TufTargetFile> TargetFiles { get; } = TufDocuments.TargetFiles(Targets);
}

/// <summary>
/// The TUF client workflow (spec §5, as tuf-js runs it) against a mirror with consistent snapshots: root loop until
/// 404 (each new root signed by the old and the new threshold, version exactly N+1), then timestamp, snapshot and
/// targets, each checked for signatures, version against its referrer and its cached predecessor, and expiry at one
/// fixed reference time. Trusted metadata is cached in <c>cacheDirectory</c>, which must already hold the
/// trusted <c>root.json</c> (copied there by <c>tlog initialize</c>).
/// </summary>
public sealed class TufUpdater
{
    private const int MaxRootRotations = 256;
    private const long MaxTargetBytes = 32 * 1024 * 1024;
    private readonly HttpClient? _http;
    private readonly string _mirror;
    private readonly IReadOnlyDictionary<string, byte[]>? _files;
    private readonly string _cache;
    private readonly string _targetsPath;

    /// <param name="targetsPath">Where the target files live below the mirror (TUF's default <c>targets</c>).</param>
    public TufUpdater(HttpClient http, Uri mirror, string cacheDirectory, string targetsPath = DefaultTargetsPath)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        _http = http;
        _mirror = mirror.ToString().TrimEnd('/') + "/";
        _cache = cacheDirectory;
        _targetsPath = CheckTargetsPath(targetsPath);
    }

    /// <summary>
    /// A repository already at hand instead of a mirror (an air-gapped copy, e.g. policy-controller's serialized
    /// <c>TrustRoot</c> repository): <paramref name="files"/> by their path relative to the repository's root. It is
    /// checked exactly as a mirror is; a file it lacks is a 404.
    /// </summary>
    public TufUpdater(IReadOnlyDictionary<string, byte[]> files, string cacheDirectory, string targetsPath = DefaultTargetsPath)
    {
        ArgumentNullException.ThrowIfNull(files);
        _files = files;
        _mirror = "serialized-repository:/";
        _cache = cacheDirectory;
        _targetsPath = CheckTargetsPath(targetsPath);
    }

    public const string DefaultTargetsPath = "targets";

    /// <summary>Whether <paramref name="path"/> is a relative path below the repository root (no <c>..</c>, no empty segment).</summary>
    public static bool IsTargetsPath(string path) =>
        path.Length is > 0 and <= 255
        && path.All(static c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/')
        && path.Split('/').All(static segment => segment.Length > 0 && segment is not ("." or ".."));

    private static string CheckTargetsPath(string path) =>
        IsTargetsPath(path) ? path : throw new ArgumentException($"'{path}' is not a relative path below the repository", nameof(path));

    /// <summary>Copies a trusted initial root into an empty cache (forgetting everything cached before).</summary>
    /// <exception cref="TufException">The root is not well-formed or not signed to its own threshold.</exception>
    public static void Bootstrap(string cacheDirectory, byte[] rootBytes)
    {
        var metadata = TufMetadata.Parse(rootBytes, TufMetadata.Root);
        TufRoot.From(metadata).VerifyRole(TufMetadata.Root, metadata, "the initial root");
        if (Directory.Exists(cacheDirectory))
        {
            Directory.Delete(cacheDirectory, recursive: true);
        }

        Directory.CreateDirectory(cacheDirectory);
        WriteAtomically(Path.Combine(cacheDirectory, "root.json"), rootBytes);
    }

    /// <exception cref="TufException">The mirror's metadata is refused; <see cref="TufException.Error"/> says which attack check failed.</exception>
    /// <exception cref="HttpRequestException">The mirror cannot be reached.</exception>
    public async Task<TufTrustedState> RefreshAsync(DateTimeOffset referenceTime, CancellationToken cancellationToken = default)
    {
        var rootPath = Path.Combine(_cache, "root.json");
        if (!File.Exists(rootPath))
        {
            throw new TufException(TufError.NotFound, "no trusted root is cached: run tlog initialize first");
        }

        var rootMetadata = TufMetadata.Parse(await File.ReadAllBytesAsync(rootPath, cancellationToken), TufMetadata.Root);
        var root = TufRoot.From(rootMetadata);
        root.VerifyRole(TufMetadata.Root, rootMetadata, "the cached root");
        root = await UpdateRootAsync(root, cancellationToken);
        if (root.Metadata.Expires < referenceTime)
        {
            throw new TufException(TufError.Expired, $"root v{root.Version} expired at {TufMetadata.FormatExpires(root.Metadata.Expires)}");
        }

        var timestamp = await UpdateTimestampAsync(root, referenceTime, cancellationToken);
        var snapshot = await UpdateSnapshotAsync(root, timestamp, referenceTime, cancellationToken);
        var targets = await UpdateTargetsAsync(root, snapshot, referenceTime, cancellationToken);
        return new TufTrustedState(root, timestamp, snapshot, targets);
    }

    /// <summary>A target's bytes, from the cache when its hash still matches, else from the mirror (length and hash checked).</summary>
    public async Task<byte[]> GetTargetAsync(TufTrustedState state, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!state.TargetFiles.TryGetValue(name, out var file))
        {
            throw new TufException(TufError.NotFound, $"the repository has no target {name}");
        }

        var cached = Path.Combine(_cache, "targets", name);
        if (File.Exists(cached) && Matches(await File.ReadAllBytesAsync(cached, cancellationToken), file))
        {
            return await File.ReadAllBytesAsync(cached, cancellationToken);
        }

        var bytes = await DownloadAsync($"{_targetsPath}/{file.Sha256}.{name}", Math.Min(file.Length, MaxTargetBytes), cancellationToken)
            ?? throw new TufException(TufError.NotFound, $"the mirror does not serve target {name}");
        if (!Matches(bytes, file))
        {
            throw new TufException(TufError.HashMismatch, $"target {name} does not match its length and sha256 in targets v{state.Targets.Version}");
        }

        Directory.CreateDirectory(Path.Combine(_cache, "targets"));
        WriteAtomically(cached, bytes);
        return bytes;
    }

    private static bool Matches(byte[] bytes, TufTargetFile file) =>
        bytes.Length == file.Length && Convert.ToHexStringLower(SHA256.HashData(bytes)) == file.Sha256;

    private async Task<TufRoot> UpdateRootAsync(TufRoot root, CancellationToken cancellationToken)
    {
        var start = root.Version;
        for (var next = start + 1; next <= start + MaxRootRotations; next++)
        {
            var bytes = await DownloadAsync($"{next}.root.json", TufMetadata.MaxBytes(TufMetadata.Root), cancellationToken);
            if (bytes is null)
            {
                break;
            }

            var metadata = TufMetadata.Parse(bytes, TufMetadata.Root);
            // Old threshold first: a root the trusted keys did not approve is never even parsed as trusted.
            root.VerifyRole(TufMetadata.Root, metadata, $"root v{next} against root v{root.Version}");
            if (metadata.Version != next)
            {
                throw new TufException(TufError.BadVersion, $"{next}.root.json holds version {metadata.Version}");
            }

            var newRoot = TufRoot.From(metadata);
            newRoot.VerifyRole(TufMetadata.Root, metadata, $"root v{next}");
            if (!SameKeys(root, newRoot, TufMetadata.Timestamp) || !SameKeys(root, newRoot, TufMetadata.Snapshot))
            {
                // Fast-forward recovery (TUF 5.3.11): a rotated online key invalidates what it signed.
                File.Delete(Path.Combine(_cache, "timestamp.json"));
                File.Delete(Path.Combine(_cache, "snapshot.json"));
            }

            WriteAtomically(Path.Combine(_cache, "root.json"), bytes);
            root = newRoot;
        }

        return root;
    }

    private static bool SameKeys(TufRoot a, TufRoot b, string role) =>
        a.Roles[role].KeyIds.Order(StringComparer.Ordinal).SequenceEqual(b.Roles[role].KeyIds.Order(StringComparer.Ordinal));

    private async Task<TufMetadata> UpdateTimestampAsync(TufRoot root, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var bytes = await DownloadAsync("timestamp.json", TufMetadata.MaxBytes(TufMetadata.Timestamp), cancellationToken)
            ?? throw new TufException(TufError.NotFound, "the mirror serves no timestamp.json");
        var timestamp = TufMetadata.Parse(bytes, TufMetadata.Timestamp);
        root.VerifyRole(TufMetadata.Timestamp, timestamp, $"timestamp v{timestamp.Version}");
        var snapshotVersion = TufDocuments.MetaEntry(timestamp, "snapshot.json").Version;
        if (await CachedAsync(TufMetadata.Timestamp, root, cancellationToken) is { } cached)
        {
            if (timestamp.Version < cached.Version)
            {
                throw new TufException(TufError.BadVersion, $"timestamp v{timestamp.Version} is older than the trusted v{cached.Version}");
            }

            if (snapshotVersion < TufDocuments.MetaEntry(cached, "snapshot.json").Version)
            {
                throw new TufException(TufError.BadVersion, $"timestamp v{timestamp.Version} lists snapshot v{snapshotVersion}, older than the trusted one");
            }
        }

        if (timestamp.Expires < now)
        {
            throw new TufException(TufError.Expired, $"timestamp v{timestamp.Version} expired at {TufMetadata.FormatExpires(timestamp.Expires)}");
        }

        WriteAtomically(Path.Combine(_cache, "timestamp.json"), bytes);
        return timestamp;
    }

    private Task<TufMetadata> UpdateSnapshotAsync(TufRoot root, TufMetadata timestamp, DateTimeOffset now, CancellationToken cancellationToken) =>
        FetchListedRoleAsync(root, timestamp, TufMetadata.Timestamp, TufMetadata.Snapshot, now, async snapshot =>
        {
            if (await CachedAsync(TufMetadata.Snapshot, root, cancellationToken) is { } cached
                && TufDocuments.MetaEntry(snapshot, "targets.json").Version < TufDocuments.MetaEntry(cached, "targets.json").Version)
            {
                throw new TufException(TufError.BadVersion, $"snapshot v{snapshot.Version} lowers the targets version below the trusted snapshot's");
            }
        }, cancellationToken);

    private Task<TufMetadata> UpdateTargetsAsync(TufRoot root, TufMetadata snapshot, DateTimeOffset now, CancellationToken cancellationToken) =>
        FetchListedRoleAsync(root, snapshot, TufMetadata.Snapshot, TufMetadata.Targets, now, static _ => Task.CompletedTask, cancellationToken);

    /// <summary>
    /// A role its referrer lists (the timestamp lists the snapshot, the snapshot the targets): downloaded at the listed
    /// version within the listed length, checked against the listed hash, signed by the root's threshold, exactly that
    /// version, then <paramref name="checkRollback"/>, then not expired; only then cached.
    /// </summary>
    private async Task<TufMetadata> FetchListedRoleAsync(
        TufRoot root, TufMetadata referrer, string referrerRole, string role, DateTimeOffset now, Func<TufMetadata, Task> checkRollback, CancellationToken cancellationToken)
    {
        var file = role + ".json";
        var (version, length, sha256) = TufDocuments.MetaEntry(referrer, file);
        var bytes = await DownloadAsync($"{version}.{file}", length ?? TufMetadata.MaxBytes(role), cancellationToken)
            ?? throw new TufException(TufError.NotFound, $"the mirror does not serve {version}.{file}");
        CheckHash(bytes, length, sha256, file);
        var metadata = TufMetadata.Parse(bytes, role);
        root.VerifyRole(role, metadata, $"{role} v{metadata.Version}");
        if (metadata.Version != version)
        {
            throw new TufException(TufError.BadVersion, $"{role} v{metadata.Version} is not the v{version} the {referrerRole} lists");
        }

        await checkRollback(metadata);
        if (metadata.Expires < now)
        {
            throw new TufException(TufError.Expired, $"{role} v{metadata.Version} expired at {TufMetadata.FormatExpires(metadata.Expires)}");
        }

        WriteAtomically(Path.Combine(_cache, file), bytes);
        return metadata;
    }

    private static void CheckHash(byte[] bytes, long? length, string? sha256, string what)
    {
        if ((length is { } l && bytes.Length != l) || (sha256 is not null && Convert.ToHexStringLower(SHA256.HashData(bytes)) != sha256.ToLowerInvariant()))
        {
            throw new TufException(TufError.HashMismatch, $"{what} does not match the length or hash its referrer lists");
        }
    }

    /// <summary>The cached metadata of a role if it still verifies under <paramref name="root"/>; else nothing is trusted from it.</summary>
    private async Task<TufMetadata?> CachedAsync(string role, TufRoot root, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_cache, role + ".json");
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var metadata = TufMetadata.Parse(await File.ReadAllBytesAsync(path, cancellationToken), role);
            return root.CountValidSignatures(role, metadata) >= root.Roles[role].Threshold ? metadata : null;
        }
        catch (TufException)
        {
            return null;
        }
    }

    /// <summary>GET with a byte cap; null on 404 (or 403, as tuf-js treats it), an error on anything else.</summary>
    private async Task<byte[]?> DownloadAsync(string relative, long maxBytes, CancellationToken cancellationToken)
    {
        if (_files is not null)
        {
            // A serialized repository: what it lacks is what a mirror would answer 404 for.
            if (!_files.TryGetValue(relative, out var held))
            {
                return null;
            }

            return held.Length > maxBytes ? throw new TufException(TufError.HashMismatch, $"{relative} is longer than its {maxBytes}-byte limit") : held;
        }

        var http = _http ?? throw new InvalidOperationException("an updater has either a mirror or a serialized repository");
        using var response = await http.GetAsync(new Uri(_mirror + relative), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden)
        {
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{relative}: the mirror answered {(int)response.StatusCode}", null, response.StatusCode);
        }

        return await BoundedBody.ReadAsync(response.Content, maxBytes, cancellationToken)
            ?? throw new TufException(TufError.HashMismatch, $"{relative} is longer than its {maxBytes}-byte limit");
    }

    private static void WriteAtomically(string path, byte[] bytes)
    {
        var temporary = path + $".{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, path, overwrite: true);
    }
}
