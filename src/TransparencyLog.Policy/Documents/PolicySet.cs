using System.Security.Cryptography;
using System.Text;
using TransparencyLog.Policy.Evaluation;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Policy.Documents;

/// <summary>
/// Everything loaded from a set of policy files: the ClusterImagePolicies, the TrustRoots they refer to and the
/// no-match setting. <see cref="PolicyGeneration"/> and <see cref="TrustRootGeneration"/> change whenever any
/// policy or trust-root content changes, so cached outcomes keyed by them go stale at once.
/// </summary>
public sealed record PolicySet(
    IReadOnlyList<ClusterImagePolicy> Policies,
    IReadOnlyDictionary<string, TrustRootDocument> TrustRoots,
    NoMatchPolicy NoMatch,
    string PolicyGeneration,
    string TrustRootGeneration)
{
    public const int MaxFileBytes = 1024 * 1024;
    public const int MaxFiles = 256;

    /// <summary>Parses and validates every document of every file; the first error refuses the whole set.</summary>
    /// <exception cref="PolicyLoadException">Any document is invalid, unsupported or refers to something missing.</exception>
    public static PolicySet Load(IReadOnlyList<(string Origin, string Text)> files, NoMatchPolicy defaultNoMatch = NoMatchPolicy.Deny)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (files.Count > MaxFiles)
        {
            throw new PolicyLoadException("policies", string.Empty, $"more than {MaxFiles} policy files");
        }

        var policies = new List<ClusterImagePolicy>();
        var trustRoots = new Dictionary<string, TrustRootDocument>(StringComparer.Ordinal);
        var noMatch = defaultNoMatch;
        using var policyHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var rootHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (origin, text) in files)
        {
            if (Encoding.UTF8.GetByteCount(text) > MaxFileBytes)
            {
                throw new PolicyLoadException(origin, string.Empty, $"larger than {MaxFileBytes} bytes");
            }

            try
            {
                foreach (var document in YamlTree.Parse(text, origin))
                {
                    var kind = document["kind"]?.ToString();
                    var isConfig = kind == "ConfigMap" && document["metadata"]?["name"]?.ToString() == "config-policy-controller";
                    var canonical = Encoding.UTF8.GetBytes(document.ToJsonString() + "\n");
                    switch (kind)
                    {
                        case "ClusterImagePolicy":
                            var policy = PolicyReader.ReadPolicy(document, origin);
                            if (policies.Any(p => p.Name == policy.Name))
                            {
                                throw new PolicyLoadException(origin, "metadata.name", $"a second ClusterImagePolicy named '{policy.Name}'");
                            }
    
                            policies.Add(policy);
                            policyHash.AppendData(canonical);
                            break;
                        case "TrustRoot":
                            var root = TrustRootReader.Read(document, origin);
                            if (!trustRoots.TryAdd(root.Name, root))
                            {
                                throw new PolicyLoadException(origin, "metadata.name", $"a second TrustRoot named '{root.Name}'");
                            }
    
                            rootHash.AppendData(canonical);
                            break;
                        case "ConfigMap" when isConfig:
                            noMatch = PolicyReader.ReadNoMatch(document, origin);
                            policyHash.AppendData(canonical);
                            break;
                        default:
                            throw new PolicyLoadException(
                                origin, "kind", $"'{kind}' is not a ClusterImagePolicy, TrustRoot or the config-policy-controller ConfigMap");
                    }
                }
            }
            catch (InvalidOperationException ex) when (JsonNodeTypeError.Is(ex))
            {
                // JsonNode's indexers throw this for a mapping, list or scalar where the schema has another (found by fuzzing).
                throw new PolicyLoadException(origin, string.Empty, "a field is a mapping, list or scalar where the schema expects another");
            }
        }

        foreach (var policy in policies)
        {
            foreach (var (authority, i) in policy.Authorities.Select(static (a, i) => (a, i)))
            {
                foreach (var reference in new[] { authority.Keyless?.TrustRootRef, authority.Ctlog?.TrustRootRef, authority.TimestampTrustRootRef })
                {
                    if (reference is not null && !trustRoots.ContainsKey(reference))
                    {
                        throw new PolicyLoadException(policy.Origin, $"spec.authorities[{i}]", $"trustRootRef '{reference}' names no TrustRoot in the loaded files");
                    }
                }
            }
        }

        var loaded = new PolicySet(
            policies,
            trustRoots,
            noMatch,
            Convert.ToHexStringLower(policyHash.GetHashAndReset())[..16],
            Convert.ToHexStringLower(rootHash.GetHashAndReset())[..16]);
        loaded.CheckTlogUrls(null);
        return loaded;
    }

    /// <summary>
    /// Every <c>ctlog.url</c> must name a transparency log of the trust root its authority uses (the referenced
    /// TrustRoot, else <paramref name="defaultRoot"/>; authorities on the default root are skipped when it is null).
    /// </summary>
    /// <exception cref="PolicyLoadException">A <c>ctlog.url</c> names no log of its trust root.</exception>
    public void CheckTlogUrls(TrustedRoot? defaultRoot)
    {
        foreach (var policy in Policies)
        {
            foreach (var (authority, i) in policy.Authorities.Select(static (a, i) => (a, i)))
            {
                if (authority.Ctlog?.Url is not { } url)
                {
                    continue;
                }

                var reference = authority.Keyless?.TrustRootRef ?? authority.Ctlog.TrustRootRef ?? authority.TimestampTrustRootRef;
                if (reference is not null && TrustRoots[reference].Pending)
                {
                    continue;
                }

                var root = reference is not null ? TrustRoots[reference].Root : defaultRoot;
                if (root is not null && PolicyEvaluator.TlogsAt(root, url).Count == 0)
                {
                    var known = root.Tlogs.Count == 0 ? "none" : string.Join(", ", root.Tlogs.Select(static l => l.BaseUrl).Distinct(StringComparer.Ordinal));
                    throw new PolicyLoadException(
                        $"{policy.Origin} ({policy.Name})", $"spec.authorities[{i}].ctlog.url",
                        $"'{url}' names no transparency log of {(reference is null ? "the default trusted root" : $"TrustRoot '{reference}'")} (its logs: {known})");
                }
            }
        }
    }

    /// <summary>Reads the files (each size-checked before reading) and loads them.</summary>
    public static PolicySet LoadFiles(IEnumerable<string> paths, NoMatchPolicy defaultNoMatch = NoMatchPolicy.Deny)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var files = new List<(string, string)>();
        foreach (var path in paths)
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new PolicyLoadException(path, string.Empty, "does not exist");
            }

            if (info.Length > MaxFileBytes)
            {
                throw new PolicyLoadException(path, string.Empty, $"larger than {MaxFileBytes} bytes");
            }

            files.Add((path, File.ReadAllText(path)));
        }

        return Load(files, defaultNoMatch);
    }
}
