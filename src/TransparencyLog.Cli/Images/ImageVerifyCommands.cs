using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Registry;
using TransparencyLog.Cli.Verifying;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Verification;

namespace TransparencyLog.Cli.Images;

/// <summary>
/// <c>tlog verify IMAGE</c> and <c>tlog verify-attestation IMAGE</c>: bundle referrers first, the legacy tag second,
/// as cosign looks them up (oci-signing §3.3, §7); everything checked offline against the trusted root.
/// </summary>
internal static class ImageVerifyCommands
{
    private static readonly JsonSerializerOptions s_compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Verify(CliHost host) => Create(
        host,
        "verify",
        "Verify the signatures of an image or OCI artifact in a registry: sigstore bundle referrers if there are any, else " +
        "the sha256-HEX.sig tag. Checks the signature, the certificate chain at the signing time (log SET or RFC 3161), the " +
        "SCTs, the log entry, that the signed digest is the image's and that docker-reference names its repository; prints " +
        "the verified payloads as JSON.\n\n" +
        "Examples:\n" +
        "  tlog verify 127.0.0.1:5100/app:1.0 --certificate-identity me@example.com --certificate-oidc-issuer http://127.0.0.1:5556\n" +
        "  tlog verify 127.0.0.1:5100/app@sha256:... --key cosign.pub",
        attestation: false);

    public static Command VerifyAttestation(CliHost host) => Create(
        host,
        ImageCommandRouting.VerifyAttestationImage,
        "Verify the attestations of an image (`tlog verify-attestation IMAGE` lands here when IMAGE names a registry image, not a file) (bundle referrers, else the sha256-HEX.att tag) and print the verified in-toto " +
        "statements whose predicate type is --type.\n\n" +
        "Example:\n" +
        "  tlog verify-attestation 127.0.0.1:5100/app:1.0 --type slsaprovenance1 --key cosign.pub",
        attestation: true);

    private static Command Create(CliHost host, string name, string description, bool attestation)
    {
        var image = new Argument<string>("IMAGE") { Description = "The image or OCI artifact, by tag or digest." };
        var flags = new ImageVerifyFlags();
        var type = new Option<string>("--type")
        {
            Description = "Predicate type to look for: slsaprovenance, slsaprovenance1, spdxjson, cyclonedx, vuln, openvex, custom, or a URI.",
            DefaultValueFactory = static _ => "custom",
            HelpName = "TYPE",
        };
        var command = new Command(name, description);
        command.Arguments.Add(image);
        flags.AddTo(command);
        if (attestation)
        {
            command.Options.Add(type);
        }

        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var verifier = flags.Resolve(parseResult, host);
            var reference = ImageReference.Parse(parseResult.GetRequiredValue(image));
            var predicateType = attestation ? CosignFormats.PredicateType(parseResult.GetRequiredValue(type)) : null;
            var outcome = await verifier.VerifyAsync(reference, attestation, predicateType, cancellationToken);

            reporter.Note($"Verification for {reference} --");
            reporter.Note("The following checks were performed on each of these signatures:");
            reporter.Note("  - The signed digest is the image's, and the docker-reference names its repository");
            reporter.Note(verifier.UsesKey ? "  - The signatures were verified against the specified public key" : "  - The code-signing certificate chains to the trusted root at the signing time, with its SCTs, and names the required identity");
            if (!verifier.IgnoreTlog)
            {
                reporter.Note("  - Existence of the claims in the transparency log was verified offline (signed entry timestamp)");
            }

            reporter.Line(string.Empty);
            reporter.Line(new JsonArray([.. outcome.Payloads.Select(static p => (JsonNode)p.DeepClone())]).ToJsonString(s_compact));
            reporter.Result(new JsonObject
            {
                ["ok"] = true,
                ["image"] = $"{reference.RepositoryName}@{outcome.Digest}",
                ["source"] = outcome.Source,
                ["registryRoundTrips"] = verifier.RoundTrips,
                ["verified"] = new JsonArray([.. outcome.Payloads.Select(static p => (JsonNode)p.DeepClone())]),
            });
            return ExitCodes.Success;
        });
        return command;
    }
}

