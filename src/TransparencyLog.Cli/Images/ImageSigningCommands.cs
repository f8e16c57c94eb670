using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Http;
using TransparencyLog.Sigstore.Oci;
using TransparencyLog.Cli.Signing;
using TransparencyLog.Sigstore.Bundles;

namespace TransparencyLog.Cli.Images;

/// <summary>
/// <c>tlog sign IMAGE...</c> and <c>tlog attest IMAGE</c>: sign what a registry holds, by digest, and store the result
/// where cosign, sigstore-go and containers/image look (oci-signing §0).
/// </summary>
internal static class ImageSigningCommands
{
    private const int MaxImages = 10_000;

    public static Command Sign(CliHost host)
    {
        var images = new Argument<string[]>("IMAGE") { Description = "Images or OCI artifacts to sign, by tag or digest (REGISTRY/REPO[:TAG][@sha256:HEX]).", Arity = ArgumentArity.OneOrMore };
        var flags = new ImageSigningFlags(attestation: false);
        var command = new Command(
            "sign",
            "Sign container images or any OCI artifact in a registry. A tag is resolved to its digest once and the digest is " +
            "signed. Stored as a sigstore bundle referrer (cosign v3) and in the sha256-HEX.sig tag (cosign legacy, read by " +
            "podman and skopeo), by default both. Several images in one run share one certificate.\n\n" +
            "Examples:\n" +
            "  tlog sign 127.0.0.1:5100/app@sha256:... --identity-token $JWT\n" +
            "  tlog sign 127.0.0.1:5100/app:1.0 --key cosign.key -a build=42\n" +
            "  tlog sign 127.0.0.1:5100/multiarch:1.0 --recursive --dev-issuer http://127.0.0.1:5556");
        command.Arguments.Add(images);
        flags.AddTo(command);
        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var references = parseResult.GetRequiredValue(images);
            if (references.Length > MaxImages)
            {
                throw new CliException(ExitCodes.Usage, $"at most {MaxImages} images per run");
            }

            var run = flags.Resolve(parseResult, host, reporter);
            var targets = await run.ResolveTargetsAsync(references, cancellationToken);
            var outcomes = await run.SignAllAsync(targets, null, cancellationToken);
            return Finish(reporter, outcomes, run.RegistryRoundTrips);
        });
        return command;
    }

    public static Command Attest(CliHost host)
    {
        var image = new Argument<string>("IMAGE") { Description = "The image or OCI artifact the attestation is about (its digest becomes the subject)." };
        var predicate = new Option<string>("--predicate") { Description = "Path to the predicate JSON.", Required = true, HelpName = "FILE" };
        var type = new Option<string>("--type")
        {
            Description = "Predicate type: slsaprovenance, slsaprovenance1, spdxjson, cyclonedx, vuln, openvex, custom, or a URI.",
            DefaultValueFactory = static _ => "custom",
            HelpName = "TYPE",
        };
        var flags = new ImageSigningFlags(attestation: true);
        var command = new Command(
            ImageCommandRouting.AttestImage,
            "Attest to an image (`tlog attest IMAGE` lands here when IMAGE names a registry image, not a file): an in-toto statement (subject: the image digest) signed as DSSE, logged, and stored as a " +
            "bundle referrer and in the sha256-HEX.att tag.\n\n" +
            "Example:\n" +
            "  tlog attest 127.0.0.1:5100/app@sha256:... --predicate provenance.json --type slsaprovenance1 --key cosign.key");
        command.Arguments.Add(image);
        command.Options.Add(predicate);
        command.Options.Add(type);
        flags.AddTo(command);
        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var predicateType = CosignFormats.PredicateType(parseResult.GetRequiredValue(type));
            var predicatePath = parseResult.GetRequiredValue(predicate);
            var predicateText = CommandActions.ReadInputFile(predicatePath, "predicate file");
            if (predicateText.Length > Bundle.MaxBundleBytes / 16)
            {
                throw new CliException(ExitCodes.Usage, $"the predicate '{predicatePath}' is larger than {Bundle.MaxBundleBytes / 16} bytes");
            }

            JsonNode predicateJson;
            try
            {
                predicateJson = JsonNode.Parse(predicateText) ?? throw new CliException(ExitCodes.Usage, "the predicate is JSON null");
            }
            catch (JsonException ex)
            {
                throw new CliException(ExitCodes.Usage, $"the predicate '{predicatePath}' is not valid JSON: {ex.Message}");
            }

            var run = flags.Resolve(parseResult, host, reporter);
            var targets = await run.ResolveTargetsAsync([parseResult.GetRequiredValue(image)], cancellationToken);
            var outcomes = await run.SignAllAsync(targets, (predicateType, predicateJson), cancellationToken);
            return Finish(reporter, outcomes, run.RegistryRoundTrips);
        });
        return command;
    }

    /// <summary>
    /// Prints each image's lines in the order the images were named, then the result. When some images failed, the
    /// others stay signed and listed; each failure is named on stderr and under <c>failed</c>, and the exit code is the
    /// failures' own (or the generic error when they differ).
    /// </summary>
    private static int Finish(Reporter reporter, IReadOnlyList<SigningOutcome> outcomes, int registryRoundTrips)
    {
        foreach (var line in outcomes.SelectMany(static o => o.Lines))
        {
            reporter.Line(line);
        }

        var failures = outcomes.Where(static o => o.Failure is not null).ToList();
        foreach (var failed in failures)
        {
            var (_, message, code) = failed.Failure!.Value;
            reporter.Note(code is null ? $"Error: {failed.Image}: {message}" : $"Error: {code}: {failed.Image}: {message}");
        }

        var result = new JsonObject
        {
            ["ok"] = failures.Count == 0,
            ["signed"] = new JsonArray([.. outcomes.Where(static o => o.Result is not null).Select(static o => (JsonNode)o.Result!)]),
            ["registryRoundTrips"] = registryRoundTrips,
        };
        if (failures.Count == 0)
        {
            reporter.Result(result);
            return ExitCodes.Success;
        }

        var exitCodes = failures.Select(static f => f.Failure!.Value.ExitCode).Distinct().ToList();
        var exitCode = exitCodes.Count == 1 ? exitCodes[0] : ExitCodes.Error;
        result["exitCode"] = exitCode;
        result["failed"] = new JsonArray([.. failures.Select(static f => (JsonNode)new JsonObject
        {
            ["image"] = f.Image,
            ["exitCode"] = f.Failure!.Value.ExitCode,
            ["code"] = f.Failure.Value.Code,
            ["error"] = f.Failure.Value.Message,
        })]);
        result["error"] = $"{failures.Count} of {outcomes.Count} images were not signed";
        reporter.Result(result);
        return exitCode;
    }
}

