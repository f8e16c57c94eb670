using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Policy.Documents;

/// <summary>
/// Reads a policy-controller <c>TrustRoot</c> (admission-policy §3.5). <c>sigstoreKeys</c> becomes a trusted root;
/// <c>remote</c> (a TUF mirror and its initial root) is checked here and fetched by <see cref="TufTrustRoots"/>;
/// <c>repository</c> (a serialized repository) is refused.
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
            throw new PolicyLoadException(
                where, "spec.repository",
                "a serialized TUF repository (mirrorFS) is not supported: serve it over HTTP (any static file server) and name it in spec.remote.mirror");
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

    /// <summary><c>remote</c>: <c>mirror</c> (http/https) and <c>root</c>, the initial root.json as JSON or base64 of it, self-signed to its threshold.</summary>
    private static TufSource ReadRemote(JsonObject remote, string where)
    {
        foreach (var (key, _) in remote)
        {
            if (key is not ("mirror" or "root"))
            {
                throw new PolicyLoadException(where, $"spec.remote.{key}", "unknown field");
            }
        }

        var mirrorText = remote["mirror"]?.ToString() ?? throw new PolicyLoadException(where, "spec.remote.mirror", "required (the TUF repository's URL)");
        if (!Uri.TryCreate(mirrorText, UriKind.Absolute, out var mirror) || mirror.Scheme is not ("https" or "http") || mirrorText.Length > 2048)
        {
            throw new PolicyLoadException(where, "spec.remote.mirror", $"'{mirrorText}' is not an http(s) URL");
        }

        var rootText = remote["root"]?.ToString() ?? throw new PolicyLoadException(where, "spec.remote.root", "required (the trusted initial root.json)");
        byte[] rootBytes;
        try
        {
            rootBytes = rootText.TrimStart().StartsWith('{') ? System.Text.Encoding.UTF8.GetBytes(rootText) : Convert.FromBase64String(rootText);
        }
        catch (FormatException)
        {
            throw new PolicyLoadException(where, "spec.remote.root", "neither root.json nor base64 of it");
        }

        if (!System.Text.Unicode.Utf8.IsValid(rootBytes))
        {
            throw new PolicyLoadException(where, "spec.remote.root", "not a TUF root signed to its own threshold: not UTF-8");
        }

        try
        {
            var metadata = Sigstore.Tuf.TufMetadata.Parse(rootBytes, Sigstore.Tuf.TufMetadata.Root);
            Sigstore.Tuf.TufRoot.From(metadata).VerifyRole(Sigstore.Tuf.TufMetadata.Root, metadata, "the initial root");
        }
        catch (Sigstore.Tuf.TufException ex)
        {
            throw new PolicyLoadException(where, "spec.remote.root", $"not a TUF root signed to its own threshold: {ex.Message}");
        }

        return new TufSource(mirror, rootBytes);
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
