using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Policy.Documents;

/// <summary>
/// Reads a policy-controller <c>TrustRoot</c> (admission-policy §3.5). <c>sigstoreKeys</c> becomes a trusted root;
/// <c>remote</c> (a TUF mirror and its initial root) and <c>repository</c> (a serialized repository: the same TUF
/// checks, from the files of its <c>mirrorFS</c> archive, no network) are checked here and resolved by
/// <see cref="TufTrustRoots"/>.
/// </summary>
internal static class TrustRootReader
{
    public static TrustRootDocument Read(JsonObject document, string origin)
    {
        if (document["apiVersion"]?.ToString() is not ("policy.sigstore.dev/v1alpha1"))
        {
            throw new PolicyLoadException(origin, "apiVersion", "a TrustRoot is policy.sigstore.dev/v1alpha1");
        }

        var name = document["metadata"]?["name"]?.ToString();
        if (string.IsNullOrEmpty(name))
        {
            throw new PolicyLoadException(origin, "metadata.name", "required");
        }

        var where = $"{origin} ({name})";
        var spec = document["spec"] as JsonObject ?? throw new PolicyLoadException(where, "spec", "required");
        var forms = new[] { "remote", "repository", "sigstoreKeys" }.Where(spec.ContainsKey).ToList();
        if (forms.Count != 1)
        {
            throw new PolicyLoadException(where, "spec", "exactly one of remote, repository and sigstoreKeys is required");
        }

        var generation = document["metadata"]?["generation"]?.ToString() is { } g && long.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 1;
        if (forms[0] == "repository")
        {
            var repository = spec["repository"] as JsonObject ?? throw new PolicyLoadException(where, "spec.repository", "must be a mapping");
            return new TrustRootDocument(name, origin, generation, TrustedRoot.Empty, ReadRepository(repository, where));
        }

        if (forms[0] == "remote")
        {
            var remote = spec["remote"] as JsonObject ?? throw new PolicyLoadException(where, "spec.remote", "must be a mapping");
            return new TrustRootDocument(name, origin, generation, TrustedRoot.Empty, ReadRemote(remote, where));
        }

        var keys = spec["sigstoreKeys"] as JsonObject ?? throw new PolicyLoadException(where, "spec.sigstoreKeys", "must be a mapping");
        var cas = Authorities(keys, "certificateAuthorities", where);
        var tsas = Authorities(keys, "timestampAuthorities", where);
        if (cas.Count == 0 && tsas.Count == 0)
        {
            throw new PolicyLoadException(where, "spec.sigstoreKeys", "at least one certificate or timestamp authority is required");
        }

        var root = new TrustedRoot(TrustedRoot.MediaTypeV01, Logs(keys, "tLogs", where), cas, Logs(keys, "ctLogs", where), tsas);
        return new TrustRootDocument(name, origin, generation, root);
    }

    /// <summary>
    /// <c>remote</c>: <c>mirror</c> (http/https) and <c>root</c>, the initial root.json as JSON or base64 of it,
    /// self-signed to its threshold; <c>targets</c> and <c>trustedRootTarget</c> as policy-controller defaults them.
    /// </summary>
    private static TufSource ReadRemote(JsonObject remote, string where)
    {
        Unknown(remote, ["mirror", "root", "targets", "trustedRootTarget"], where, "spec.remote");
        var mirrorText = remote["mirror"]?.ToString() ?? throw new PolicyLoadException(where, "spec.remote.mirror", "required (the TUF repository's URL)");
        if (!Uri.TryCreate(mirrorText, UriKind.Absolute, out var mirror) || mirror.Scheme is not ("https" or "http") || mirrorText.Length > 2048)
        {
            throw new PolicyLoadException(where, "spec.remote.mirror", $"'{mirrorText}' is not an http(s) URL");
        }

        var root = InitialRoot(remote, where, "spec.remote");
        return new TufSource(mirror, root, TargetsPath(remote, where, "spec.remote"), TrustedRootTarget(remote, where, "spec.remote"));
    }

    /// <summary>The largest <c>mirrorFS</c> archive, decoded (a policy file is at most 1 MiB anyway).</summary>
    public const int MaxMirrorFsBytes = PolicySet.MaxFileBytes;

    /// <summary>
    /// <c>repository</c>: <c>root</c> as for <c>remote</c>, and <c>mirrorFS</c>, base64 of a gzipped tar of the
    /// repository (<see cref="SerializedTufRepository"/>); nothing is fetched from anywhere.
    /// </summary>
    private static TufSource ReadRepository(JsonObject repository, string where)
    {
        Unknown(repository, ["root", "mirrorFS", "targets", "trustedRootTarget"], where, "spec.repository");
        var root = InitialRoot(repository, where, "spec.repository");
        var text = repository["mirrorFS"]?.ToString() ?? throw new PolicyLoadException(where, "spec.repository.mirrorFS", "required (base64 of the repository as a gzipped tar)");
        var archive = new byte[(text.Length / 4 * 3) + 3];
        if (!Convert.TryFromBase64String(text.Trim(), archive, out var length))
        {
            throw new PolicyLoadException(where, "spec.repository.mirrorFS", "not base64");
        }

        if (length > MaxMirrorFsBytes)
        {
            throw new PolicyLoadException(where, "spec.repository.mirrorFS", $"larger than {MaxMirrorFsBytes} bytes");
        }

        Dictionary<string, byte[]> files;
        try
        {
            files = SerializedTufRepository.Read(archive[..length]);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or IOException or ArgumentException or OverflowException or NotSupportedException or InvalidOperationException)
        {
            throw new PolicyLoadException(where, "spec.repository.mirrorFS", $"not a serialized TUF repository (base64 of a gzipped tar): {ex.Message}");
        }

        return new TufSource(null, root, TargetsPath(repository, where, "spec.repository"), TrustedRootTarget(repository, where, "spec.repository"), files);
    }

