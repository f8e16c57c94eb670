using System.Text.Json.Nodes;

namespace TransparencyLog.Sigstore.Tuf;

/// <summary>A role's keys and threshold, as the root lists them.</summary>
public sealed record TufRole(IReadOnlyList<string> KeyIds, int Threshold);

/// <summary>The root role's content: keys, the four roles, consistent snapshots.</summary>
public sealed class TufRoot
{
    public static readonly string[] RoleNames = [TufMetadata.Root, TufMetadata.Targets, TufMetadata.Snapshot, TufMetadata.Timestamp];

    private TufRoot(TufMetadata metadata, Dictionary<string, TufKey> keys, Dictionary<string, TufRole> roles)
    {
        Metadata = metadata;
        Keys = keys;
        Roles = roles;
    }

    public TufMetadata Metadata { get; }

    public IReadOnlyDictionary<string, TufKey> Keys { get; }

    public IReadOnlyDictionary<string, TufRole> Roles { get; }

    public long Version => Metadata.Version;

    /// <exception cref="TufException">Not a well-formed root.</exception>
    public static TufRoot From(TufMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (metadata.Type != TufMetadata.Root)
        {
            throw new TufException(TufError.BadFormat, "not root metadata");
        }

        var signed = metadata.Signed;
        // tuf-js requires the boolean; go-tuf always emits it.
        if (signed["consistent_snapshot"] is not JsonValue consistent || !consistent.TryGetValue<bool>(out _))
        {
            throw new TufException(TufError.BadFormat, "root needs a boolean consistent_snapshot");
        }

        if (signed["keys"] is not JsonObject keysNode || signed["roles"] is not JsonObject rolesNode)
        {
            throw new TufException(TufError.BadFormat, "root needs 'keys' and 'roles' objects");
        }

        var keys = new Dictionary<string, TufKey>(StringComparer.Ordinal);
        foreach (var (id, node) in keysNode)
        {
            keys[id] = TufKey.FromJson(node);
        }

        var roles = new Dictionary<string, TufRole>(StringComparer.Ordinal);
        foreach (var name in RoleNames)
        {
            if (rolesNode[name] is not JsonObject role || role["keyids"] is not JsonArray ids)
            {
                throw new TufException(TufError.BadFormat, $"root lacks the {name} role");
            }

            var keyIds = ids.Select(static i => i is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new TufException(TufError.BadFormat, "keyids are strings")).ToList();
            if (keyIds.Distinct(StringComparer.Ordinal).Count() != keyIds.Count)
            {
                throw new TufException(TufError.BadFormat, $"role {name} lists a keyid twice");
            }

            var threshold = TufMetadata.RequiredInteger(role, "threshold");
            if (threshold < 1 || threshold > 255)
            {
                throw new TufException(TufError.BadFormat, $"role {name} needs a threshold of at least 1");
            }

            roles[name] = new TufRole(keyIds, (int)threshold);
        }

        return new TufRoot(metadata, keys, roles);
    }

    /// <summary>
    /// How many distinct keys of <paramref name="role"/> validly signed <paramref name="metadata"/>. A key counts once
    /// however often it signs: a keyid repeated in the signatures is refused when parsing, and one public key that the
    /// root lists under several key IDs (as go-tuf counts distinct keys) still meets only one unit of the threshold.
    /// </summary>
    public int CountValidSignatures(string role, TufMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        var roleKeys = Roles[role];
        var data = metadata.SigningBytes();
        var signers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var signature in metadata.Signatures)
        {
            if (roleKeys.KeyIds.Contains(signature.KeyId) && Keys.TryGetValue(signature.KeyId, out var key)
                && key.SpkiFingerprint is { } fingerprint && key.Verify(data, signature.Sig))
            {
                signers.Add(fingerprint);
            }
        }

        return signers.Count;
    }

    /// <exception cref="TufException"><see cref="TufError.Unsigned"/> when the threshold is not met.</exception>
    public void VerifyRole(string role, TufMetadata metadata, string what)
    {
        var valid = CountValidSignatures(role, metadata);
        if (valid < Roles[role].Threshold)
        {
            throw new TufException(TufError.Unsigned, $"{what}: {valid} valid signature(s) of the {role} role, threshold {Roles[role].Threshold}");
        }
    }

    /// <summary>Builds an unsigned root (version, expiry, the four roles; consistent snapshots on).</summary>
    public static TufMetadata Build(long version, DateTimeOffset expires, IReadOnlyDictionary<string, (IReadOnlyList<TufKey> Keys, int Threshold)> roles)
    {
        ArgumentNullException.ThrowIfNull(roles);
        var keys = new JsonObject();
        var rolesNode = new JsonObject();
        foreach (var name in RoleNames)
        {
            var (roleKeys, threshold) = roles[name];
            foreach (var key in roleKeys)
            {
                keys[key.KeyId] = key.ToJson();
            }

            rolesNode[name] = new JsonObject
            {
                ["keyids"] = new JsonArray([.. roleKeys.Select(static k => (JsonNode?)k.KeyId).Distinct()]),
                ["threshold"] = threshold,
            };
        }

        return TufMetadata.Create(new JsonObject
        {
            ["_type"] = TufMetadata.Root,
            ["spec_version"] = "1.0",
            ["version"] = version,
            ["expires"] = TufMetadata.FormatExpires(expires),
            ["consistent_snapshot"] = true,
            ["keys"] = keys,
            ["roles"] = rolesNode,
        });
    }

    /// <summary>The keys of a role, with the threshold, for editing into the next root.</summary>
    public (IReadOnlyList<TufKey> Keys, int Threshold) RoleKeys(string role) =>
        ([.. Roles[role].KeyIds.Where(Keys.ContainsKey).Select(id => Keys[id])], Roles[role].Threshold);
}