/// <summary>What a successful image verification found.</summary>
internal sealed record ImageVerification(string Digest, string Source, IReadOnlyList<JsonObject> Payloads);

/// <summary>The verification flags (identity policy or key, trust root, registry) shared by the image verify commands.</summary>
internal sealed class ImageVerifyFlags
{
    private readonly Option<string?> _identity = new("--certificate-identity") { Description = "The exact SAN (email or URI) the signing certificate must carry.", HelpName = "ID" };
    private readonly Option<string?> _identityRegexp = new("--certificate-identity-regexp") { Description = "A regular expression the whole SAN must match (anchored).", HelpName = "REGEX" };
    private readonly Option<string?> _issuer = new("--certificate-oidc-issuer") { Description = "The exact OIDC issuer the signing certificate must name.", HelpName = "URL" };
    private readonly Option<string?> _issuerRegexp = new("--certificate-oidc-issuer-regexp") { Description = "A regular expression the whole OIDC issuer must match (anchored).", HelpName = "REGEX" };
    private readonly Option<string?> _workflowTrigger = new("--certificate-github-workflow-trigger") { Description = "The GitHub workflow trigger the certificate must name (OID .1.2).", HelpName = "EVENT" };
    private readonly Option<string?> _workflowSha = new("--certificate-github-workflow-sha") { Description = "The commit SHA the certificate must name (OID .1.3).", HelpName = "SHA" };
    private readonly Option<string?> _workflowName = new("--certificate-github-workflow-name") { Description = "The workflow name the certificate must name (OID .1.4).", HelpName = "NAME" };
    private readonly Option<string?> _workflowRepository = new("--certificate-github-workflow-repository") { Description = "The repository the certificate must name (OID .1.5).", HelpName = "OWNER/REPO" };
    private readonly Option<string?> _workflowRef = new("--certificate-github-workflow-ref") { Description = "The git ref the certificate must name (OID .1.6).", HelpName = "REF" };
    private readonly Option<string?> _key = new("--key") { Description = "Verify with this PEM public key (or certificate) instead of a certificate identity.", HelpName = "PUBKEY" };
    private readonly Option<string?> _trustedRoot = new("--trusted-root") { Description = "trusted_root.json to verify against [env: TLOG_TRUSTED_ROOT; else from TUF after tlog initialize; else TRUSTED_ROOT, SIGSTORE_ROOT_FILE].", HelpName = "PATH" };
    private readonly Option<bool> _offline = new("--offline") { Description = "Use only what is stored with the image (tlog verification never queries the log online; accepted for cosign compatibility)." };
    private readonly Option<bool> _ignoreTlog = new("--insecure-ignore-tlog") { Description = "Do not require a transparency log entry (only with --key: for signatures made without a log, e.g. by skopeo)." };
    private readonly Option<bool> _ignoreSct = new("--insecure-ignore-sct") { Description = "Do not require an embedded SCT in the signing certificate." };
    private readonly Option<string[]> _annotations = new("--annotations", "-a") { Description = "KEY=VALUE annotations every accepted signature must carry.", HelpName = "KEY=VALUE" };
    private readonly RegistryFlags _registry = new();

    public void AddTo(Command command)
    {
        foreach (var option in new Option[]
        {
            _identity, _identityRegexp, _issuer, _issuerRegexp, _workflowTrigger, _workflowSha, _workflowName, _workflowRepository, _workflowRef,
            _key, _trustedRoot, _offline, _ignoreTlog, _ignoreSct, _annotations,
        })
        {
            command.Options.Add(option);
        }

        _registry.AddTo(command);
    }

    public ImageVerifier Resolve(ParseResult parseResult, CliHost host)
    {
        var keyPath = parseResult.GetValue(_key);
        var identityValues = new[] { parseResult.GetValue(_identity), parseResult.GetValue(_identityRegexp), parseResult.GetValue(_issuer), parseResult.GetValue(_issuerRegexp) };
        var claims = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (option, oid) in new[]
        {
            (_workflowTrigger, "1.3.6.1.4.1.57264.1.2"), (_workflowSha, "1.3.6.1.4.1.57264.1.3"), (_workflowName, "1.3.6.1.4.1.57264.1.4"),
            (_workflowRepository, "1.3.6.1.4.1.57264.1.5"), (_workflowRef, "1.3.6.1.4.1.57264.1.6"),
        })
        {
            if (parseResult.GetValue(option) is { } value)
            {
                claims[oid] = value;
            }
        }

