using Microsoft.Extensions.Options;
using TransparencyLog.Policy.Evaluation;
using TransparencyLog.Sigstore.Oci;

namespace TransparencyLog.Admission.Webhook;

/// <summary>
/// Registry credentials for one review without cluster API access: the pod's <c>imagePullSecrets</c>, read from
/// mounted Secrets at <c>PullSecretsDirectory/NAMESPACE/NAME/.dockerconfigjson</c>, first match wins; then the
/// webhook's own Docker config (<c>DOCKER_CONFIG</c>, <c>REGISTRY_AUTH_FILE</c>), as the CLI reads it. A policy's
/// <c>source[].signaturePullSecrets</c> are read the same way from the webhook's own namespace
/// (<c>SignaturePullSecretsNamespace</c>, policy-controller's <c>cosign-system</c>).
/// </summary>
internal sealed class PullSecrets(IOptions<AdmissionOptions> options, IHttpClientFactory httpFactory)
{
    public RegistryConnections Connect(string? ns, IReadOnlyList<string> secretNames, out string scope)
    {
        var files = new List<string>();
        if (options.Value.PullSecretsDirectory is { } directory && ns is not null && IsName(ns))
        {
            foreach (var name in secretNames.Where(IsName))
            {
                var file = Path.Combine(directory, ns, name, ".dockerconfigjson");
                if (File.Exists(file))
                {
                    files.Add(file);
                }
            }
        }

        // Outcomes may depend on what the credentials can see, so they are cached per credential scope.
        scope = files.Count == 0 ? "webhook" : string.Join(",", files);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return new RegistryConnections(
            httpFactory.CreateClient("registry"),
            registry => RegistryCredentials.FromFiles(registry, files, allowHelpers: false)
                ?? RegistryCredentials.FromFiles(registry, WebhookConfigFiles(home), allowHelpers: false),
            allowInsecure: false);
    }

    /// <summary>
    /// Connections for an authority whose source names <paramref name="secretNames"/>: those Secrets' credentials
    /// (first match wins), then the webhook's own; the Secrets without a mounted file are reported as missing.
    /// </summary>
    public SignatureRegistries ConnectSignatureSecrets(IReadOnlyList<string> secretNames)
    {
        var admission = options.Value;
        var files = new List<string>();
        var missing = new List<string>();
        foreach (var name in secretNames)
        {
            var file = admission.PullSecretsDirectory is { } directory && IsName(name)
                ? Path.Combine(directory, admission.SignaturePullSecretsNamespace, name, ".dockerconfigjson")
                : null;
            if (file is not null && File.Exists(file))
            {
                files.Add(file);
            }
            else
            {
                missing.Add($"{admission.SignaturePullSecretsNamespace}/{name}");
            }
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var connections = new RegistryConnections(
            httpFactory.CreateClient("registry"),
            registry => RegistryCredentials.FromFiles(registry, files, allowHelpers: false)
                ?? RegistryCredentials.FromFiles(registry, WebhookConfigFiles(home), allowHelpers: false),
            allowInsecure: false);
        return new SignatureRegistries(connections, missing);
    }

    private static IEnumerable<string> WebhookConfigFiles(string home)
    {
        yield return Path.Combine(Environment.GetEnvironmentVariable("DOCKER_CONFIG") is { Length: > 0 } d ? d : Path.Combine(home, ".docker"), "config.json");
        if (Environment.GetEnvironmentVariable("REGISTRY_AUTH_FILE") is { Length: > 0 } auth)
        {
            yield return auth;
        }
    }

    /// <summary>A DNS-1123 name: no path separators or dots-only segments can reach the file system.</summary>
    private static bool IsName(string name) =>
        name.Length is > 0 and <= 253 && name.All(static c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.') && name.Trim('.').Length > 0 && !name.Contains("..", StringComparison.Ordinal);
}