/// <summary>A target file as targets metadata lists it.</summary>
public sealed record TufTargetFile(long Length, string Sha256, JsonObject? Custom);

/// <summary>Targets, snapshot and timestamp content helpers.</summary>
public static class TufDocuments
{
    /// <exception cref="TufException">Malformed targets metadata.</exception>
    public static Dictionary<string, TufTargetFile> TargetFiles(TufMetadata targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Signed["targets"] is not JsonObject files)
        {
            throw new TufException(TufError.BadFormat, "targets metadata needs a 'targets' object");
        }

        var result = new Dictionary<string, TufTargetFile>(StringComparer.Ordinal);
        foreach (var (name, node) in files)
        {
            if (node is not JsonObject file || file["hashes"] is not JsonObject hashes
                || hashes["sha256"] is not JsonValue sha || !sha.TryGetValue<string>(out var sha256) || sha256.Length != 64)
            {
                throw new TufException(TufError.BadFormat, $"target {name} needs a length and a sha256 hash");
            }

            result[name] = new TufTargetFile(TufMetadata.RequiredInteger(file, "length"), sha256.ToLowerInvariant(), file["custom"] as JsonObject);
        }

        return result;
    }

    public static TufMetadata BuildTargets(long version, DateTimeOffset expires, IReadOnlyDictionary<string, TufTargetFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var node = new JsonObject();
        foreach (var (name, file) in files.OrderBy(static f => f.Key, StringComparer.Ordinal))
        {
            var entry = new JsonObject { ["length"] = file.Length, ["hashes"] = new JsonObject { ["sha256"] = file.Sha256 } };
            if (file.Custom is not null)
            {
                entry["custom"] = file.Custom.DeepClone();
            }

            node[name] = entry;
        }

        return TufMetadata.Create(new JsonObject
        {
            ["_type"] = TufMetadata.Targets,
            ["spec_version"] = "1.0",
            ["version"] = version,
            ["expires"] = TufMetadata.FormatExpires(expires),
            ["targets"] = node,
        });
    }

    /// <summary>Snapshot listing <c>targets.json</c> by version only, as Sigstore's repository does.</summary>
    public static TufMetadata BuildSnapshot(long version, DateTimeOffset expires, long targetsVersion) =>
        TufMetadata.Create(new JsonObject
        {
            ["_type"] = TufMetadata.Snapshot,
            ["spec_version"] = "1.0",
            ["version"] = version,
            ["expires"] = TufMetadata.FormatExpires(expires),
            ["meta"] = new JsonObject { ["targets.json"] = new JsonObject { ["version"] = targetsVersion } },
        });

    public static TufMetadata BuildTimestamp(long version, DateTimeOffset expires, long snapshotVersion) =>
        TufMetadata.Create(new JsonObject
        {
            ["_type"] = TufMetadata.Timestamp,
            ["spec_version"] = "1.0",
            ["version"] = version,
            ["expires"] = TufMetadata.FormatExpires(expires),
            ["meta"] = new JsonObject { ["snapshot.json"] = new JsonObject { ["version"] = snapshotVersion } },
        });

    /// <summary>The entry <paramref name="file"/> in a snapshot's or timestamp's <c>meta</c>: version, optional length and sha256.</summary>
    public static (long Version, long? Length, string? Sha256) MetaEntry(TufMetadata metadata, string file)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (metadata.Signed["meta"] is not JsonObject meta || meta[file] is not JsonObject entry)
        {
            throw new TufException(TufError.BadFormat, $"{metadata.Type} does not list {file}");
        }

        long? length = entry["length"] is JsonValue l && TufCanonicalJson.TryGetInteger(l, out var len) ? len : null;
        var sha = entry["hashes"] is JsonObject h && h["sha256"] is JsonValue s && s.TryGetValue<string>(out var hex) ? hex : null;
        return (TufMetadata.RequiredInteger(entry, "version"), length, sha);
    }
}
