using System.Diagnostics;
using System.Text;
using System.Text.Json;
using TransparencyLog.Sigstore.Json;

namespace TransparencyLog.Sigstore.Oci;

/// <summary>A user name and secret for one registry. <see cref="ToString"/> never shows the secret.</summary>
public sealed record RegistryCredential(string Username, string Secret)
{
    /// <summary>Docker's convention: a helper answering user <c>&lt;token&gt;</c> hands out an identity (refresh) token.</summary>
    public bool IsIdentityToken => Username == "<token>";

    public override string ToString() => $"{Username} (secret hidden)";
}

/// <summary>
/// Finds credentials for a registry host as the Docker CLI does (oci-signing §1): <c>credHelpers[host]</c>, then
/// <c>credsStore</c>, then <c>auths</c>, in <c>$DOCKER_CONFIG/config.json</c> or <c>~/.docker/config.json</c>, then the
/// containers auth files (<c>$REGISTRY_AUTH_FILE</c>, <c>$XDG_RUNTIME_DIR/containers/auth.json</c>,
/// <c>~/.config/containers/auth.json</c>).
/// </summary>
public static class RegistryCredentials
{
    private const int MaxConfigBytes = 1024 * 1024;
    private const int MaxHelperOutputBytes = 64 * 1024;

    /// <summary>The Docker CLI's lookup: its config files in order (credential helpers allowed).</summary>
    public static RegistryCredential? Find(string registry, Func<string, string?> environment, string homeDirectory) =>
        FromFiles(registry, ConfigFiles(name => environment(name) is { Length: > 0 } value ? value : null, homeDirectory), allowHelpers: true);

    /// <summary>
    /// The first credential for <paramref name="registry"/> in Docker config files (<c>.dockerconfigjson</c> of a pull
    /// secret has the same shape). Without <paramref name="allowHelpers"/>, <c>credHelpers</c>/<c>credsStore</c> are
    /// ignored: a file written by someone else must not choose a program to run.
    /// </summary>
    public static RegistryCredential? FromFiles(string registry, IEnumerable<string> files, bool allowHelpers)
    {
        foreach (var file in files)
        {
            if (!File.Exists(file))
            {
                continue;
            }

            var info = new FileInfo(file);
            if (info.Length > MaxConfigBytes)
            {
                throw new OciException(OciFailure.Error, $"the credentials file '{file}' is larger than {MaxConfigBytes} bytes");
            }

            JsonDocument document;
            try
            {
                // UTF-8 first: a pull secret is written by whoever may create Secrets in a namespace, and invalid bytes
                // inside a string would otherwise throw InvalidOperationException when the string is read.
                document = JsonInput.Parse(File.ReadAllBytes(file));
            }
            catch (JsonException)
            {
                throw new OciException(OciFailure.Error, $"the credentials file '{file}' is not valid JSON");
            }

            using (document)
            {
                if (FromConfig(document.RootElement, registry, file, allowHelpers) is { } credential)
                {
                    return credential;
                }
            }
        }

        return null;
    }

    private static IEnumerable<string> ConfigFiles(Func<string, string?> env, string homeDirectory)
    {
        yield return Path.Combine(env("DOCKER_CONFIG") ?? Path.Combine(homeDirectory, ".docker"), "config.json");
        if (env("REGISTRY_AUTH_FILE") is { } authFile)
        {
            yield return authFile;
        }

        if (env("XDG_RUNTIME_DIR") is { } runtime)
        {
            yield return Path.Combine(runtime, "containers", "auth.json");
        }

        yield return Path.Combine(homeDirectory, ".config", "containers", "auth.json");
    }

    private static RegistryCredential? FromConfig(JsonElement root, string registry, string file, bool allowHelpers)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (allowHelpers && root.TryGetProperty("credHelpers", out var helpers) && helpers.ValueKind == JsonValueKind.Object
            && StringMember(helpers, registry, file) is { Length: > 0 } helperName)
        {
            return FromHelper(helperName, registry);
        }

        if (allowHelpers && StringMember(root, "credsStore", file) is { Length: > 0 } storeName)
        {
            if (FromHelper(storeName, registry) is { } stored)
            {
                return stored;
            }
        }