        var ignoreTlog = parseResult.GetValue(_ignoreTlog);
        CertificateIdentityPolicy? policy = null;
        byte[]? key = null;
        if (keyPath is not null)
        {
            if (identityValues.Any(static v => v is not null) || claims.Count > 0)
            {
                throw new CliException(ExitCodes.Usage, "--key verifies key-based signatures; it cannot be combined with --certificate-* flags");
            }

            key = VerifyCommands.LoadPublicKey(keyPath);
        }
        else
        {
            if (ignoreTlog)
            {
                throw new CliException(ExitCodes.Usage, "--insecure-ignore-tlog is only allowed with --key: a short-lived certificate needs the log's time to be checked");
            }

            try
            {
                policy = CertificateIdentityPolicy.Create(identityValues[0], identityValues[1], identityValues[2], identityValues[3]);
            }
            catch (ArgumentException ex)
            {
                throw new CliException(
                    ExitCodes.Usage,
                    $"{ex.Message} (--certificate-identity or --certificate-identity-regexp, and --certificate-oidc-issuer or --certificate-oidc-issuer-regexp)");
            }
        }

        var rootPath = Tuf.TufClientCache.ResolveTrustedRootPath(host, parseResult.GetValue(_trustedRoot));
        TrustedRoot root = rootPath is not null
            ? CommandActions.LoadTrustedRoot(rootPath)
            : ignoreTlog && key is not null
                ? TrustedRoot.Empty
                : throw new CliException(ExitCodes.Usage, "no trusted root: pass --trusted-root, set TLOG_TRUSTED_ROOT or TRUSTED_ROOT, or run tlog initialize");

        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in parseResult.GetValue(_annotations) ?? [])
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new CliException(ExitCodes.Usage, $"--annotations '{pair}' is not KEY=VALUE");
            }

            annotations[pair[..eq]] = pair[(eq + 1)..];
        }

        var options = new VerificationOptions
        {
            TlogThreshold = ignoreTlog ? 0 : 1,
            TimestampThreshold = ignoreTlog ? 0 : 1,
            CtlogThreshold = parseResult.GetValue(_ignoreSct) || key is not null ? 0 : 1,
        };
        return new ImageVerifier(_registry.Resolve(parseResult, host), new BundleVerifier(root, options), policy, key, claims, annotations, ignoreTlog);
    }
}

