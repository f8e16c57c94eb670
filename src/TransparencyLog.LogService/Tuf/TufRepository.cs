using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Tuf;

namespace TransparencyLog.LogService.Tuf;

/// <summary>What a key holder publishes: a new root and/or new targets (signed offline) and the target files they list.</summary>
internal sealed record TufPublishRequest(byte[]? Root, byte[]? Targets, IReadOnlyDictionary<string, byte[]> Files);

/// <summary>The versions served after a publish.</summary>
internal sealed record TufPublishResult(long Root, long Targets, long Snapshot, long Timestamp);

/// <summary>
/// The TUF repository in PostgreSQL. Offline roles (root, targets) arrive signed through <see cref="PublishAsync"/>
/// and are validated as a client would check them, and more; the service signs the online roles (snapshot,
/// timestamp) with its own key. Every write runs in one transaction under one advisory lock, so replicas never
/// mint two different files for one version, and a publish is visible all at once or not at all.
/// </summary>
internal sealed partial class TufRepository(
    IDbContextFactory<TufDbContext> contexts,
    TufOnlineKey onlineKey,
    IOptions<TufOptions> options,
    TimeProvider time,
    ILogger<TufRepository> logger)
{
    /// <summary>The advisory lock key of TUF writers ("tuf" in ASCII); distinct from every other lock of the service.</summary>
    private const long WriterLock = 0x747566;

    private TufOptions Options => options.Value;

    public async Task<TufMetadataRow?> GetMetadataAsync(string role, long? version, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var query = db.Metadata.AsNoTracking().Where(m => m.Role == role);
        return version is { } v
            ? await query.FirstOrDefaultAsync(m => m.Version == v, cancellationToken)
            : await query.OrderByDescending(static m => m.Version).FirstOrDefaultAsync(cancellationToken);
    }

    public async Task<TufTargetRow?> GetTargetAsync(byte[] sha256, string name, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await db.Targets.AsNoTracking().FirstOrDefaultAsync(t => t.Sha256 == sha256 && t.Name == name, cancellationToken);
    }

    /// <summary>Validates and publishes a new version; on any refusal nothing is written.</summary>
    /// <exception cref="TufException">The new version is refused; the message says why.</exception>
    public async Task<TufPublishResult> PublishAsync(TufPublishRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({WriterLock})", cancellationToken);

        var now = time.GetUtcNow();
        var state = await LoadStateAsync(db, cancellationToken);
        if (request.Root is null && request.Targets is null)
        {
            throw new TufException(TufError.BadFormat, "nothing to publish: send a new root, new targets, or both");
        }

        var root = state.Root;
        TufMetadata? newRoot = null;
        if (request.Root is not null)
        {
            newRoot = TufMetadata.Parse(request.Root, TufMetadata.Root);
            var parsed = TufRoot.From(newRoot);
            var expected = (root?.Version ?? 0) + 1;
            if (newRoot.Version != expected)
            {
                throw new TufException(TufError.BadVersion, $"root version {newRoot.Version} must be {expected}");
            }

            // A new root needs the old root's threshold and its own (TUF 5.3.4): key holders of both agree.
            root?.VerifyRole(TufMetadata.Root, newRoot, $"root v{newRoot.Version} against root v{root.Version}");
            parsed.VerifyRole(TufMetadata.Root, newRoot, $"root v{newRoot.Version}");
            RequireValidity(newRoot, now, "root");
            RequireOnlineKey(parsed);
            root = parsed;
        }

        if (root is null)
        {
            throw new TufException(TufError.NotFound, "the repository is empty: the first publish needs root version 1");
        }

        TufMetadata targets;
        Dictionary<string, TufTargetFile> files;
        if (request.Targets is not null)
        {
            targets = TufMetadata.Parse(request.Targets, TufMetadata.Targets);
            var expected = (state.Targets?.Version ?? 0) + 1;
            if (targets.Version != expected)
            {
                throw new TufException(TufError.BadVersion, $"targets version {targets.Version} must be {expected}");
            }

            root.VerifyRole(TufMetadata.Targets, targets, $"targets v{targets.Version}");
            RequireValidity(targets, now, "targets");
            files = TufDocuments.TargetFiles(targets);
        }
        else
        {
            targets = state.Targets ?? throw new TufException(TufError.NotFound, "the repository has no targets yet: publish targets version 1 with the root");
            // New targets keys in the root make the served targets unverifiable unless they are re-signed.
            root.VerifyRole(TufMetadata.Targets, targets, $"the current targets v{targets.Version} under root v{root.Version}");
            files = TufDocuments.TargetFiles(targets);
            if (request.Files.Count > 0)
            {
                throw new TufException(TufError.BadTarget, "target files were sent without new targets metadata listing them");
            }
        }

        var newTargets = await ValidateTargetFilesAsync(db, request, files, state.Targets, now, cancellationToken);

        foreach (var (name, (sha, bytes)) in newTargets)
        {
            db.Targets.Add(new TufTargetRow { Sha256 = sha, Name = name, Length = bytes.Length, Bytes = bytes });
        }

        if (newRoot is not null)
        {
            db.Metadata.Add(Row(newRoot, request.Root!, now));
        }

        if (request.Targets is not null)
        {
            db.Metadata.Add(Row(targets, request.Targets, now));
        }

        // Snapshot and timestamp last, in the same transaction: the new version is visible only when complete.
        var snapshotVersion = (state.Snapshot?.Version ?? 0) + 1;
        var snapshot = TufDocuments.BuildSnapshot(snapshotVersion, now.AddDays(Options.SnapshotExpiryDays), targets.Version);
        var timestamp = TufDocuments.BuildTimestamp((state.Timestamp?.Version ?? 0) + 1, now.AddDays(Options.TimestampExpiryDays), snapshotVersion);
        await AddOnlineAsync(db, snapshot, now, cancellationToken);
        await AddOnlineAsync(db, timestamp, now, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Log.Published(logger, root.Version, targets.Version, snapshotVersion, timestamp.Version);
        return new TufPublishResult(root.Version, targets.Version, snapshotVersion, timestamp.Version);
    }

    /// <summary>
    /// Re-signs the snapshot (when close to expiry) and the timestamp (when close to expiry or after a new snapshot).
    /// Safe with several replicas: the advisory lock serializes them, and each re-reads the latest versions under it.
    /// </summary>
    /// <returns>Whether a new timestamp was published.</returns>
    public async Task<bool> RefreshOnlineRolesAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({WriterLock})", cancellationToken);
        var now = time.GetUtcNow();
        var state = await LoadStateAsync(db, cancellationToken);
        if (state.Root is null || state.Snapshot is null || state.Timestamp is null)
        {
            return false;
        }

        RequireOnlineKey(state.Root);
        var snapshotVersion = state.Snapshot.Version;
        if (state.Snapshot.Expires - now < TimeSpan.FromSeconds(Options.SnapshotResignBeforeSeconds))
        {
            var targetsVersion = TufDocuments.MetaEntry(state.Snapshot, "targets.json").Version;
            snapshotVersion++;
            await AddOnlineAsync(db, TufDocuments.BuildSnapshot(snapshotVersion, now.AddDays(Options.SnapshotExpiryDays), targetsVersion), now, cancellationToken);
        }
        else if (state.Timestamp.Expires - now >= TimeSpan.FromSeconds(Options.TimestampResignBeforeSeconds))
        {
            return false;
        }

        var timestamp = TufDocuments.BuildTimestamp(state.Timestamp.Version + 1, now.AddDays(Options.TimestampExpiryDays), snapshotVersion);
        await AddOnlineAsync(db, timestamp, now, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Log.TimestampResigned(logger, timestamp.Version, snapshotVersion, timestamp.Expires);
        return true;
    }

    private sealed record State(TufRoot? Root, TufMetadata? Targets, TufMetadata? Snapshot, TufMetadata? Timestamp);

    private static async Task<State> LoadStateAsync(TufDbContext db, CancellationToken cancellationToken)
    {
        async Task<TufMetadata?> Latest(string role)
        {
            var row = await db.Metadata.AsNoTracking().Where(m => m.Role == role).OrderByDescending(static m => m.Version).FirstOrDefaultAsync(cancellationToken);
            return row is null ? null : TufMetadata.Parse(row.Bytes, role);
        }

        var root = await Latest(TufMetadata.Root);
        return new State(
            root is null ? null : TufRoot.From(root),
            await Latest(TufMetadata.Targets),
            await Latest(TufMetadata.Snapshot),
            await Latest(TufMetadata.Timestamp));
    }

    private void RequireValidity(TufMetadata metadata, DateTimeOffset now, string role)
    {
        var minimum = now.AddDays(Options.MinimumOfflineValidityDays);
        if (metadata.Expires <= minimum)
        {
            throw new TufException(TufError.Expired, $"{role} v{metadata.Version} expires {TufMetadata.FormatExpires(metadata.Expires)}, before {TufMetadata.FormatExpires(minimum)} ({Options.MinimumOfflineValidityDays} days from now)");
        }
    }

    private void RequireOnlineKey(TufRoot root)
    {
        var keyId = onlineKey.Key.KeyId;
        foreach (var role in new[] { TufMetadata.Snapshot, TufMetadata.Timestamp })
        {
            if (!root.Roles[role].KeyIds.Contains(keyId) || root.Roles[role].Threshold != 1)
            {
                throw new TufException(TufError.Unsigned, $"root v{root.Version}: the {role} role must list this service's online key {keyId} with threshold 1");
            }
        }
    }

    /// <summary>Every listed target is either stored already or sent, with the listed length and hash; nothing unlisted is sent.</summary>
    private async Task<Dictionary<string, (byte[] Sha, byte[] Bytes)>> ValidateTargetFilesAsync(
        TufDbContext db, TufPublishRequest request, Dictionary<string, TufTargetFile> files, TufMetadata? previousTargets, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var name in request.Files.Keys)
        {
            if (!files.ContainsKey(name))
            {
                throw new TufException(TufError.BadTarget, $"file {name} is not listed in the targets metadata");
            }
        }

        var previous = previousTargets is null ? [] : TufDocuments.TargetFiles(previousTargets);
        var added = new Dictionary<string, (byte[], byte[])>(StringComparer.Ordinal);
        var current = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (name, file) in files)
        {
            if (!IsValidTargetName(name))
            {
                throw new TufException(TufError.BadTarget, $"target name {name} is not a plain file name");
            }

            var sha = Convert.FromHexString(file.Sha256);
            byte[] bytes;
            if (request.Files.TryGetValue(name, out var sent))
            {
                bytes = sent;
                if (bytes.Length != file.Length || !SHA256.HashData(bytes).AsSpan().SequenceEqual(sha))
                {
                    throw new TufException(TufError.HashMismatch, $"file {name} does not match the length and sha256 the targets metadata lists");
                }

                if (!await db.Targets.AnyAsync(t => t.Sha256 == sha && t.Name == name, cancellationToken))
                {
                    added[name] = (sha, bytes);
                }
            }
            else
            {
                var stored = await db.Targets.AsNoTracking().FirstOrDefaultAsync(t => t.Sha256 == sha && t.Name == name, cancellationToken)
                    ?? throw new TufException(TufError.BadTarget, $"target {name} is listed but its file was neither sent nor published before");
                if (stored.Length != file.Length)
                {
                    throw new TufException(TufError.HashMismatch, $"target {name} lists length {file.Length}, the stored file has {stored.Length}");
                }

                bytes = stored.Bytes;
            }

            current[name] = bytes;
            if (previous.TryGetValue(name, out var old) && old.Sha256 == file.Sha256)
            {
                continue;
            }

            ValidateSigstoreTarget(name, bytes, previous.TryGetValue(name, out var was) ? await StoredBytesAsync(db, name, was, cancellationToken) : null, now);
        }

        // R1 spans two files: a log new in the signing config must be in the trusted root this version serves.
        if (current.TryGetValue(SigningConfigTarget, out var config) && current.TryGetValue(TrustedRootTarget, out var trustedRoot)
            && !(previous.TryGetValue(SigningConfigTarget, out var before) && before.Sha256 == files[SigningConfigTarget].Sha256))
        {
            var known = before is null ? [] : await StoredBytesAsync(db, SigningConfigTarget, before, cancellationToken) is { } oldConfig
                ? KnownServices(ParseSigningConfig(oldConfig, SigningConfigTarget))
                : [];
            TrustOrderRules.RequireNewLogsTrusted(ParseSigningConfig(config, SigningConfigTarget), ParseTrustedRoot(trustedRoot, TrustedRootTarget), known);
        }

        return added;
    }

    private static async Task<byte[]?> StoredBytesAsync(TufDbContext db, string name, TufTargetFile file, CancellationToken cancellationToken)
    {
        var sha = Convert.FromHexString(file.Sha256);
        return (await db.Targets.AsNoTracking().FirstOrDefaultAsync(t => t.Sha256 == sha && t.Name == name, cancellationToken))?.Bytes;
    }

    private const string TrustedRootTarget = "trusted_root.json";
    private const string SigningConfigTarget = "signing_config.v0.2.json";

    private static HashSet<(string Url, int Version)> KnownServices(SigningConfig config) =>
        Services(config).Select(static s => (s.Url, s.MajorApiVersion)).ToHashSet();

    /// <summary>Sigstore's rules for the two targets clients read (docs/trust-root.md, "Publish validation").</summary>
    private void ValidateSigstoreTarget(string name, byte[] bytes, byte[]? previous, DateTimeOffset now)
    {
        if (name == TrustedRootTarget)
        {
            var root = ParseTrustedRoot(bytes, name);
            if (root.MediaType != TrustedRoot.MediaTypeV01)
            {
                throw new TufException(TufError.BadTarget, $"trusted_root.json must use the media type {TrustedRoot.MediaTypeV01} (cosign and sigstore-go accept no other)");
            }

            foreach (var log in root.Tlogs.Concat(root.Ctlogs))
            {
                if (log.PublicKey.ValidFor.Start is null || log.HashAlgorithm != "SHA2_256")
                {
                    throw new TufException(TufError.BadTarget, $"trusted_root.json: log {log.BaseUrl} needs validFor.start and hashAlgorithm SHA2_256");
                }
            }

            TrustOrderRules.RequireTrustedRootOrder(root);

            if (previous is not null)
            {
                var old = ParseTrustedRoot(previous, name);
                // Close, never delete: bundles signed under a dropped key would stop verifying.
                foreach (var log in old.Tlogs.Concat(old.Ctlogs))
                {
                    if (!root.Tlogs.Concat(root.Ctlogs).Any(l => l.LogId.AsSpan().SequenceEqual(log.LogId)))
                    {
                        throw new TufException(TufError.BadTarget, $"trusted_root.json drops the log {Convert.ToHexStringLower(log.LogId)}; end its validFor instead");
                    }
                }

                foreach (var authority in old.CertificateAuthorities.Concat(old.TimestampAuthorities))
                {
                    if (!root.CertificateAuthorities.Concat(root.TimestampAuthorities).Any(a => a.CertChain.Count > 0 && authority.CertChain.Count > 0 && a.CertChain[^1].AsSpan().SequenceEqual(authority.CertChain[^1])))
                    {
                        throw new TufException(TufError.BadTarget, $"trusted_root.json drops the authority {authority.Uri}; end its validFor instead");
                    }
                }
            }
        }
        else if (name == SigningConfigTarget)
        {
            var config = ParseSigningConfig(bytes, name);
            TrustOrderRules.RequireSigningConfigOrder(config);
            TrustOrderRules.RequireReplacedServicesClosed(config, previous is null ? [] : KnownServices(ParseSigningConfig(previous, name)));
            if (previous is not null)
            {
                // R2: a new service must not be chosen before every client can have seen it (timestamp expiry + margin).
                var known = KnownServices(ParseSigningConfig(previous, name));
                var earliest = now.AddSeconds(Options.SigningConfigLeadSeconds);
                foreach (var service in Services(config).Where(s => !known.Contains((s.Url, s.MajorApiVersion))))
                {
                    if (service.ValidFor.Start is not { } start || start < earliest)
                    {
                        throw new TufException(TufError.BadTarget, $"signing_config.v0.2.json: the new service {service.Url} (API v{service.MajorApiVersion}) must start no earlier than {TufMetadata.FormatExpires(earliest)}");
                    }
                }
            }
        }
    }

    private static IEnumerable<ServiceEndpoint> Services(SigningConfig config) =>
        config.CaUrls.Concat(config.OidcUrls).Concat(config.RekorTlogUrls).Concat(config.TsaUrls);

    private static TrustedRoot ParseTrustedRoot(byte[] bytes, string name)
    {
        try
        {
            return TrustedRoot.Parse(Encoding.UTF8.GetString(bytes));
        }
        catch (BundleFormatException ex)
        {
            throw new TufException(TufError.BadTarget, $"{name} is not a trusted root: {ex.Message}");
        }
    }

    private static SigningConfig ParseSigningConfig(byte[] bytes, string name)
    {
        try
        {
            return SigningConfig.Parse(Encoding.UTF8.GetString(bytes));
        }
        catch (BundleFormatException ex)
        {
            throw new TufException(TufError.BadTarget, $"{name} is not a v0.2 signing config: {ex.Message}");
        }
    }

    /// <summary>Plain names only (Sigstore's targets are flat): no directories, no dot files, ASCII.</summary>
    public static bool IsValidTargetName(string name) =>
        name.Length is > 0 and <= 255 && name[0] != '.' && name.All(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private async ValueTask AddOnlineAsync(TufDbContext db, TufMetadata metadata, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await metadata.SignAsync(onlineKey.Signer, cancellationToken);
        db.Metadata.Add(Row(metadata, metadata.ToBytes(), now));
    }

    private static TufMetadataRow Row(TufMetadata metadata, byte[] bytes, DateTimeOffset now) => new()
    {
        Role = metadata.Type,
        Version = metadata.Version,
        Bytes = bytes,
        Sha256 = SHA256.HashData(bytes),
        Expires = metadata.Expires,
        PublishedAt = now,
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "TUF repository published: root v{Root}, targets v{Targets}, snapshot v{Snapshot}, timestamp v{Timestamp}")]
        public static partial void Published(ILogger logger, long root, long targets, long snapshot, long timestamp);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "TUF timestamp v{Timestamp} signed (snapshot v{Snapshot}), expires {Expires}")]
        public static partial void TimestampResigned(ILogger logger, long timestamp, long snapshot, DateTimeOffset expires);
    }
}