    /// <summary><c>root</c>: the trusted initial root.json, as JSON or base64 of it, signed to its own threshold.</summary>
    private static byte[] InitialRoot(JsonObject source, string where, string path)
    {
        var rootText = source["root"]?.ToString() ?? throw new PolicyLoadException(where, $"{path}.root", "required (the trusted initial root.json)");
        byte[] rootBytes;
        try
        {
            rootBytes = rootText.TrimStart().StartsWith('{') ? System.Text.Encoding.UTF8.GetBytes(rootText) : Convert.FromBase64String(rootText);
        }
        catch (FormatException)
        {
            throw new PolicyLoadException(where, $"{path}.root", "neither root.json nor base64 of it");
        }

        if (!System.Text.Unicode.Utf8.IsValid(rootBytes))
        {
            throw new PolicyLoadException(where, $"{path}.root", "not a TUF root signed to its own threshold: not UTF-8");
        }

        try
        {
            var metadata = Sigstore.Tuf.TufMetadata.Parse(rootBytes, Sigstore.Tuf.TufMetadata.Root);
            Sigstore.Tuf.TufRoot.From(metadata).VerifyRole(Sigstore.Tuf.TufMetadata.Root, metadata, "the initial root");
        }
        catch (Sigstore.Tuf.TufException ex)
        {
            throw new PolicyLoadException(where, $"{path}.root", $"not a TUF root signed to its own threshold: {ex.Message}");
        }

        return rootBytes;
    }

    private static string TargetsPath(JsonObject source, string where, string path)
    {
        var targets = source["targets"]?.ToString() is { Length: > 0 } t ? t.Trim('/') : Sigstore.Tuf.TufUpdater.DefaultTargetsPath;
        return Sigstore.Tuf.TufUpdater.IsTargetsPath(targets)
            ? targets
            : throw new PolicyLoadException(where, $"{path}.targets", $"'{targets}' is not a relative path below the repository");
    }

    private static string TrustedRootTarget(JsonObject source, string where, string path)
    {
        var target = source["trustedRootTarget"]?.ToString() is { Length: > 0 } t ? t : TufTrustRoots.TrustedRootTarget;
        return target.Length <= 255 && !target.Contains('/', StringComparison.Ordinal) && target.Trim('.').Length > 0 && target.All(static c => c > ' ' && c < 127)
            ? target
            : throw new PolicyLoadException(where, $"{path}.trustedRootTarget", $"'{target}' is not a target name");
    }

    private static void Unknown(JsonObject node, string[] known, string where, string path)
    {
        foreach (var (key, _) in node)
        {
            if (!known.Contains(key, StringComparer.Ordinal))
            {
                throw new PolicyLoadException(where, $"{path}.{key}", "unknown field");
            }
        }
    }

    private static List<CertificateAuthority> Authorities(JsonObject keys, string field, string where)
    {
        var result = new List<CertificateAuthority>();
        foreach (var (node, i) in (keys[field] as JsonArray ?? []).Select(static (n, i) => (n, i)))
        {
            var path = $"spec.sigstoreKeys.{field}[{i}]";
            var chainText = node?["certChain"]?.ToString() ?? throw new PolicyLoadException(where, $"{path}.certChain", "required");
            var chain = PemBlocks.Certificates(PemBlocks.Base64Pem(chainText, where, $"{path}.certChain"), where, $"{path}.certChain");
            var subject = node["subject"] is JsonObject s ? new DistinguishedName(s["organization"]?.ToString(), s["commonName"]?.ToString()) : null;
            result.Add(new CertificateAuthority(subject, node["uri"]?.ToString(), chain, ValidityPeriod.Unbounded));
        }

        return result;
    }

    private static List<TransparencyLogInstance> Logs(JsonObject keys, string field, string where)
    {
        var result = new List<TransparencyLogInstance>();
        foreach (var (node, i) in (keys[field] as JsonArray ?? []).Select(static (n, i) => (n, i)))
        {
            var path = $"spec.sigstoreKeys.{field}[{i}]";
            var url = node?["baseURL"]?.ToString() ?? throw new PolicyLoadException(where, $"{path}.baseURL", "required");
            var keyText = node["publicKey"]?.ToString() ?? throw new PolicyLoadException(where, $"{path}.publicKey", "required");
            var spki = PemBlocks.PublicKey(PemBlocks.Base64Pem(keyText, where, $"{path}.publicKey"), where, $"{path}.publicKey");
            var hash = node["hashAlgorithm"]?.ToString() ?? "sha-256";
            if (hash.Replace("-", string.Empty, StringComparison.Ordinal).ToUpperInvariant() is not "SHA256")
            {
                throw new PolicyLoadException(where, $"{path}.hashAlgorithm", $"'{hash}' is not sha-256");
            }

            result.Add(new TransparencyLogInstance(url, "SHA2_256", new TrustedPublicKey(spki, TrustedRoot.KeyDetailsOf(spki), ValidityPeriod.Unbounded), SHA256.HashData(spki)));
        }

        return result;
    }
}
