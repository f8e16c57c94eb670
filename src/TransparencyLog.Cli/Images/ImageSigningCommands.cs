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
            var results = await run.SignAllAsync(targets, null, cancellationToken);
            return Finish(reporter, results);
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
            var results = await run.SignAllAsync(targets, (predicateType, predicateJson), cancellationToken);
            return Finish(reporter, results);
        });
        return command;
    }

    private static int Finish(Reporter reporter, IReadOnlyList<JsonObject> results)
    {
        reporter.Result(new JsonObject { ["ok"] = true, ["signed"] = new JsonArray([.. results]) });
        return ExitCodes.Success;
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

    public Option<string[]> Annotations { get; } = new("--annotations", "-a")
    {
        Description = "KEY=VALUE annotations signed with the image (simple-signing optional, statement subject annotations).",
        HelpName = "KEY=VALUE",
        AllowMultipleArgumentsPerToken = false,
    };

    public Option<bool> Recursive { get; } = new("--recursive") { Description = "For an index: sign the index and every manifest it lists." };

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
        foreach (var option in new Option[] { Annotations, Recursive, Upload, OutputSignature, OutputCertificate, OutputPayload, Format })
        {
            command.Options.Add(option);
        }
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

        var upload = parseResult.GetValue(Upload);
        var outputs = new SigningOutputs(
            parseResult.GetValue(OutputSignature), parseResult.GetValue(OutputCertificate), parseResult.GetValue(OutputPayload), parseResult.GetValue(Signing.Bundle));
        if (!upload && outputs.IsEmpty)
        {
            throw new CliException(ExitCodes.Usage, "--upload=false stores nothing in the registry: name at least one of --output-signature, --output-certificate, --output-payload or --bundle");
        }

        return new ImageSigningRun(
            host, reporter, plan, Registry.Resolve(parseResult, host), annotations, parseResult.GetValue(Recursive), upload, format, outputs, attestation);
    }
}

/// <summary>Files <c>--upload=false</c> (or any run) writes for a single signed image.</summary>
internal sealed record SigningOutputs(string? Signature, string? Certificate, string? Payload, string? Bundle)
{
    public bool IsEmpty => Signature is null && Certificate is null && Payload is null && Bundle is null;
}

/// <summary>An image resolved to a digest, with the manifest exactly as served.</summary>
internal sealed record SigningTarget(ImageReference Image, OciManifest Manifest);

