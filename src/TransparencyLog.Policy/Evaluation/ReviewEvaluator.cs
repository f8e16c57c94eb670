using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Policy.Documents;
using TransparencyLog.Policy.Matching;
using TransparencyLog.Sigstore.Oci;

namespace TransparencyLog.Policy.Evaluation;

/// <summary>An AdmissionReview that is not one (wrong apiVersion or kind, no request or uid): answered with 400.</summary>
public sealed class ReviewFormatException(string message) : Exception(message);

/// <summary>Registry access for one review: connections carrying the pod's pull-secret credentials, and a scope naming them for the cache key.</summary>
public sealed record ReviewRegistries(RegistryConnections Connections, string CredentialScope);

/// <summary>The answer to a review and its decision record (one per review: who, what, which policy and authority, verdict, latency).</summary>
public sealed record ReviewDecision(JsonObject Review, JsonObject Record, bool Allowed, string Verdict);

/// <summary>
/// Answers Kubernetes <c>AdmissionReview</c> v1 requests (admission-policy §1, §7): <c>/validate</c> judges every
/// image of the workload and requires digests; <c>/mutate</c> pins tags to digests with a JSONPatch. Both always
/// answer, within <paramref name="deadline"/>: work that does not finish is a failure of the policies concerned.
/// </summary>
public sealed class ReviewEvaluator(
    PolicyEvaluator evaluator,
    Func<string?, IReadOnlyList<string>, ReviewRegistries> registries,
    TimeProvider time,
    TimeSpan deadline)
{
    public const int MaxMessageLength = 4096;
    public const int MaxJsonDepth = 128;

    /// <summary>
    /// The body of a review as JSON. UTF-8 is checked first: System.Text.Json defers string decoding until a value is
    /// read, so invalid UTF-8 inside a string would otherwise surface later as an InvalidOperationException.
    /// </summary>
    /// <exception cref="ReviewFormatException">Not UTF-8, not JSON, or nested deeper than <see cref="MaxJsonDepth"/>.</exception>
    public static JsonNode? ParseReview(ReadOnlySpan<byte> body)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            throw new ReviewFormatException("the body is not UTF-8");
        }

        try
        {
            // A repeated member would otherwise throw ArgumentException only when its object is first read (fuzzing).
            return JsonNode.Parse(body, documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = MaxJsonDepth, AllowDuplicateProperties = false });
        }
        catch (System.Text.Json.JsonException)
        {
            throw new ReviewFormatException("the body is not JSON");
        }
    }
    public const int MaxWarnings = 20;
    public const int MaxWarningLength = 256;

    /// <summary>Validates the review's shape and judges it.</summary>
    /// <exception cref="ReviewFormatException">Not an AdmissionReview v1 request.</exception>
    public async Task<ReviewDecision> EvaluateAsync(PolicySet set, JsonNode? body, bool mutate, bool requireDigest, CancellationToken cancellationToken)
    {
        try
        {
            return await EvaluateCoreAsync(set, body, mutate, requireDigest, cancellationToken);
        }
        catch (InvalidOperationException ex) when (JsonNodeTypeError.Is(ex))
        {
            // JsonNode's indexers throw this when a field has another JSON type than the review's schema gives it
            // (e.g. a string where an object belongs): the review is malformed, not the webhook.
            throw new ReviewFormatException("a field of the review has the wrong JSON type");
        }
    }

    private async Task<ReviewDecision> EvaluateCoreAsync(PolicySet set, JsonNode? body, bool mutate, bool requireDigest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(set);
        var started = time.GetTimestamp();
        var review = body as JsonObject ?? throw new ReviewFormatException("the body is not a JSON object");
        if (review["apiVersion"]?.ToString() != "admission.k8s.io/v1" || review["kind"]?.ToString() != "AdmissionReview")
        {
            throw new ReviewFormatException("not an admission.k8s.io/v1 AdmissionReview");
        }

        var request = review["request"] as JsonObject ?? throw new ReviewFormatException("the AdmissionReview has no request");
        var uid = Text(request["uid"]) ?? throw new ReviewFormatException("request.uid is required");
        var kind = Text(request["kind"]?["kind"]) ?? string.Empty;
        var operation = Text(request["operation"]) ?? string.Empty;
        var record = new JsonObject
        {
            ["ts"] = time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
            ["reviewUID"] = uid,
            ["endpoint"] = mutate ? "mutate" : "validate",
            ["dryRun"] = request["dryRun"]?.GetValueKind() == System.Text.Json.JsonValueKind.True,
            ["operation"] = operation,
            ["kind"] = $"{Text(request["kind"]?["group"])}/{Text(request["kind"]?["version"])}/{kind}",
            ["namespace"] = Text(request["namespace"]),
            ["name"] = Text(request["name"]) ?? Text(request["object"]?["metadata"]?["name"]) ?? Text(request["object"]?["metadata"]?["generateName"]),
            ["user"] = Text(request["userInfo"]?["username"]),
            ["policyGeneration"] = set.PolicyGeneration,
            ["trustRootGeneration"] = set.TrustRootGeneration,
        };

        var skip = SkipReason(request, operation, kind);
        if (skip is not null)
        {
            return Finish(uid, record, started, true, "skipped", [], [], [], null, skip);
        }

        var workload = (JsonObject)request["object"]!;
        IReadOnlyList<ImageField> fields;
        try
        {
            fields = WorkloadImages.Find(kind, workload) ?? [];
        }
        catch (FormatException ex)
        {
            throw new ReviewFormatException(ex.Message);
        }

        var reviewRegistries = registries(Text(request["namespace"]), WorkloadImages.PullSecrets(kind, workload));
        using var deadlineSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadlineSource.CancelAfter(deadline);
        return mutate
            ? await MutateAsync(uid, record, started, fields, reviewRegistries, deadlineSource.Token)
            : await ValidateAsync(set, uid, record, started, kind, workload, fields, reviewRegistries, requireDigest, deadlineSource.Token);
    }

    /// <summary>What policy-controller never checks: deletes, connects, subresources other than ephemeral containers, objects being deleted, kinds without pods.</summary>
    private static string? SkipReason(JsonObject request, string operation, string kind)
    {
        if (operation is not ("CREATE" or "UPDATE"))
        {
            return $"operation {operation} is not checked";
        }

        var subResource = Text(request["subResource"]);
        if (!string.IsNullOrEmpty(subResource) && subResource != "ephemeralcontainers")
        {
            return $"subresource {subResource} is not checked";
        }

        if (request["object"] is not JsonObject workload)
        {
            return "no object";
        }

        if (workload["metadata"]?["deletionTimestamp"] is not null)
        {
            return "the object is being deleted";
        }

        return WorkloadImages.PodSpecPointer(kind) is null ? $"kind {kind} carries no pod template" : null;
    }

    private async Task<ReviewDecision> ValidateAsync(
        PolicySet set, string uid, JsonObject record, long started, string kind, JsonObject workload, IReadOnlyList<ImageField> fields,
        ReviewRegistries reviewRegistries, bool requireDigest, CancellationToken cancellationToken)
    {
        var labels = (workload["metadata"]?["labels"] as JsonObject ?? [])
            .ToDictionary(static l => l.Key, static l => l.Value?.ToString() ?? string.Empty, StringComparer.Ordinal);
        var outcomes = new List<ImageOutcome>();
        foreach (var field in fields)
        {
            outcomes.Add(await JudgeFieldAsync(set, field, kind, labels, reviewRegistries, requireDigest, cancellationToken));
        }

        var errors = outcomes.SelectMany(static o => o.Errors).ToList();
        var warnings = outcomes.SelectMany(static o => o.Warnings).ToList();
        var allowed = errors.Count == 0;
        return Finish(uid, record, started, allowed, allowed ? (warnings.Count > 0 ? "allowed-with-warnings" : "allowed") : "denied", outcomes, errors, warnings, null, null);
    }

    private async Task<ImageOutcome> JudgeFieldAsync(
        PolicySet set, ImageField field, string kind, Dictionary<string, string> labels, ReviewRegistries reviewRegistries, bool requireDigest, CancellationToken cancellationToken)
    {
        ImageReference image;
        try
        {
            image = ImageReference.Parse(field.Reference);
        }
        catch (OciException ex)
        {
            return new ImageOutcome(field.Pointer, field.Reference, null, false, [$"{field.Pointer}: {ex.Message}"], [], []);
        }

        if (image.Digest is null)
        {
            if (requireDigest)
            {
                return new ImageOutcome(
                    field.Pointer, ImageNames.Normalized(image), null, false,
                    [$"{field.Pointer}: {ImageNames.Normalized(image)} must be an image digest (pin it, e.g. through the /mutate webhook)"], [], []);
            }

            try
            {
                var manifest = await ImageResolver.ResolveAsync(reviewRegistries.Connections.For(image), image, cancellationToken);
                image = image.WithDigest(manifest.Digest);
            }
            catch (Exception ex) when (ex is OciException or OperationCanceledException)
            {
                // Resolution failed: the policies still decide (a static pass admits, anything else fails as unverifiable).
                var unresolved = await evaluator.EvaluateAsync(set, new ImageSubject(field.Pointer, image, WorkloadImages.Resource(kind), labels), reviewRegistries.Connections, reviewRegistries.CredentialScope, cancellationToken);
                return unresolved.Allowed ? unresolved : unresolved with { Errors = [.. unresolved.Errors, $"{field.Pointer}: cannot resolve the tag: {ex.Message}"] };
            }
        }

        return await evaluator.EvaluateAsync(set, new ImageSubject(field.Pointer, image, WorkloadImages.Resource(kind), labels), reviewRegistries.Connections, reviewRegistries.CredentialScope, cancellationToken);
    }

    private async Task<ReviewDecision> MutateAsync(
        string uid, JsonObject record, long started, IReadOnlyList<ImageField> fields, ReviewRegistries reviewRegistries, CancellationToken cancellationToken)
    {
        var patch = new JsonArray();
        var warnings = new List<string>();
        var outcomes = new List<ImageOutcome>();
        foreach (var field in fields)
        {
            try
            {
                var image = ImageReference.Parse(field.Reference);
                if (image.Digest is not null)
                {
                    continue;
                }

                var manifest = await ImageResolver.ResolveAsync(reviewRegistries.Connections.For(image), image, cancellationToken);
                // Keep what the user wrote and add the digest (repo:tag@digest), so GitOps diffs stay readable.
                var pinned = field.Reference + "@" + manifest.Digest;
                patch.Add((JsonNode)new JsonObject { ["op"] = "replace", ["path"] = field.Pointer, ["value"] = pinned });
                outcomes.Add(new ImageOutcome(field.Pointer, ImageNames.Normalized(image), manifest.Digest, true, [], [], []));
            }
            catch (Exception ex) when (ex is OciException or OperationCanceledException)
            {
                // Not pinned: the validating webhook refuses the unpinned image, so failing open here stays closed overall.
                warnings.Add($"{field.Pointer}: not pinned to a digest: {(ex is OciException ? ex.Message : "the deadline passed")}");
            }
        }

        return Finish(uid, record, started, true, patch.Count > 0 ? "patched" : "unchanged", outcomes, [], warnings, patch.Count > 0 ? patch : null, null);
    }

    private ReviewDecision Finish(
        string uid, JsonObject record, long started, bool allowed, string verdict, IReadOnlyList<ImageOutcome> outcomes,
        IReadOnlyList<string> errors, IReadOnlyList<string> warnings, JsonArray? patch, string? skipped)
    {
        var latency = time.GetElapsedTime(started);
        record["verdict"] = verdict;
        record["allowed"] = allowed;
        record["skipped"] = skipped;
        record["images"] = new JsonArray([.. outcomes.Select(static o => (JsonNode?)o.ToJson())]);
        record["errors"] = new JsonArray([.. errors.Select(static e => (JsonNode?)e)]);
        record["warnings"] = new JsonArray([.. warnings.Select(static e => (JsonNode?)e)]);
        record["latencyMs"] = Math.Round(latency.TotalMilliseconds, 3);

        var response = new JsonObject
        {
            ["uid"] = uid,
            ["allowed"] = allowed,
            ["auditAnnotations"] = new JsonObject
            {
                ["image-policy/decision"] = verdict,
                ["image-policy/digests"] = string.Join(",", outcomes.Where(static o => o.Digest is not null).Select(static o => $"{o.Image.Split('@')[0]}@{o.Digest}").Distinct(StringComparer.Ordinal)),
                ["image-policy/policies"] = string.Join(",", outcomes.SelectMany(static o => o.Policies).Select(static p => $"{p.Policy}:{(p.Passed ? "pass" : "fail")}{(p.Authority is null ? string.Empty : "/" + p.Authority)}").Distinct(StringComparer.Ordinal)),
                ["image-policy/record"] = RecordAnnotation(record, outcomes),
            },
        };
        if (!allowed)
        {
            var message = string.Join("\n", errors);
            response["status"] = new JsonObject
            {
                ["code"] = 403,
                ["reason"] = "Forbidden",
                ["message"] = message.Length > MaxMessageLength ? message[..MaxMessageLength] + "…" : message,
            };
        }

        if (warnings.Count > 0)
        {
            response["warnings"] = new JsonArray([.. warnings.Take(MaxWarnings).Select(static w => (JsonNode?)(w.Length > MaxWarningLength ? w[..(MaxWarningLength - 1)] + "…" : w))]);
        }

        if (patch is not null)
        {
            response["patchType"] = "JSONPatch";
            response["patch"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(patch.ToJsonString()));
        }

        var answer = new JsonObject { ["apiVersion"] = "admission.k8s.io/v1", ["kind"] = "AdmissionReview", ["response"] = response };
        return new ReviewDecision(answer, record, allowed, verdict);
    }

    /// <summary>The longest <c>image-policy/record</c> audit annotation; beyond it the per-image part is left out.</summary>
    public const int MaxRecordAnnotationLength = 8192;

    /// <summary>
    /// The decision record as an audit annotation (the API server's audit log keeps it with the request): who, what,
    /// which policy and authority matched for each image, verdict and latency. The reasons stay in the status message
    /// and warnings, the full record in the webhook's log.
    /// </summary>
    private static string RecordAnnotation(JsonObject record, IReadOnlyList<ImageOutcome> outcomes)
    {
        var summary = new JsonObject();
        foreach (var field in s_annotatedFields)
        {
            summary[field] = record[field]?.DeepClone();
        }

        summary["images"] = new JsonArray([.. outcomes.Select(static o => (JsonNode?)new JsonObject
        {
            ["pointer"] = o.Pointer,
            ["image"] = o.Image,
            ["digest"] = o.Digest,
            ["policies"] = new JsonArray([.. o.Policies.Select(static p => (JsonNode?)new JsonObject
            {
                ["policy"] = p.Policy,
                ["mode"] = p.Mode.ToString().ToLowerInvariant(),
                ["passed"] = p.Passed,
                ["authority"] = p.Authority,
                ["signer"] = p.Signer,
            })]),
        })]);
        var text = summary.ToJsonString();
        if (text.Length <= MaxRecordAnnotationLength)
        {
            return text;
        }

        summary.Remove("images");
        summary["imagesOmitted"] = outcomes.Count;
        return summary.ToJsonString();
    }

    private static readonly string[] s_annotatedFields =
        ["reviewUID", "endpoint", "dryRun", "operation", "kind", "namespace", "name", "user", "policyGeneration", "trustRootGeneration", "verdict", "latencyMs"];

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