/// <summary>Which storage forms to write.</summary>
[Flags]
internal enum SignatureFormats
{
    Bundle = 1,
    Legacy = 2,
    Both = Bundle | Legacy,
}

/// <summary>The flags of <c>sign</c> and <c>attest</c> on images (on top of the blob signing flags).</summary>
internal sealed class ImageSigningFlags(bool attestation)
{
    public SigningOptions Signing { get; } = new();

    public RegistryFlags Registry { get; } = new();

    public SignatureRepositoryFlag SignatureRepository { get; } = new();

    public Option<string[]> Annotations { get; } = new("--annotations", "-a")
    {
        Description = "KEY=VALUE annotations signed with the image (simple-signing optional, statement subject annotations).",
        HelpName = "KEY=VALUE",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<bool> Recursive { get; } = new("--recursive") { Description = "For an index: sign the index and every manifest it lists." };

    public Option<int> Parallel { get; } = new Option<int>("--parallel")
    {
        Description = "How many images to sign at once (1 to 32, default 16): their log entries, timestamps and registry writes overlap.",
        DefaultValueFactory = static _ => ImageSigningRun.DefaultParallel,
        HelpName = "N",
    };

    public Option<bool> Upload { get; } = new("--upload")
    {
        Description = "Store the signature in the registry (default true); --upload=false only writes --output-* files and --bundle.",
        DefaultValueFactory = static _ => true,
    };

    public Option<string?> OutputSignature { get; } = new("--output-signature") { Description = "Write the base64 signature (over the simple-signing payload) here.", HelpName = "PATH" };

    public Option<string?> OutputCertificate { get; } = new("--output-certificate") { Description = "Write the signing certificate (PEM) here.", HelpName = "PATH" };

    public Option<string?> OutputPayload { get; } = new("--output-payload") { Description = "Write the signed simple-signing payload here.", HelpName = "PATH" };

    public Option<string> Format { get; } = new Option<string>("--format")
    {
        Description = "Where to store: bundle (OCI 1.1 referrer, cosign v3), legacy (sha256-HEX.sig/.att tag, podman/skopeo), or both.",
        DefaultValueFactory = static _ => "both",
        HelpName = "bundle|legacy|both",
    }.AcceptOnlyFromAmong("bundle", "legacy", "both");

    public void AddTo(Command command)
    {
        Signing.AddTo(command);
        Registry.AddTo(command);
        CommandActions.AddOptions(command, Annotations, Recursive, Parallel, Upload, OutputSignature, OutputCertificate, OutputPayload, Format, SignatureRepository.Option);
    }

    public ImageSigningRun Resolve(ParseResult parseResult, CliHost host, Reporter reporter)
    {
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in parseResult.GetValue(Annotations) ?? [])
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new CliException(ExitCodes.Usage, $"--annotations '{pair}' is not KEY=VALUE");
            }