        if (!root.TryGetProperty("auths", out var auths) || auths.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var entry in auths.EnumerateObject())
        {
            if (NormalizeKey(entry.Name) != registry || entry.Value.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            return FromAuthEntry(entry.Value, registry, file);
        }

        return null;
    }

    /// <summary>Keys may be written with a scheme and path (<c>https://host/v1/</c>); Docker Hub's is <c>https://index.docker.io/v1/</c>.</summary>
    private static string NormalizeKey(string key)
    {
        var host = key;
        var scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            host = host[(scheme + 3)..];
        }

        var slash = host.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            host = host[..slash];
        }

        return host is "docker.io" or "registry-1.docker.io" ? "index.docker.io" : host;
    }

    private static RegistryCredential? FromAuthEntry(JsonElement entry, string registry, string file)
    {
        if (StringMember(entry, "identitytoken", file) is { Length: > 0 } identityToken)
        {
            return new RegistryCredential("<token>", identityToken);
        }

        if (StringMember(entry, "auth", file) is { Length: > 0 } encoded)
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            }
            catch (FormatException)
            {
                throw new OciException(OciFailure.Error, $"the credentials for {registry} in '{file}' are not base64 user:password");
            }

            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon <= 0
                ? throw new OciException(OciFailure.Error, $"the credentials for {registry} in '{file}' are not base64 user:password")
                : new RegistryCredential(decoded[..colon], decoded[(colon + 1)..]);
        }

        if (StringMember(entry, "username", file) is { Length: > 0 } username && StringMember(entry, "password", file) is { } secret)
        {
            return new RegistryCredential(username, secret);
        }

        return null;
    }

    /// <summary>
    /// The string member <paramref name="name"/> of an object of the file, null when absent or null. Any other type
    /// makes the file malformed, as Docker's own decoder finds it; the message names the member, never its value.
    /// </summary>
    private static string? StringMember(JsonElement parent, string name, string file) =>
        !parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new OciException(OciFailure.Error, $"the credentials file '{file}' has a {(name.Length > 100 ? "member" : $"'{name}'")} that is not a string");

    /// <summary>
    /// The docker-credential-helpers protocol: <c>docker-credential-NAME get</c>, the server URL on stdin, JSON
    /// <c>{ServerURL, Username, Secret}</c> on stdout; "credentials not found" means anonymous.
    /// </summary>
    private static RegistryCredential? FromHelper(string name, string registry)
    {
        if (name.IndexOfAny(['/', '\\', ' ']) >= 0)
        {
            throw new OciException(OciFailure.Error, $"'{name}' is not a credential helper name");
        }

        var start = new ProcessStartInfo("docker-credential-" + name, "get")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new OciException(OciFailure.Error, $"cannot start docker-credential-{name}");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new OciException(OciFailure.Error, $"the credential helper docker-credential-{name} (configured for {registry}) is not installed");
        }

        using (process)
        {
            process.StandardInput.Write(registry);
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill(entireProcessTree: true);
                throw new OciException(OciFailure.Error, $"the credential helper docker-credential-{name} did not answer within 30 s");
            }

            var stdout = output.GetAwaiter().GetResult();
            var stderr = error.GetAwaiter().GetResult();
            if (process.ExitCode != 0)
            {
                if ((stdout + stderr).Contains("credentials not found", StringComparison.OrdinalIgnoreCase))
                {
                    return null;
                }

                // The helper's own message may name the store; it never holds the secret (it failed to produce one).
                throw new OciException(OciFailure.Error, $"the credential helper docker-credential-{name} failed for {registry} (exit {process.ExitCode})");
            }

            if (stdout.Length > MaxHelperOutputBytes)
            {
                throw new OciException(OciFailure.Error, $"the credential helper docker-credential-{name} printed more than {MaxHelperOutputBytes} bytes");
            }

            try
            {
                using var document = JsonDocument.Parse(stdout);
                var username = document.RootElement.GetProperty("Username").GetString();
                var secret = document.RootElement.GetProperty("Secret").GetString();
                return string.IsNullOrEmpty(secret) ? null : new RegistryCredential(username ?? string.Empty, secret);
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new OciException(OciFailure.Error, $"the credential helper docker-credential-{name} printed no {{Username, Secret}} JSON");
            }
        }
    }
}
