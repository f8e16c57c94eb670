using System.Text.Json.Nodes;

namespace TransparencyLog.Policy.Matching;

/// <summary>One image field of a workload: its JSON pointer in the object and the reference as written.</summary>
public sealed record ImageField(string Pointer, string Reference);

/// <summary>
/// Finds every image of a workload (admission-policy §2): the pod spec of a Pod, of a controller's template, or of a
/// CronJob's job template; in it <c>containers</c>, <c>initContainers</c>, <c>ephemeralContainers</c> and image
/// volumes (<c>volumes[].image.reference</c>).
/// </summary>
public static class WorkloadImages
{
    public const int MaxImages = 512;

    private static readonly string[] s_containerLists = ["containers", "initContainers", "ephemeralContainers"];

    /// <summary>The plural resource of each kind that carries a pod template, and where its pod spec is.</summary>
    public static string? PodSpecPointer(string kind) => kind switch
    {
        "Pod" => "/spec",
        "Deployment" or "ReplicaSet" or "StatefulSet" or "DaemonSet" or "Job" or "ReplicationController" => "/spec/template/spec",
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        _ => null,
    };

    public static string Resource(string kind) => kind switch
    {
        "Pod" => "pods",
        "Deployment" => "deployments",
        "ReplicaSet" => "replicasets",
        "StatefulSet" => "statefulsets",
        "DaemonSet" => "daemonsets",
        "Job" => "jobs",
        "CronJob" => "cronjobs",
        "ReplicationController" => "replicationcontrollers",
        _ => kind.ToLowerInvariant() + "s",
    };

    /// <summary>The image fields of <paramref name="workload"/>, or null when its kind carries no pod spec.</summary>
    /// <exception cref="FormatException">An image field is not a string, or more than <see cref="MaxImages"/> images.</exception>
    public static IReadOnlyList<ImageField>? Find(string kind, JsonObject workload)
    {
        ArgumentNullException.ThrowIfNull(workload);
        if (PodSpecPointer(kind) is not { } pointer)
        {
            return null;
        }

        JsonNode? spec = workload;
        foreach (var segment in pointer.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            spec = spec?[segment];
        }

        var images = new List<ImageField>();
        if (spec is not JsonObject podSpec)
        {
            return images;
        }

        foreach (var list in s_containerLists)
        {
            if (podSpec[list] is not JsonArray containers)
            {
                continue;
            }

            for (var i = 0; i < containers.Count; i++)
            {
                if (containers[i]?["image"] is { } image)
                {
                    Add(images, $"{pointer}/{list}/{i}/image", image);
                }
            }
        }

        if (podSpec["volumes"] is JsonArray volumes)
        {
            for (var i = 0; i < volumes.Count; i++)
            {
                if (volumes[i]?["image"]?["reference"] is { } reference)
                {
                    Add(images, $"{pointer}/volumes/{i}/image/reference", reference);
                }
            }
        }

        return images;
    }

    /// <summary>The names in <c>imagePullSecrets</c> of the pod spec.</summary>
    public static IReadOnlyList<string> PullSecrets(string kind, JsonObject workload)
    {
        ArgumentNullException.ThrowIfNull(workload);
        JsonNode? spec = workload;
        foreach (var segment in (PodSpecPointer(kind) ?? "/none").Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            spec = spec?[segment];
        }

        return spec?["imagePullSecrets"] is JsonArray secrets
            ? [.. secrets.Select(static s => s?["name"]?.ToString()).OfType<string>().Take(32)]
            : [];
    }

    private static void Add(List<ImageField> images, string pointer, JsonNode value)
    {
        if (images.Count >= MaxImages)
        {
            throw new FormatException($"more than {MaxImages} images in one object");
        }

        if (value is not JsonValue v || !v.TryGetValue<string>(out var text))
        {
            throw new FormatException($"{pointer} is not a string");
        }

        images.Add(new ImageField(pointer, text));
    }
}