            annotations[pair[..eq]] = pair[(eq + 1)..];
        }

        var format = parseResult.GetValue(Format) switch
        {
            "bundle" => SignatureFormats.Bundle,
            "legacy" => SignatureFormats.Legacy,
            _ => SignatureFormats.Both,
        };
        var plan = Signing.Resolve(parseResult, host);
        if (plan.RekorVersion == 2 && format.HasFlag(SignatureFormats.Legacy))
        {
            throw new CliException(ExitCodes.Usage, "the legacy .sig/.att form needs a Rekor v1 signed entry timestamp: use --format bundle with --rekor-version 2");
        }

        if (plan.RekorUrls.Count > 1 && format.HasFlag(SignatureFormats.Legacy))
        {
            // cosign's bundle annotation holds one log entry; writing only the first would hide the others.
            throw new CliException(
                ExitCodes.Usage,
                $"the signing config selects {plan.RekorUrls.Count} transparency logs, and the legacy .sig/.att form carries one log entry: use --format bundle (or --rekor-url)");
        }

        var parallel = parseResult.GetValue(Parallel);
        if (parallel is < 1 or > ImageSigningRun.MaxParallel)
        {
            throw new CliException(ExitCodes.Usage, $"--parallel must be 1 to {ImageSigningRun.MaxParallel}");
        }

        var upload = parseResult.GetValue(Upload);
        var outputs = new SigningOutputs(
            parseResult.GetValue(OutputSignature), parseResult.GetValue(OutputCertificate), parseResult.GetValue(OutputPayload), parseResult.GetValue(Signing.Bundle));
        if (!upload && outputs.IsEmpty)
        {
            throw new CliException(ExitCodes.Usage, "--upload=false stores nothing in the registry: name at least one of --output-signature, --output-certificate, --output-payload or --bundle");
        }

        return new ImageSigningRun(
            host, reporter, plan, Registry.Resolve(parseResult, host), annotations, parseResult.GetValue(Recursive), upload, format, outputs, attestation,
            parallel, SignatureRepository.Resolve(parseResult, host));
    }
}

/// <summary>Files <c>--upload=false</c> (or any run) writes for a single signed image.</summary>
internal sealed record SigningOutputs(string? Signature, string? Certificate, string? Payload, string? Bundle)
{
    public bool IsEmpty => Signature is null && Certificate is null && Payload is null && Bundle is null;
}

/// <summary>An image resolved to a digest, with the manifest exactly as served.</summary>
internal sealed record SigningTarget(ImageReference Image, OciManifest Manifest);

/// <summary>
/// What signing one image came to: its result (null when it failed) or its failure, and the lines to print for it.
/// </summary>
internal sealed record SigningOutcome(string Image, JsonObject? Result, (int ExitCode, string Message, string? Code)? Failure, IReadOnlyList<string> Lines);

