using System.Text.Json;
using System.Text.RegularExpressions;

namespace TransparencyLog.Interop.Tests.Compose;

/// <summary>One stage of the Dockerfile: its base, its RUN commands, what it copies from the build stage, its entry point.</summary>
internal sealed record DockerStage(string Name, string Base, IReadOnlyList<string> Runs, string? CopiedOutput, IReadOnlyList<string>? Entrypoint, string? User);

/// <summary>
/// The repository's Dockerfile, read for what running an image outside Docker needs: which project a target runs
/// (<c>dotnet publish src/X -o /out/y</c>, <c>COPY --from=build /out/y .</c>, <c>ENTRYPOINT</c>) and what each image creates.
/// </summary>
internal sealed class Dockerfile
{
    private readonly Dictionary<string, DockerStage> _stages;
    private readonly Dictionary<string, string> _publishedProjects;

    private Dockerfile(Dictionary<string, DockerStage> stages, Dictionary<string, string> publishedProjects)
    {
        _stages = stages;
        _publishedProjects = publishedProjects;
    }

    public static Dockerfile Load(string path)
    {
        // Continuation lines joined first: one instruction a line.
        var text = Regex.Replace(File.ReadAllText(path), @"\\\r?\n", " ");
        var stages = new Dictionary<string, DockerStage>(StringComparer.Ordinal);
        var published = new Dictionary<string, string>(StringComparer.Ordinal);
        DockerStage? current = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (Regex.Match(line, @"^FROM\s+(\S+)\s+AS\s+(\S+)$", RegexOptions.IgnoreCase) is { Success: true } from)
            {
                var baseName = from.Groups[1].Value;
                current = stages.TryGetValue(baseName, out var parent)
                    ? parent with { Name = from.Groups[2].Value, Base = parent.Base }
                    : new DockerStage(from.Groups[2].Value, baseName, [], null, null, null);
                stages[current.Name] = current;
                continue;
            }

            if (current is null)
            {
                continue;
            }

            if (line.StartsWith("RUN ", StringComparison.Ordinal))
            {
                current = current with { Runs = [.. current.Runs, line[4..]] };
                foreach (Match publish in Regex.Matches(line, @"dotnet publish (\S+) .*?-o (\S+)"))
                {
                    published[publish.Groups[2].Value] = publish.Groups[1].Value;
                }
            }
            else if (Regex.Match(line, @"^COPY --from=build (\S+) \.$") is { Success: true } copy)
            {
                current = current with { CopiedOutput = copy.Groups[1].Value };
            }
            else if (line.StartsWith("ENTRYPOINT ", StringComparison.Ordinal))
            {
                current = current with { Entrypoint = JsonSerializer.Deserialize<List<string>>(line["ENTRYPOINT ".Length..]) };
            }
            else if (line.StartsWith("USER ", StringComparison.Ordinal))
            {
                current = current with { User = line[5..].Trim() };
            }

            stages[current.Name] = current;
        }

        return new Dockerfile(stages, published);
    }

    public DockerStage Stage(string target) =>
        _stages.TryGetValue(target, out var stage) ? stage : throw new InvalidOperationException($"the Dockerfile has no stage '{target}'");

    /// <summary>The build output directory that stands for the image's <c>/app</c> (the project the stage publishes).</summary>
    public string AppDirectory(string target, string root, string configuration)
    {
        var stage = Stage(target);
        var output = stage.CopiedOutput ?? throw new InvalidOperationException($"stage '{target}' copies no build output");
        var project = _publishedProjects.TryGetValue(output, out var p) ? p : throw new InvalidOperationException($"nothing publishes {output}");
        return Path.Combine(root, project, "bin", configuration, "net10.0");
    }
}