/// <summary>One <c>sign</c>/<c>attest</c> invocation: resolve every image, obtain one signer, sign each digest.</summary>
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
    bool attestation)
{
    public async Task<IReadOnlyList<SigningTarget>> ResolveTargetsAsync(IEnumerable<string> references, CancellationToken cancellationToken)
    {
        var targets = new List<SigningTarget>();
        foreach (var text in references)
        {
            var image = ImageReference.Parse(text);
            var manifest = await ImageResolver.ResolveAsync(registries.For(image), image, cancellationToken);
            if (image.Digest is null)
            {
                reporter.Note($"WARNING: {image} is a tag; signing the digest it resolves to now: {image.RepositoryName}@{manifest.Digest}");
            }

            var resolved = image.WithDigest(manifest.Digest);
            targets.Add(new SigningTarget(resolved, manifest));
            if (recursive && manifest.IsIndex)
            {
                foreach (var child in manifest.Children)
                {
                    var childManifest = await registries.For(image).GetManifestAsync(image.Repository, child.Digest, cancellationToken)
                        ?? throw new CliException(ExitCodes.ImageNotFound, $"{image.RepositoryName}@{child.Digest}, listed by the index, does not exist", "NOT_FOUND");
                    targets.Add(new SigningTarget(image with { Tag = null, Digest = childManifest.Digest }, childManifest));
                }
            }
        }

        if (!upload && targets.Count != 1)
        {
            throw new CliException(ExitCodes.Usage, "--upload=false writes files for one image; it resolved to several (drop --recursive or sign one image)");
        }

        return targets;
    }

    public async Task<IReadOnlyList<JsonObject>> SignAllAsync(IReadOnlyList<SigningTarget> targets, (string Type, JsonNode Predicate)? predicate, CancellationToken cancellationToken)
    {
        var results = new List<JsonObject>();
        await reporter.StepsAsync(attestation ? "Attesting" : "Signing", async step =>
        {
            using var signer = await plan.ObtainSignerAsync(host, step, cancellationToken);
            foreach (var target in targets)
            {
                results.Add(await SignOneAsync(signer, target, predicate, step, cancellationToken));
            }

            return 0;
        });
        return results;
    }

    private async Task<JsonObject> SignOneAsync(
        SigningIdentity signer, SigningTarget target, (string Type, JsonNode Predicate)? predicate, Action<string> step, CancellationToken cancellationToken)
    {
        var image = target.Image;
        var digest = image.Digest ?? throw new InvalidOperationException("unresolved target");
        var client = registries.For(image);
        var store = new SignatureStore(client, host.Context.Time);
        var result = new JsonObject { ["image"] = $"{image.RepositoryName}@{digest}" };
        step($"Signing {image.RepositoryName}@{digest}");

        if (format.HasFlag(SignatureFormats.Legacy))
        {
            var layer = attestation
                ? await LegacyAttestationAsync(signer, digest, predicate!.Value, step, cancellationToken)
                : await LegacySignatureAsync(signer, image, digest, step, cancellationToken);
            if (upload)
            {
                var tag = OciDigest.Tag(digest, attestation ? "att" : "sig");
                await store.AppendLayerAsync(image.Repository, tag, layer, cancellationToken);
                result["legacyTag"] = $"{image.RepositoryName}:{tag}";
                reporter.Line($"Stored the {(attestation ? "attestation" : "signature")} of {image.RepositoryName}@{digest} in {image.RepositoryName}:{tag}");
            }

            WriteLegacyOutputs(signer, layer);
        }

        if (format.HasFlag(SignatureFormats.Bundle))
        {
            var (type, statementPredicate) = predicate ?? (CosignFormats.SignPredicateType, new JsonObject());
            var bundle = await BundleAsync(signer, digest, type, statementPredicate, step, cancellationToken);
            var json = bundle.ToJson(indented: false);
            if (upload)
            {
                var referrer = await store.PushBundleReferrerAsync(image.Repository, target.Manifest.Descriptor(), Encoding.UTF8.GetBytes(json), type, cancellationToken);
                result["bundleReferrer"] = $"{image.RepositoryName}@{referrer}";
                reporter.Line($"Stored a sigstore bundle for {image.RepositoryName}@{digest} as referrer {referrer}");
            }

            if (outputs.Bundle is not null)
            {
                CommandActions.WriteFileAtomically(outputs.Bundle, json + "\n");
                reporter.Line($"Wrote bundle to {outputs.Bundle}");
            }

            result["logIndex"] = bundle.VerificationMaterial.TlogEntries[0].LogIndex;
        }

        if (signer.Identity is not null)
        {
            result["identity"] = signer.Identity;
        }

        return result;
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
        var envelope = SignEnvelope(signer, CosignFormats.Statement(digest, predicate.Type, predicate.Predicate, annotations));
        var envelopeJson = Encoding.UTF8.GetBytes(envelope.ToRekorJson());
        var timestamps = await plan.TimestampAsync(host, envelopeJson, step, cancellationToken);
        var (_, entries) = await plan.RecordAsync(host, () => DsseEntry(envelope, signer), () => throw new InvalidOperationException("legacy attestations need Rekor v1"), step, cancellationToken);
        return new SignatureLayer(envelopeJson, MediaTypes.DsseEnvelope, LegacyAnnotations(signer, string.Empty, entries[0], timestamps, predicate.Type));
    }

    private async Task<Bundle> BundleAsync(SigningIdentity signer, string digest, string predicateType, JsonNode predicate, Action<string> step, CancellationToken cancellationToken)
    {
        var envelope = SignEnvelope(signer, CosignFormats.Statement(digest, predicateType, predicate, annotations));
        var timestamps = await plan.TimestampAsync(host, envelope.Signatures[0].Sig, step, cancellationToken);
        var (_, entries) = await plan.RecordAsync(
            host, () => DsseEntry(envelope, signer), () => RekorV2Client.DsseRequest(envelope, signer.RekorV2Verifier()), step, cancellationToken);
        var material = new VerificationMaterial(signer.Certificate, null, signer.Certificate is null ? signer.KeyHint : null, entries, timestamps);
        return new Bundle(Bundle.MediaTypeV03, material, null, envelope);
    }

    private static DsseEnvelope SignEnvelope(SigningIdentity signer, byte[] statement)
    {
        var unsigned = new DsseEnvelope(statement, CosignFormats.InTotoPayloadType, []);
        return unsigned with { Signatures = [new DsseSignature(signer.SignMessage(unsigned.Pae()), string.Empty)] };
    }

    private static JsonObject DsseEntry(DsseEnvelope envelope, SigningIdentity signer) => new()
    {
        ["apiVersion"] = "0.0.1",
        ["kind"] = "dsse",
        ["spec"] = new JsonObject
        {
            ["proposedContent"] = new JsonObject
            {
                ["envelope"] = envelope.ToRekorJson(),
                ["verifiers"] = new JsonArray(Convert.ToBase64String(Encoding.UTF8.GetBytes(signer.PublicMaterialPem))),
            },
        },
    };

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