/// <summary>
/// One <c>sign</c>/<c>attest</c> invocation: resolve every image, obtain one signer, sign the digests a few at a time.
/// Signing an image waits mostly on others (the log's commit, the TSA, registry round trips), so images overlap; what
/// is printed keeps the order the images were named in, whatever order they finish in.
/// </summary>
internal sealed class ImageSigningRun(
    CliHost host,
    Reporter reporter,
    SigningPlan plan,
    RegistryConnections registries,
    IReadOnlyDictionary<string, string> annotations,
    bool recursive,
    bool upload,
    SignatureFormats format,
    SigningOutputs outputs,
    bool attestation,
    int parallel = 1,
    ImageReference? signatureRepository = null)
{
    public const int MaxParallel = 32;

    /// <summary>
    /// An image's signing is mostly waiting (log commit, TSA, 13 registry round trips), and at 8 at a time two cores
    /// stayed about 30 % idle on a quiet machine: 16 keeps them busy (docs/benchmarks.md, issue 8).
    /// </summary>
    public const int DefaultParallel = 16;

    private readonly Lock _progress = new();

    /// <summary>Registry requests sent so far by this run (resolving, signing, storing): the figure the benchmarks print.</summary>
    public int RegistryRoundTrips => registries.RoundTrips;

    public async Task<IReadOnlyList<SigningTarget>> ResolveTargetsAsync(IReadOnlyList<string> references, CancellationToken cancellationToken)
    {
        // Parse all first: a typo fails the run before any registry is asked anything.
        var images = references.Select(ImageReference.Parse).ToList();
        var resolved = await InOrderAsync(images, ResolveOneAsync, cancellationToken);

        // The same digest named twice (a tag and its digest, or an index listing a manifest twice) is signed once.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var targets = resolved.SelectMany(static t => t).Where(t => seen.Add(t.Image.ToString())).ToList();
        if (!upload && targets.Count != 1)
        {
            throw new CliException(ExitCodes.Usage, "--upload=false writes files for one image; it resolved to several (drop --recursive or sign one image)");
        }

        return targets;
    }

    private async Task<IReadOnlyList<SigningTarget>> ResolveOneAsync(ImageReference image, CancellationToken cancellationToken)
    {
        var client = registries.For(image);
        var manifest = await ImageResolver.ResolveAsync(client, image, cancellationToken);
        if (image.Digest is null)
        {
            Progress(() => reporter.Note($"WARNING: {image} is a tag; signing the digest it resolves to now: {image.RepositoryName}@{manifest.Digest}"));
        }

        var targets = new List<SigningTarget> { new(image with { Tag = null, Digest = manifest.Digest }, manifest) };
        if (recursive && manifest.IsIndex)
        {
            var children = await InOrderAsync(
                manifest.Children,
                async (child, token) => await client.GetManifestAsync(image.Repository, child.Digest, token)
                    ?? throw new CliException(ExitCodes.ImageNotFound, $"{image.RepositoryName}@{child.Digest}, listed by the index, does not exist", "NOT_FOUND"),
                cancellationToken);
            targets.AddRange(children.Select(child => new SigningTarget(image with { Tag = null, Digest = child.Digest }, child)));
        }

        return targets;
    }

    public async Task<IReadOnlyList<SigningOutcome>> SignAllAsync(IReadOnlyList<SigningTarget> targets, (string Type, JsonNode Predicate)? predicate, CancellationToken cancellationToken)
    {
        return await reporter.StepsAsync(attestation ? "Attesting" : "Signing", async step =>
        {
            void Step(string text) => Progress(() => step(text));
            using var signer = await plan.ObtainSignerAsync(host, Step, cancellationToken);
            return await InOrderAsync(targets, (target, token) => SignOneAsync(signer, target, predicate, Step, token), cancellationToken);
        });
    }

    /// <summary>Signs one image; an expected failure becomes its outcome, so the other images' results are kept.</summary>
    private async Task<SigningOutcome> SignOneAsync(
        SigningIdentity signer, SigningTarget target, (string Type, JsonNode Predicate)? predicate, Action<string> step, CancellationToken cancellationToken)
    {
        var image = target.Image;
        var digest = image.Digest ?? throw new InvalidOperationException("unresolved target");
        var name = $"{image.RepositoryName}@{digest}";
        var store = new SignatureStore(registries.For(image), host.Context.Time);
        var result = new JsonObject { ["image"] = name };
        var legacyLines = new List<string>();
        var bundleLines = new List<string>();
        step($"Signing {name}");
        try
        {
            // The two forms sign different messages and write different manifests: nothing orders one after the other.
            var legacy = format.HasFlag(SignatureFormats.Legacy) ? StoreLegacyAsync(signer, target, predicate, step, legacyLines, cancellationToken) : Task.FromResult<string?>(null);
            var bundle = format.HasFlag(SignatureFormats.Bundle) ? StoreBundleAsync(signer, target, predicate, step, bundleLines, cancellationToken) : Task.FromResult<(string? Referrer, long LogIndex)?>(null);
            await Task.WhenAll(legacy, bundle);
            if (await legacy is { } legacyTag)
            {
                result["legacyTag"] = legacyTag;
            }

            if (await bundle is { } stored)
            {
                if (stored.Referrer is not null)
                {
                    result["bundleReferrer"] = stored.Referrer;
                }

                result["logIndex"] = stored.LogIndex;
            }
        }
        catch (Exception ex) when (CommandActions.Failure(ex) is { } failure)
        {
            return new SigningOutcome(name, null, failure, [.. legacyLines, .. bundleLines]);
        }

        if (signer.Identity is not null)
        {
            result["identity"] = signer.Identity;
        }

        return new SigningOutcome(name, result, null, [.. legacyLines, .. bundleLines]);
    }

    /// <summary>The <c>.sig</c>/<c>.att</c> layer: signed, logged, stored (unless --upload=false); returns the tag written.</summary>
    private async Task<string?> StoreLegacyAsync(
        SigningIdentity signer, SigningTarget target, (string Type, JsonNode Predicate)? predicate, Action<string> step, List<string> lines, CancellationToken cancellationToken)
    {
        var image = target.Image;
        var digest = image.Digest!;
        var layer = attestation
            ? await LegacyAttestationAsync(signer, digest, predicate!.Value, step, cancellationToken)
            : await LegacySignatureAsync(signer, image, digest, step, cancellationToken);
        string? stored = null;
        if (upload)
        {
            var tag = OciDigest.Tag(digest, attestation ? "att" : "sig");
            var destination = signatureRepository ?? image;
            await new SignatureStore(registries.For(destination), host.Context.Time).AppendLayerAsync(destination.Repository, tag, layer, cancellationToken);
            stored = $"{destination.RepositoryName}:{tag}";
            lines.Add($"Stored the {(attestation ? "attestation" : "signature")} of {image.RepositoryName}@{digest} in {stored}");
        }

        WriteLegacyOutputs(signer, layer);
        return stored;
    }

    /// <summary>The v0.3 bundle: signed, logged, pushed as a referrer (unless --upload=false); returns the referrer and log index.</summary>
    private async Task<(string? Referrer, long LogIndex)?> StoreBundleAsync(
        SigningIdentity signer, SigningTarget target, (string Type, JsonNode Predicate)? predicate, Action<string> step, List<string> lines, CancellationToken cancellationToken)
    {
        var image = target.Image;
        var digest = image.Digest!;
        var (type, statementPredicate) = predicate ?? (CosignFormats.SignPredicateType, new JsonObject());
        var bundle = await BundleAsync(signer, digest, type, statementPredicate, step, cancellationToken);
        var json = bundle.ToJson(indented: false);
        string? stored = null;
        if (upload)
        {
            var destination = signatureRepository ?? image;
            var referrer = await new SignatureStore(registries.For(destination), host.Context.Time)
                .PushBundleReferrerAsync(destination.Repository, target.Manifest.Descriptor(), Encoding.UTF8.GetBytes(json), type, cancellationToken);
            stored = $"{destination.RepositoryName}@{referrer}";
            lines.Add($"Stored a sigstore bundle for {image.RepositoryName}@{digest} as referrer {referrer}{(signatureRepository is null ? string.Empty : $" in {destination.RepositoryName}")}");
        }

        if (outputs.Bundle is not null)
        {
            CommandActions.WriteFileAtomically(outputs.Bundle, json + "\n");
            lines.Add($"Wrote bundle to {outputs.Bundle}");
        }

        return (stored, bundle.VerificationMaterial.TlogEntries[0].LogIndex);
    }

    /// <summary>Runs <paramref name="work"/> over the items, at most <c>--parallel</c> at once; results in the items' order.</summary>
    private async Task<IReadOnlyList<TResult>> InOrderAsync<TItem, TResult>(
        IReadOnlyList<TItem> items, Func<TItem, CancellationToken, Task<TResult>> work, CancellationToken cancellationToken)
    {
        var results = new TResult[items.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, items.Count),
            new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellationToken },
            async (i, token) => results[i] = await work(items[i], token));
        return results;
    }

    /// <summary>Progress output from concurrent images, one writer at a time (the status line and stderr are not thread-safe).</summary>
    private void Progress(Action write)
    {
        lock (_progress)
        {
            write();
        }
    }

    private async Task<SignatureLayer> LegacySignatureAsync(SigningIdentity signer, ImageReference image, string digest, Action<string> step, CancellationToken cancellationToken)
    {
        var payload = CosignFormats.SimpleSigningPayload(image.RepositoryName, digest, annotations);
        var (digestOfPayload, signature) = signer.SignArtifact(payload);
        var timestamps = await plan.TimestampAsync(host, signature, step, cancellationToken);
        var (_, entries) = await plan.RecordAsync(
            host,
            () => SigningCommands.HashedRekord(signer.DigestNames.RekorName, digestOfPayload, signature, signer.PublicMaterialPem),
            () => throw new InvalidOperationException("legacy signatures need Rekor v1"),
            step,
            cancellationToken);
        return new SignatureLayer(payload, MediaTypes.SimpleSigning, LegacyAnnotations(signer, Convert.ToBase64String(signature), entries[0], timestamps, null));
    }

    private async Task<SignatureLayer> LegacyAttestationAsync(
        SigningIdentity signer, string digest, (string Type, JsonNode Predicate) predicate, Action<string> step, CancellationToken cancellationToken)
    {
        var envelope = signer.SignEnvelope(CosignFormats.Statement(digest, predicate.Type, predicate.Predicate, annotations));
        var envelopeJson = Encoding.UTF8.GetBytes(envelope.ToRekorJson());

        // cosign's .att timestamp covers the layer bytes (the whole envelope), not the DSSE signature as a bundle's does.
        var timestamps = await plan.TimestampAsync(host, envelopeJson, step, cancellationToken);
        var (_, entries) = await plan.RecordAsync(host, () => signer.DsseEntry(envelope), () => throw new InvalidOperationException("legacy attestations need Rekor v1"), step, cancellationToken);
        return new SignatureLayer(envelopeJson, MediaTypes.DsseEnvelope, LegacyAnnotations(signer, string.Empty, entries[0], timestamps, predicate.Type));
    }

    private async Task<Bundle> BundleAsync(SigningIdentity signer, string digest, string predicateType, JsonNode predicate, Action<string> step, CancellationToken cancellationToken)
    {
        var signed = await plan.SignStatementAsync(host, signer, CosignFormats.Statement(digest, predicateType, predicate, annotations), step, cancellationToken);
        return signed.ToBundle(signer);
    }

    private static Dictionary<string, string> LegacyAnnotations(
        SigningIdentity signer, string signature, TransparencyLogEntry entry, IReadOnlyList<byte[]> timestamps, string? predicateType)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [CosignFormats.SignatureAnnotation] = signature,
            [CosignFormats.BundleAnnotation] = CosignFormats.RekorBundleAnnotation(entry),
        };
        if (signer.Certificate is not null)
        {
            result[CosignFormats.CertificateAnnotation] = signer.PublicMaterialPem;
            result[CosignFormats.ChainAnnotation] = string.Concat(signer.Chain.Select(static c => PemEncoding.WriteString("CERTIFICATE", c) + "\n"));
        }

        if (timestamps.Count > 0)
        {
            result[CosignFormats.TimestampAnnotation] = CosignFormats.TimestampAnnotationValue(timestamps[0]);
        }

        if (predicateType is not null)
        {
            result[CosignFormats.PredicateTypeAnnotation] = predicateType;
        }

        return result;
    }

    private void WriteLegacyOutputs(SigningIdentity signer, SignatureLayer layer)
    {
        if (outputs.Signature is not null && layer.Annotations.TryGetValue(CosignFormats.SignatureAnnotation, out var signature))
        {
            CommandActions.WriteFileAtomically(outputs.Signature, signature);
        }

        if (outputs.Certificate is not null && signer.Certificate is not null)
        {
            CommandActions.WriteFileAtomically(outputs.Certificate, signer.PublicMaterialPem);
        }

        if (outputs.Payload is not null)
        {
            CommandActions.WriteFileAtomically(outputs.Payload, Encoding.UTF8.GetString(layer.Content));
        }
    }
}
