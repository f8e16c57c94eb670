using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace TransparencyLog.Interop.Tests.Compose;

/// <summary>One service of docker-compose.yml, as the fields this repository uses (values already interpolated).</summary>
internal sealed record ComposeService(
    string Name,
    string? Image,
    string? BuildTarget,
    IReadOnlyList<string>? Entrypoint,
    IReadOnlyList<string>? Command,
    IReadOnlyDictionary<string, string> Environment,
    IReadOnlyList<string> Secrets,
    IReadOnlyList<ComposeMount> Volumes,
    IReadOnlyList<int> ContainerPorts,
    IReadOnlyDictionary<string, string> DependsOn,
    IReadOnlyList<string> Profiles,
    string? NetworkMode,
    IReadOnlyList<string>? HealthCheck,
    bool OneShot)
{
    /// <summary>The service whose network namespace this one joins (<c>network_mode: service:X</c>), if any.</summary>
    public string? NetworkService => NetworkMode is { } mode && mode.StartsWith("service:", StringComparison.Ordinal) ? mode["service:".Length..] : null;

    /// <summary>Loopback ports its health check connects to (<c>/dev/tcp/127.0.0.1/PORT</c>): ports it listens on.</summary>
    public IEnumerable<int> HealthCheckPorts => HealthCheck is null
        ? []
        : HealthCheck.SelectMany(part => Regex.Matches(part, @"/dev/tcp/127\.0\.0\.1/(\d+)").Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)));
}

/// <summary>A volume entry: a named volume or a bind mount (a path relative to the compose file) at a container path.</summary>
internal sealed record ComposeMount(string Source, string Target, bool ReadOnly)
{
    public bool IsBind => Source.StartsWith('.') || Source.StartsWith('/');
}

/// <summary>
/// docker-compose.yml read the way Compose reads it: <c>${VAR}</c>, <c>${VAR:-default}</c> and <c>$$</c> interpolated
/// from the given environment, services filtered by the active profiles.
/// </summary>
internal sealed class ComposeFile
{
    private ComposeFile(IReadOnlyDictionary<string, ComposeService> services, IReadOnlyDictionary<string, string> secretFiles, IReadOnlyList<string> volumes)
    {
        Services = services;
        SecretFiles = secretFiles;
        NamedVolumes = volumes;
    }

    public IReadOnlyDictionary<string, ComposeService> Services { get; }

    /// <summary>Top-level secrets: name to the file (relative to the compose file) holding it.</summary>
    public IReadOnlyDictionary<string, string> SecretFiles { get; }

    public IReadOnlyList<string> NamedVolumes { get; }

    public static ComposeFile Load(string path, IReadOnlyDictionary<string, string> environment, IReadOnlySet<string> profiles)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            stream.Load(reader);
        }

        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        string Text(YamlNode node) => Interpolate(((YamlScalarNode)node).Value ?? "", environment);
        List<string> Texts(YamlNode node) => node is YamlSequenceNode sequence ? [.. sequence.Children.Select(Text)] : [Text(node)];

        var services = new Dictionary<string, ComposeService>(StringComparer.Ordinal);
        foreach (var (key, value) in (YamlMappingNode)root["services"])
        {
            var name = ((YamlScalarNode)key).Value!;
            var service = (YamlMappingNode)value;
            YamlNode? Get(string field) => service.Children.TryGetValue(new YamlScalarNode(field), out var node) ? node : null;

            var serviceProfiles = Get("profiles") is { } p ? Texts(p) : [];
            if (serviceProfiles.Count > 0 && !serviceProfiles.Any(profiles.Contains))
            {
                continue;
            }

            var environmentVariables = new Dictionary<string, string>(StringComparer.Ordinal);
            switch (Get("environment"))
            {
                case YamlMappingNode map:
                    foreach (var (k, v) in map)
                    {
                        environmentVariables[((YamlScalarNode)k).Value!] = Text(v);
                    }

                    break;
                case YamlSequenceNode list:
                    foreach (var entry in list.Children.Select(Text))
                    {
                        var separator = entry.IndexOf('=', StringComparison.Ordinal);
                        environmentVariables[entry[..separator]] = entry[(separator + 1)..];
                    }

                    break;
            }

            var mounts = (Get("volumes") is { } volumes ? Texts(volumes) : []).Select(entry =>
            {
                var parts = entry.Split(':');
                return new ComposeMount(parts[0], parts[1], parts.Length > 2 && parts[2] == "ro");
            }).ToList();

            var ports = (Get("ports") is { } portList ? Texts(portList) : [])
                .Concat(Get("expose") is { } expose ? Texts(expose) : [])
                .Select(entry => int.Parse(entry.Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture))
                .ToList();

            var dependsOn = new Dictionary<string, string>(StringComparer.Ordinal);
            switch (Get("depends_on"))
            {
                case YamlMappingNode map:
                    foreach (var (k, v) in map)
                    {
                        dependsOn[((YamlScalarNode)k).Value!] = v is YamlMappingNode condition && condition.Children.TryGetValue(new YamlScalarNode("condition"), out var c)
                            ? Text(c)
                            : "service_started";
                    }

                    break;
                case YamlSequenceNode list:
                    foreach (var dependency in list.Children.Select(Text))
                    {
                        dependsOn[dependency] = "service_started";
                    }

                    break;
            }

            var build = Get("build") as YamlMappingNode;
            services[name] = new ComposeService(
                name,
                Get("image") is { } image ? Text(image) : null,
                build is not null && build.Children.TryGetValue(new YamlScalarNode("target"), out var target) ? Text(target) : null,
                Get("entrypoint") is { } entrypoint ? Texts(entrypoint) : null,
                Get("command") is { } command ? Texts(command) : null,
                environmentVariables,
                Get("secrets") is { } secrets ? Texts(secrets) : [],
                mounts,
                ports,
                dependsOn,
                serviceProfiles,
                Get("network_mode") is { } network ? Text(network) : null,
                Get("healthcheck") is YamlMappingNode health ? Texts(health["test"]) : null,
                Get("restart") is { } restart && Text(restart) == "no");
        }

        var secretFiles = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.Children.TryGetValue(new YamlScalarNode("secrets"), out var secretsNode))
        {
            foreach (var (k, v) in (YamlMappingNode)secretsNode)
            {
                secretFiles[((YamlScalarNode)k).Value!] = Text(((YamlMappingNode)v)["file"]);
            }
        }

        var named = root.Children.TryGetValue(new YamlScalarNode("volumes"), out var volumesNode)
            ? ((YamlMappingNode)volumesNode).Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToList()
            : [];
        return new ComposeFile(services, secretFiles, named);
    }

    /// <summary>Compose's interpolation: <c>$$</c> is a dollar, <c>${VAR}</c> and <c>${VAR:-default}</c> read the environment.</summary>
    public static string Interpolate(string value, IReadOnlyDictionary<string, string> environment) =>
        Regex.Replace(value, @"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}", match =>
        {
            if (match.Value == "$$")
            {
                return "$";
            }

            return environment.TryGetValue(match.Groups[1].Value, out var set) && set.Length > 0
                ? set
                : match.Groups[2].Success ? match.Groups[2].Value : "";
        });
}