/// <summary>The service's online key (snapshot and timestamp roles), loaded once.</summary>
internal sealed class TufOnlineKey : IDisposable
{
    public TufOnlineKey(IOptions<TufOptions> options)
    {
        var value = options.Value;
        if (string.IsNullOrEmpty(value.OnlineKeyPath))
        {
            throw new InvalidOperationException("Tuf:OnlineKeyPath is required when Tuf:Enabled is true");
        }

        Signer = Load(value);
        Key = TufKey.FromPublicKey(Signer.PublicKey);
    }

    /// <summary>A PEM file (encrypted allowed), or a <c>pkcs11:</c> URI naming the key in a token (its PIN never logged).</summary>
    private static LogSigner Load(TufOptions options)
    {
        var path = options.OnlineKeyPath!;
        if (Sigstore.Keys.Pkcs11.Pkcs11Uri.IsPkcs11(path))
        {
            try
            {
                return LogSigner.FromSigner(Sigstore.Keys.Pkcs11.Pkcs11Signer.Open(path));
            }
            catch (KeyLoadException e)
            {
                // The message names token and object, never the PIN.
                throw new InvalidOperationException($"cannot load the TUF online key: {e.Message}", e);
            }
        }

        var password = string.IsNullOrEmpty(options.OnlineKeyPasswordFile) ? null : File.ReadAllText(options.OnlineKeyPasswordFile).TrimEnd('\r', '\n');
        return LogSigner.LoadPem(File.ReadAllText(path), password);
    }

    public LogSigner Signer { get; }

    public TufKey Key { get; }

    public void Dispose() => Signer.Dispose();
}
