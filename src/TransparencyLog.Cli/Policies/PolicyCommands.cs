using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Images;
using TransparencyLog.Policy.Documents;
using TransparencyLog.Policy.Evaluation;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Cli.Policies;

/// <summary>
/// <c>tlog policy test</c>: the admission webhook's decision without a cluster, from the same engine
/// (admission-policy §7). Exit 0 admitted, 1 denied, 2 bad usage or a policy that does not load.
/// </summary>
internal static class PolicyCommands
{
    public const int MaxReviewBytes = 3 * 1024 * 1024;

    public static Command Create(CliHost host)
    {
        var policy = new Command("policy", "Admission policies (sigstore policy-controller ClusterImagePolicy and TrustRoot YAML).");
        policy.Subcommands.Add(Test(host));
        return policy;
    }

    private static Command Test(CliHost host)
    {
        var image = new Argument<string?>("IMAGE") { Description = "The image to judge, by tag or digest (a tag is resolved in the registry).", Arity = ArgumentArity.ZeroOrOne };
        var policies = new Option<string[]>("--policy", "-p")
        {
            Description = "A policy file (YAML, several documents allowed) or a directory of *.yaml/*.yml files; repeatable.",
            Required = true,
            HelpName = "FILE",
        };
        var review = new Option<string?>("--review") { Description = "Replay a saved AdmissionReview (JSON) and print the webhook's /validate answer.", HelpName = "FILE" };
        var trustedRoot = new Option<string?>("--trusted-root")
        {
            Description = "trusted_root.json for authorities without a trustRootRef [env: TLOG_TRUSTED_ROOT, SIGSTORE_ROOT_FILE].",
            HelpName = "PATH",
        };
        var registry = new RegistryFlags();
        var command = new Command(
            "test",
            "Evaluate admission policies against an image (or a saved AdmissionReview) exactly as the admission webhook would, " +
            "and print the decision. Exit 0 when admitted, 1 when denied, 2 for bad usage or a policy that does not load.\n\n" +
            "Examples:\n" +
            "  tlog policy test --policy policy.yaml 127.0.0.1:5100/demo/hello:1.0\n" +
            "  tlog policy test --policy policies/ --review review.json -o json");
        command.Arguments.Add(image);
        command.Options.Add(policies);
        command.Options.Add(review);
        command.Options.Add(trustedRoot);
        registry.AddTo(command);

        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var imageText = parseResult.GetValue(image);
            var reviewPath = parseResult.GetValue(review);
            if ((imageText is null) == (reviewPath is null))
            {
                throw new CliException(ExitCodes.Usage, "give an IMAGE or --review FILE (exactly one)");
            }

            var rootPath = parseResult.GetValue(trustedRoot) ?? host.Context.Env("TLOG_TRUSTED_ROOT") ?? host.Context.Env("SIGSTORE_ROOT_FILE");
            var root = rootPath is null ? TrustedRoot.Empty : CommandActions.LoadTrustedRoot(rootPath);
            var set = await LoadPoliciesAsync(parseResult.GetRequiredValue(policies), root, host, cancellationToken);
            var connections = registry.Resolve(parseResult, host);
            var evaluator = new ReviewEvaluator(
                new PolicyEvaluator(root), (_, _) => new ReviewRegistries(connections, "cli"), host.Context.Time, TimeSpan.FromMinutes(2));

            var body = reviewPath is not null ? ReadReview(reviewPath) : SyntheticReview(imageText!);
            ReviewDecision decision;
            try
            {
                decision = await evaluator.EvaluateAsync(set, body, mutate: false, requireDigest: reviewPath is not null, cancellationToken);
            }
            catch (ReviewFormatException ex)
            {
                throw new CliException(ExitCodes.Usage, $"--review '{reviewPath}' is not an AdmissionReview: {ex.Message}", "INVALID_REVIEW");
            }

            Report(reporter, decision, reviewPath is not null);
            return decision.Allowed ? ExitCodes.Success : ExitCodes.Error;
        });
        return command;
    }

    private static async Task<PolicySet> LoadPoliciesAsync(string[] paths, TrustedRoot root, CliHost host, CancellationToken cancellationToken)
    {
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                files.AddRange(Directory.EnumerateFiles(path).Where(static f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
            }
            else if (File.Exists(path))
            {
                files.Add(path);
            }
            else
            {
                throw new CliException(ExitCodes.Usage, $"--policy '{path}' does not exist");
            }
        }

        try
        {
            var set = PolicySet.LoadFiles(files);
            var tufCache = Directory.CreateTempSubdirectory("tlog-policy-tuf-").FullName;
            try
            {
                set = await TufTrustRoots.ResolveAsync(set, host.Context.Http, tufCache, host.Context.Time.GetUtcNow(), cancellationToken);
            }
            finally
            {
                Directory.Delete(tufCache, recursive: true);
            }

            set.CheckTlogUrls(root);
            return set;
        }
        catch (PolicyLoadException ex)
        {
            throw new CliException(ExitCodes.Usage, $"the policy does not load: {ex.Message}", "POLICY_INVALID");
        }
    }

    private static JsonNode? ReadReview(string path)
    {
        var bytes = CommandActions.ReadInputBytes(path, "review file");
        if (bytes.Length > MaxReviewBytes)
        {
            throw new CliException(ExitCodes.Usage, $"--review '{path}' is larger than {MaxReviewBytes} bytes");
        }

        try
        {
            return JsonNode.Parse(bytes);
        }
        catch (JsonException)
        {
            throw new CliException(ExitCodes.Usage, $"--review '{path}' is not JSON", "INVALID_REVIEW");
        }
    }

    /// <summary>An IMAGE on the command line is judged as the only container of a Pod.</summary>
    private static JsonObject SyntheticReview(string image) => new()
    {
        ["apiVersion"] = "admission.k8s.io/v1",
        ["kind"] = "AdmissionReview",
        ["request"] = new JsonObject
        {
            ["uid"] = "tlog-policy-test",
            ["kind"] = new JsonObject { ["group"] = string.Empty, ["version"] = "v1", ["kind"] = "Pod" },
            ["operation"] = "CREATE",
            ["namespace"] = "default",
            ["object"] = new JsonObject
            {
                ["apiVersion"] = "v1",
                ["kind"] = "Pod",
                ["metadata"] = new JsonObject { ["name"] = "policy-test" },
                ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "image", ["image"] = image }) },
            },
        },
    };

    private static void Report(Reporter reporter, ReviewDecision decision, bool replay)
    {
        var record = decision.Record;
        foreach (var image in record["images"] as JsonArray ?? [])
        {
            reporter.Line($"{image?["image"]}{(image?["digest"] is { } d && !(image?["image"]?.ToString() ?? string.Empty).Contains('@', StringComparison.Ordinal) ? "@" + d : string.Empty)}: {((bool?)image?["allowed"] == true ? "admitted" : "denied")}");
            foreach (var policy in image?["policies"] as JsonArray ?? [])
            {
                reporter.Line($"  policy {policy?["policy"]} ({policy?["mode"]}, {policy?["level"]}): {((bool?)policy?["passed"] == true ? $"passed via {policy?["authority"] ?? "-"}{(policy?["signer"] is { } s ? $" (signed by {s})" : string.Empty)}" : "failed")}");
            }
        }

        foreach (var error in record["errors"] as JsonArray ?? [])
        {
            reporter.Line($"error: {error}");
        }

        foreach (var warning in record["warnings"] as JsonArray ?? [])
        {
            reporter.Line($"warning: {warning}");
        }

        reporter.Line(decision.Allowed ? "ADMITTED" : "DENIED");
        var result = new JsonObject
        {
            ["decision"] = decision.Allowed ? "allowed" : "denied",
            ["errors"] = record["errors"]?.DeepClone(),
            ["warnings"] = record["warnings"]?.DeepClone(),
            ["records"] = new JsonArray(record.DeepClone()),
        };
        if (replay)
        {
            result["review"] = decision.Review.DeepClone();
        }

        reporter.Result(result);
    }
}
