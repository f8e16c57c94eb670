using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Sigstore.Oci;

namespace TransparencyLog.Cli.Images;

/// <summary><c>tlog tree IMAGE</c> and <c>tlog download signature|attestation IMAGE</c>, as cosign has them (oci-signing §7).</summary>
internal static class ImageInspectCommands
{
    public static Command Tree(CliHost host)
    {
        var image = new Argument<string>("IMAGE") { Description = "The image or OCI artifact, by tag or digest." };
        var registry = new RegistryFlags();
        var command = new Command("tree", "List what is stored about an image: the .sig, .att and .sbom tags' layers and the OCI referrers (by artifact type).");
        command.Arguments.Add(image);
        registry.AddTo(command);
        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var reference = ImageReference.Parse(parseResult.GetRequiredValue(image));
            var client = registry.Resolve(parseResult, host).For(reference);
            var manifest = await ImageResolver.ResolveAsync(client, reference, cancellationToken);
            var digest = manifest.Digest;
            var result = new JsonObject { ["ok"] = true, ["image"] = $"{reference.RepositoryName}@{digest}" };
            reporter.Line($"Artifacts stored for {reference.RepositoryName}@{digest}");
            foreach (var (suffix, title) in new[] { ("sig", "Signatures"), ("att", "Attestations"), ("sbom", "SBOMs") })
            {
                var tag = OciDigest.Tag(digest, suffix);
                var tagged = await client.GetManifestAsync(reference.Repository, tag, cancellationToken);
                if (tagged is null || tagged.IsIndex)
                {
                    continue;
                }

                reporter.Line($"└── {title}: {reference.RepositoryName}:{tag}");
                var layers = new JsonArray();
                foreach (var layer in tagged.Children)
                {
                    var predicate = layer.Annotations?.GetValueOrDefault(CosignFormats.PredicateTypeAnnotation);
                    reporter.Line($"    └── {layer.Digest} {layer.MediaType}{(predicate is null ? string.Empty : " " + predicate)}");
                    layers.Add((JsonNode)layer.ToJson());
                }

                result[suffix] = layers;
            }

            var referrers = await client.GetReferrersAsync(reference.Repository, digest, cancellationToken);
            var list = new JsonArray();
            foreach (var group in referrers.GroupBy(static r => r.ArtifactType ?? r.MediaType))
            {
                reporter.Line($"└── Referrers of type {group.Key}");
                foreach (var referrer in group)
                {
                    var predicate = referrer.Annotations?.GetValueOrDefault("dev.sigstore.bundle.predicateType");
                    reporter.Line($"    └── {referrer.Digest}{(predicate is null ? string.Empty : " " + predicate)}");
                    list.Add((JsonNode)referrer.ToJson());
                }
            }

            result["referrers"] = list;
            reporter.Result(result);
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Download(CliHost host)
    {
        var download = new Command("download", "Print what is stored about an image: its signatures or its attestations.");
        foreach (var attestation in new[] { false, true })
        {
            var image = new Argument<string>("IMAGE") { Description = "The image or OCI artifact, by tag or digest." };
            var registry = new RegistryFlags();
            var command = new Command(
                attestation ? "attestation" : "signature",
                attestation
                    ? "Print the attestation bundles (one JSON per line), then the DSSE envelopes of the .att tag."
                    : "Print the signature bundles (one JSON per line) if there are any, else the .sig layers as {Base64Signature, Payload, Cert, Chain, Bundle, RFC3161Timestamp}.");
            command.Arguments.Add(image);
            registry.AddTo(command);
            var isAttestation = attestation;
            CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
            {
                var reference = ImageReference.Parse(parseResult.GetRequiredValue(image));
                var client = registry.Resolve(parseResult, host).For(reference);
                var digest = (await ImageResolver.ResolveAsync(client, reference, cancellationToken)).Digest;
                var store = new SignatureStore(client, host.Context.Time);
                var lines = new List<string>();
                foreach (var (_, bundle) in await store.ReadBundlesAsync(reference.Repository, digest, cancellationToken))
                {
                    var text = Encoding.UTF8.GetString(bundle);
                    var isSign = text.Contains("\"payloadType\"", StringComparison.Ordinal) && BundlePredicate(bundle) == CosignFormats.SignPredicateType;
                    if (isAttestation != isSign)
                    {
                        lines.Add(text);
                    }
                }

                if (isAttestation || lines.Count == 0)
                {
                    foreach (var layer in await store.ReadLayersAsync(reference.Repository, OciDigest.Tag(digest, isAttestation ? "att" : "sig"), cancellationToken))
                    {
                        lines.Add(isAttestation ? Encoding.UTF8.GetString(layer.Content) : LegacyLine(layer));
                    }
                }

                if (lines.Count == 0)
                {
                    throw new CliException(ExitCodes.NoSignatures, $"no {(isAttestation ? "attestations" : "signatures")} found for {reference.RepositoryName}@{digest}", "NO_SIGNATURES");
                }

                foreach (var line in lines)
                {
                    reporter.Line(line);
                }

                reporter.Result(new JsonObject { ["ok"] = true, ["items"] = new JsonArray([.. lines.Select(static l => JsonNode.Parse(l))]) });
                return ExitCodes.Success;
            });
            download.Subcommands.Add(command);
        }

        return download;
    }

    private static string? BundlePredicate(byte[] bundle)
    {
        try
        {
            var parsed = Sigstore.Bundles.Bundle.Parse(Encoding.UTF8.GetString(bundle));
            return parsed.DsseEnvelope is { } envelope ? JsonNode.Parse(envelope.Payload)?["predicateType"]?.GetValue<string>() : null;
        }
        catch (Exception ex) when (ex is Sigstore.Bundles.BundleFormatException or System.Text.Json.JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static string LegacyLine(StoredLayer layer)
    {
        var annotations = layer.Descriptor.Annotations ?? new Dictionary<string, string>();
        JsonNode? Parse(string key) => annotations.TryGetValue(key, out var value) && value.Length > 0 ? JsonNode.Parse(value) : null;
        return new JsonObject
        {
            ["Base64Signature"] = annotations.GetValueOrDefault(CosignFormats.SignatureAnnotation, string.Empty),
            ["Payload"] = Convert.ToBase64String(layer.Content),
            ["Cert"] = annotations.GetValueOrDefault(CosignFormats.CertificateAnnotation),
            ["Chain"] = annotations.GetValueOrDefault(CosignFormats.ChainAnnotation),
            ["Bundle"] = Parse(CosignFormats.BundleAnnotation),
            ["RFC3161Timestamp"] = Parse(CosignFormats.TimestampAnnotation),
        }.ToJsonString();
    }
}