/// <summary>Finds and verifies the signatures of one image; at least one must pass every check.</summary>
internal sealed class ImageVerifier(
    RegistryConnections registries,
    BundleVerifier verifier,
    CertificateIdentityPolicy? policy,
    byte[]? key,
    IReadOnlyDictionary<string, string> claims,
    IReadOnlyDictionary<string, string> annotations,
    bool ignoreTlog)
{
    public bool UsesKey => key is not null;

    public bool IgnoreTlog => ignoreTlog;

    public int RoundTrips => registries.RoundTrips;

    public async Task<ImageVerification> VerifyAsync(ImageReference image, bool attestation, string? predicateType, CancellationToken cancellationToken)
    {
        var client = registries.For(image);
        var manifest = await ImageResolver.ResolveAsync(client, image, cancellationToken);
        var digest = manifest.Digest;
        var store = new SignatureStore(client, TimeProvider.System);
        var failures = new List<string>();
        var payloads = new List<JsonObject>();

        var bundles = await store.ReadBundlesAsync(image.Repository, digest, cancellationToken);
        if (bundles.Count > 0)
        {
            foreach (var (referrer, bytes) in bundles)
            {
                try
                {
                    if (VerifyBundle(image, digest, bytes, attestation, predicateType) is { } payload)
                    {
                        payloads.Add(payload);
                    }
                }
                catch (Exception ex) when (ex is VerificationException or CliException)
                {
                    failures.Add($"bundle referrer {referrer}: {Describe(ex)}");
                }
            }

            return Outcome(image, digest, "bundle", payloads, failures, attestation, predicateType, bundles.Count);
        }

        var tag = OciDigest.Tag(digest, attestation ? "att" : "sig");
        var layers = await store.ReadLayersAsync(image.Repository, tag, cancellationToken);
        foreach (var layer in layers)
        {
            try
            {
                var payload = attestation ? VerifyLegacyAttestation(digest, layer, predicateType) : VerifyLegacySignature(image, digest, layer);
                if (payload is not null)
                {
                    payloads.Add(payload);
                }
            }
            catch (Exception ex) when (ex is VerificationException or CliException)
            {
                failures.Add($"{tag} layer {layer.Descriptor.Digest}: {Describe(ex)}");
            }
        }

        return Outcome(image, digest, "legacy", payloads, failures, attestation, predicateType, layers.Count);
    }

    private static ImageVerification Outcome(
        ImageReference image, string digest, string source, List<JsonObject> payloads, List<string> failures, bool attestation, string? predicateType, int found)
    {
        if (payloads.Count > 0)
        {
            return new ImageVerification(digest, source, payloads);
        }

        var what = attestation ? "attestations" : "signatures";
        if (found == 0)
        {
            throw new CliException(ExitCodes.NoSignatures, $"no {what} found for {image.RepositoryName}@{digest}", "NO_SIGNATURES");
        }

        if (failures.Count == 0)
        {
            throw new CliException(ExitCodes.NoMatchingSignature, $"none of the {found} {what} of {image.RepositoryName}@{digest} has predicate type {predicateType}", "NO_MATCHING_ATTESTATION");
        }

        throw new CliException(
            ExitCodes.NoMatchingSignature,
            $"none of the {found} {what} of {image.RepositoryName}@{digest} verified:\n  " + string.Join("\n  ", failures),
            "NO_MATCHING_SIGNATURE");
    }

    private static string Describe(Exception ex) => ex switch
    {
        VerificationException v => $"{v.Code}: {v.Message}",
        CliException { Code: { } code } c => $"{code}: {c.Message}",
        _ => ex.Message,
    };

    /// <summary>A v0.3 bundle over a DSSE in-toto statement: verified, then its subject must be this digest.</summary>
    private JsonObject? VerifyBundle(ImageReference image, string digest, byte[] bytes, bool attestation, string? predicateType)
    {
        Bundle bundle;
        try
        {
            bundle = Bundle.Parse(Encoding.UTF8.GetString(bytes));
        }
        catch (BundleFormatException ex)
        {
            throw new VerificationException(VerificationErrorCode.Bundle, $"not a valid bundle: {ex.Message}");
        }

        if (bundle.DsseEnvelope is not { } envelope || envelope.PayloadType != CosignFormats.InTotoPayloadType)
        {
            throw new VerificationException(VerificationErrorCode.Bundle, "the bundle holds no DSSE in-toto envelope");
        }

        var result = Check(bundle, null);
        var statement = ParseStatement(envelope.Payload);
        if (!StatementNamesDigest(statement, digest))
        {
            throw new VerificationException(VerificationErrorCode.Subject, $"the signed statement is about another digest, not {digest}");
        }

        var type = statement["predicateType"]?.GetValue<string>() ?? string.Empty;
        if (attestation)
        {
            if (type != predicateType)
            {
                return null;
            }

            return AttestationOutput(statement, result);
        }

        var optional = new JsonObject();
        if (statement["subject"]?[0]?["annotations"] is JsonObject subjectAnnotations)
        {
            foreach (var (k, v) in subjectAnnotations)
            {
                optional[k] = v?.DeepClone();
            }
        }

        CheckAnnotations(optional);
        AddIdentity(optional, result);
        return new JsonObject
        {
            ["critical"] = new JsonObject
            {
                ["identity"] = new JsonObject { ["docker-reference"] = image.RepositoryName },
                ["image"] = new JsonObject { ["docker-manifest-digest"] = digest },
                ["type"] = type,
            },
            ["optional"] = optional,
        };
    }

    /// <summary>One <c>.sig</c> layer: signature, certificate and SET rebuilt into a bundle and verified; then the payload's claims.</summary>
    private JsonObject? VerifyLegacySignature(ImageReference image, string digest, StoredLayer layer)
    {
        if (layer.Descriptor.MediaType != MediaTypes.SimpleSigning)
        {
            return null;
        }

        var annotations = layer.Descriptor.Annotations ?? new Dictionary<string, string>();
        var signature = annotations.TryGetValue(CosignFormats.SignatureAnnotation, out var encoded) && encoded.Length > 0
            ? Base64(encoded, "signature")
            : throw new VerificationException(VerificationErrorCode.Bundle, "the layer has no dev.cosignproject.cosign/signature annotation");
        var bundle = LegacyBundle(annotations, new MessageSignature(new MessageDigest("SHA2_256", SHA256.HashData(layer.Content)), signature));
        var result = Check(bundle, layer.Content);

        JsonObject payload;
        try
        {
            payload = JsonNode.Parse(layer.Content) as JsonObject ?? throw new JsonException();
        }
        catch (JsonException)
        {
            throw new VerificationException(VerificationErrorCode.Bundle, "the signed payload is not a JSON object");
        }

        var critical = payload["critical"] as JsonObject;
        if (critical?["type"]?.GetValue<string>() != CosignFormats.SimpleSigningType)
        {
            throw new VerificationException(VerificationErrorCode.Bundle, $"the signed payload's critical.type is not '{CosignFormats.SimpleSigningType}'");
        }

        if (critical["image"]?["docker-manifest-digest"]?.GetValue<string>() != digest)
        {
            throw new VerificationException(VerificationErrorCode.Subject, $"the signature is for another digest ({critical["image"]?["docker-manifest-digest"]}), not {digest}");
        }

        var reference = critical["identity"]?["docker-reference"]?.GetValue<string>() ?? string.Empty;
        if (!NamesRepository(reference, image))
        {
            throw new VerificationException(VerificationErrorCode.Subject, $"the signature's docker-reference '{reference}' is not the repository {image.RepositoryName}");
        }

        var optional = payload["optional"] as JsonObject ?? new JsonObject();
        CheckAnnotations(optional);
        AddIdentity(optional, result);
        if (annotations.TryGetValue(CosignFormats.BundleAnnotation, out var rekorBundle))
        {
            optional["Bundle"] = JsonNode.Parse(rekorBundle);
        }

        payload["optional"] = optional;
        return payload;
    }

    private JsonObject? VerifyLegacyAttestation(string digest, StoredLayer layer, string? predicateType)
    {
        if (layer.Descriptor.MediaType != MediaTypes.DsseEnvelope)
        {
            return null;
        }

        DsseEnvelope envelope;
        try
        {
            using var document = JsonDocument.Parse(layer.Content);
            envelope = Bundle.ParseEnvelope(document.RootElement, "layer");
        }
        catch (Exception ex) when (ex is JsonException or BundleFormatException)
        {
            throw new VerificationException(VerificationErrorCode.Bundle, "the layer is not a DSSE envelope");
        }

        if (envelope.Signatures.Count != 1)
        {
            throw new VerificationException(VerificationErrorCode.Bundle, "the envelope must carry exactly one signature");
        }

        // cosign's .att timestamp covers the layer bytes, not the DSSE signature a bundle's does; the signed entry
        // timestamp is the time evidence checked here, the RFC 3161 annotation is left out.
        var annotations = (layer.Descriptor.Annotations ?? new Dictionary<string, string>())
            .Where(static a => a.Key != CosignFormats.TimestampAnnotation)
            .ToDictionary(StringComparer.Ordinal);
        var bundle = LegacyBundle(annotations, null, envelope);
        var result = Check(bundle, null);
        var statement = ParseStatement(envelope.Payload);
        if (!StatementNamesDigest(statement, digest))
        {
            throw new VerificationException(VerificationErrorCode.Subject, $"the attestation is about another digest, not {digest}");
        }

        return statement["predicateType"]?.GetValue<string>() == predicateType ? AttestationOutput(statement, result) : null;
    }

    private static Bundle LegacyBundle(IReadOnlyDictionary<string, string> annotations, MessageSignature? signature, DsseEnvelope? envelope = null)
    {
        byte[]? certificate = null;
        if (annotations.TryGetValue(CosignFormats.CertificateAnnotation, out var pem) && pem.Length > 0)
        {
            try
            {
                var fields = PemEncoding.Find(pem);
                certificate = Convert.FromBase64String(pem[fields.Base64Data]);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                throw new VerificationException(VerificationErrorCode.Certificate, "the dev.sigstore.cosign/certificate annotation is not a PEM certificate");
            }
        }

        var entries = annotations.TryGetValue(CosignFormats.BundleAnnotation, out var rekor) && rekor.Length > 0
            ? new[] { CosignFormats.ParseRekorBundleAnnotation(rekor) }
            : [];
        var timestamps = annotations.TryGetValue(CosignFormats.TimestampAnnotation, out var tsa) && tsa.Length > 0
            ? new[] { CosignFormats.ParseTimestampAnnotation(tsa) }
            : [];
        var material = new VerificationMaterial(certificate, null, certificate is null ? string.Empty : null, entries, timestamps);
        return new Bundle(Bundle.MediaTypeV03, material, signature, envelope);
    }

    private VerificationResult Check(Bundle bundle, byte[]? artifact)
    {
        if (key is not null)
        {
            return verifier.VerifyWithKey(bundle, artifact, key);
        }

        var result = verifier.Verify(bundle, artifact, policy!);
        if (claims.Count > 0)
        {
            using var leaf = X509CertificateLoader.LoadCertificate(bundle.VerificationMaterial.LeafCertificate!);
            foreach (var (oid, expected) in claims)
            {
                var actual = leaf.Extensions[oid] is { } extension ? Encoding.UTF8.GetString(extension.RawData) : null;
                if (actual != expected)
                {
                    throw new VerificationException(VerificationErrorCode.UntrustedSigner, $"the certificate's extension {oid} is '{actual}', not '{expected}'");
                }
            }
        }

        return result;
    }

    private void CheckAnnotations(JsonObject optional)
    {
        foreach (var (k, v) in annotations)
        {
            if (optional[k] is not JsonValue value || value.ToString() != v)
            {
                throw new VerificationException(VerificationErrorCode.Subject, $"the signature does not carry the annotation {k}={v}");
            }
        }
    }

    private static void AddIdentity(JsonObject optional, VerificationResult result)
    {
        if (result.Subject is not null)
        {
            optional["Subject"] = result.Subject;
            optional["Issuer"] = result.Issuer;
        }
    }

    private static JsonObject AttestationOutput(JsonObject statement, VerificationResult result)
    {
        var output = new JsonObject { ["statement"] = statement.DeepClone() };
        if (result.Subject is not null)
        {
            output["Subject"] = result.Subject;
            output["Issuer"] = result.Issuer;
        }

        return output;
    }

    private static JsonObject ParseStatement(byte[] payload)
    {
        try
        {
            var statement = JsonNode.Parse(payload) as JsonObject ?? throw new JsonException();
            return statement["_type"]?.GetValue<string>() is "https://in-toto.io/Statement/v1" or "https://in-toto.io/Statement/v0.1"
                ? statement
                : throw new VerificationException(VerificationErrorCode.Bundle, "the envelope's payload is not an in-toto statement");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new VerificationException(VerificationErrorCode.Bundle, "the envelope's payload is not an in-toto statement");
        }
    }

    private static bool StatementNamesDigest(JsonObject statement, string digest)
    {
        var hex = OciDigest.Hex(digest);
        return statement["subject"] is JsonArray subjects
            && subjects.Any(s => s?["digest"]?["sha256"] is JsonValue v && v.ToString() == hex);
    }

    /// <summary>docker-reference must name the image's repository: bare (cosign), with a tag or with a digest (containers/image).</summary>
    private static bool NamesRepository(string reference, ImageReference image)
    {
        try
        {
            var parsed = ImageReference.Parse(reference);
            return parsed.Registry == image.Registry && parsed.Repository == image.Repository;
        }
        catch (CliException)
        {
            return false;
        }
    }

    private static byte[] Base64(string text, string what)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new VerificationException(VerificationErrorCode.Bundle, $"the {what} annotation is not base64");
        }
    }
}
