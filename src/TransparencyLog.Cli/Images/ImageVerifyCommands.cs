using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Verifying;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Oci;
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
            var quorum = flags.ResolveWitnessQuorum(parseResult, host);
            if (quorum is not null && verifier.IgnoreTlog)
            {
                throw new CliException(ExitCodes.Usage, "--witness-policy needs transparency log entries; it cannot be combined with --insecure-ignore-tlog");
            }

            var reference = ImageReference.Parse(parseResult.GetRequiredValue(image));
            var predicateType = attestation ? CosignFormats.PredicateType(parseResult.GetRequiredValue(type)) : null;
            var outcome = await verifier.VerifyAsync(reference, attestation, predicateType, cancellationToken);
            var witnessed = quorum is null || flags.Root is null
                ? null
                : await RequireWitnessedAsync(quorum, flags.Root, outcome, cancellationToken);

            reporter.Note($"Verification for {reference} --");
            reporter.Note("The following checks were performed on each of these signatures:");
            reporter.Note("  - The signed digest is the image's, and the docker-reference names its repository");
            reporter.Note(verifier.UsesKey ? "  - The signatures were verified against the specified public key" : "  - The code-signing certificate chains to the trusted root at the signing time, with its SCTs, and names the required identity");
            if (!verifier.IgnoreTlog)
            {
                reporter.Note("  - Existence of the claims in the transparency log was verified offline (signed entry timestamp)");
            }

            foreach (var checkpoint in witnessed ?? [])
            {
                reporter.Note($"  - The log entry is included in {checkpoint.Origin} at size {checkpoint.Size}, cosigned by {string.Join(", ", checkpoint.Witnesses)} (witness policy met)");
            }

            reporter.Line(string.Empty);
            reporter.Line(new JsonArray([.. outcome.Payloads.Select(static p => (JsonNode)p.DeepClone())]).ToJsonString(s_compact));
            var json = new JsonObject
            {
                ["ok"] = true,
                ["image"] = $"{reference.RepositoryName}@{outcome.Digest}",
                ["source"] = outcome.Source,
                ["registryRoundTrips"] = verifier.RoundTrips,
                ["verified"] = new JsonArray([.. outcome.Payloads.Select(static p => (JsonNode)p.DeepClone())]),
            };
            if (witnessed is not null)
            {
                json["witnessed"] = new JsonArray([.. witnessed.Select(static w => (JsonNode?)w.ToJson())]);
            }

            reporter.Result(json);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>At least one verified signature must have all its log entries in a checkpoint meeting the witness quorum.</summary>
    private static async Task<IReadOnlyList<WitnessedCheckpoint>> RequireWitnessedAsync(
        WitnessQuorum quorum, TrustedRoot root, ImageVerification outcome, CancellationToken cancellationToken)
    {
        CliException? failure = null;
        foreach (var entries in outcome.VerifiedTlogEntries ?? [])
        {
            if (entries.Count == 0)
            {
                continue;
            }

            try
            {
                return await quorum.RequireForEntriesAsync(root, entries, cancellationToken);
            }
            catch (CliException ex)
            {
                failure ??= ex;
            }
        }

        throw failure ?? new CliException(ExitCodes.VerificationFailed, "no verified signature has a transparency log entry to check the witness policy against", WitnessQuorum.QuorumUnmet);
    }
}


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
    private readonly WitnessFlags _witness = new();
    private readonly RegistryFlags _registry = new();
    private readonly SignatureRepositoryFlag _signatureRepository = new();

    /// <summary>The trusted root <see cref="Resolve"/> loaded (null before, or without one).</summary>
    public TrustedRoot? Root { get; private set; }

    /// <summary>The --witness-policy, parsed; null without the flag.</summary>
    public WitnessQuorum? ResolveWitnessQuorum(ParseResult parseResult, CliHost host) => _witness.Resolve(parseResult, host);

    public void AddTo(Command command)
    {
        foreach (var option in new Option[]
        {
            _identity, _identityRegexp, _issuer, _issuerRegexp, _workflowTrigger, _workflowSha, _workflowName, _workflowRepository, _workflowRef,
            _key, _trustedRoot, _offline, _ignoreTlog, _ignoreSct, _annotations, _witness.Policy, _witness.MaxAge, _signatureRepository.Option,
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

        Root = root;
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
        return new ImageVerifier(
            _registry.Resolve(parseResult, host), new BundleVerifier(root, options), policy, key, claims, annotations, ignoreTlog,
            signatureRepository: _signatureRepository.Resolve(parseResult, host));
    }
}
