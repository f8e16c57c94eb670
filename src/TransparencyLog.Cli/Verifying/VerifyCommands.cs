using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Verification;

namespace TransparencyLog.Cli.Verifying;

/// <summary><c>verify-blob</c> and <c>verify-attestation</c>: fully offline, against a trusted root file.</summary>
internal static class VerifyCommands
{
    public static Command VerifyBlob(CliHost host) => Create(
        host,
        "verify-blob",
        ".sigstore.json",
        "Verify a file's signature bundle offline: timestamps, certificate chain and SCTs, transparency log " +
        "proofs, the signature over FILE, and the signer's identity.\n\n" +
        "Examples:\n" +
        "  tlog verify-blob app.tar.gz --trusted-root trusted_root.json \\\n" +
        "      --certificate-identity me@example.com --certificate-oidc-issuer https://issuer.example.com\n" +
        "  tlog verify-blob app.tar.gz --bundle app.bundle --trusted-root trusted_root.json \\\n" +
        "      --certificate-identity-regexp '.*@example\\.com' --certificate-oidc-issuer https://issuer.example.com\n" +
        "  tlog verify-blob app.tar.gz --key cosign.pub --trusted-root trusted_root.json",
        attestation: false);

    public static Command VerifyAttestation(CliHost host) => Create(
        host,
        "verify-attestation",
        ".intoto.sigstore.json",
        "Verify an attestation bundle offline, as verify-blob does, and check that FILE is one of the in-toto " +
        "statement's subjects.\n\n" +
        "Example:\n" +
        "  tlog verify-attestation app.tar.gz --trusted-root trusted_root.json \\\n" +
        "      --certificate-identity me@example.com --certificate-oidc-issuer https://issuer.example.com",
        attestation: true);

    private static Command Create(CliHost host, string name, string bundleSuffix, string description, bool attestation)
    {
        var file = new Argument<string>("FILE") { Description = attestation ? "The artifact the attestation is about." : "The signed artifact." };
        var bundle = new Option<string?>("--bundle") { Description = $"The bundle to verify (default: FILE{bundleSuffix}).", HelpName = "PATH" };
        var trustedRoot = new Option<string?>("--trusted-root")
        {
            Description = "trusted_root.json to verify against [env: TLOG_TRUSTED_ROOT; else from TUF after tlog initialize; else TRUSTED_ROOT, SIGSTORE_ROOT_FILE].",
            HelpName = "PATH",
        };
        var identity = new Option<string?>("--certificate-identity") { Description = "The exact SAN (email or URI) the signing certificate must carry.", HelpName = "ID" };
        var identityRegexp = new Option<string?>("--certificate-identity-regexp") { Description = "A regular expression the whole SAN must match (anchored).", HelpName = "REGEX" };
        var issuer = new Option<string?>("--certificate-oidc-issuer") { Description = "The exact OIDC issuer the signing certificate must name.", HelpName = "URL" };
        var issuerRegexp = new Option<string?>("--certificate-oidc-issuer-regexp") { Description = "A regular expression the whole OIDC issuer must match (anchored).", HelpName = "REGEX" };
        var key = new Option<string?>("--key") { Description = "Verify a key-based bundle with this PEM public key instead of a certificate identity.", HelpName = "PUBKEY" };
        var witness = new WitnessFlags();
        var cosignedCheckpoint = CosignedCheckpointFile.Option();

        var command = new Command(name, description);
        command.Arguments.Add(file);
        CommandActions.AddOptions(command, bundle, trustedRoot, identity, identityRegexp, issuer, issuerRegexp, key);

        witness.AddTo(command);
        command.Options.Add(cosignedCheckpoint);

        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var path = parseResult.GetRequiredValue(file);
            var quorum = witness.Resolve(parseResult, host);
            IReadOnlyList<CosignedBeside>? beside = null;
            if (parseResult.GetValue(cosignedCheckpoint) is { } besidePath)
            {
                beside = quorum is not null
                    ? CosignedCheckpointFile.Read(besidePath)
                    : throw new CliException(ExitCodes.Usage, "--cosigned-checkpoint needs --witness-policy (it is the checkpoint the policy is checked on)");
            }
            var keyPath = parseResult.GetValue(key);
            var identityValues = new[] { parseResult.GetValue(identity), parseResult.GetValue(identityRegexp), parseResult.GetValue(issuer), parseResult.GetValue(issuerRegexp) };
            CertificateIdentityPolicy? policy = null;
            if (keyPath is not null)
            {
                if (identityValues.Any(static v => v is not null))
                {
                    throw new CliException(ExitCodes.Usage, "--key verifies a key-based bundle; it cannot be combined with --certificate-* flags");
                }
            }
            else
            {
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

            var rootPath = CommandActions.Required(
                Tuf.TufClientCache.ResolveTrustedRootPath(host, parseResult.GetValue(trustedRoot)),
                "no trusted root: pass --trusted-root, set TLOG_TRUSTED_ROOT or TRUSTED_ROOT, or run tlog initialize");
            var bundlePath = parseResult.GetValue(bundle) ?? path + bundleSuffix;
            var artifact = CommandActions.ReadInputBytes(path, "file");
            var bundleText = CommandActions.ReadInputFile(bundlePath, "bundle");
            var root = CommandActions.LoadTrustedRoot(rootPath);

            Bundle parsed;
            try
            {
                parsed = Bundle.Parse(bundleText);
            }
            catch (BundleFormatException ex)
            {
                throw new VerificationException(VerificationErrorCode.Bundle, $"'{bundlePath}' is not a valid bundle: {ex.Message}");
            }

            if (attestation != (parsed.DsseEnvelope is not null))
            {
                throw new VerificationException(
                    VerificationErrorCode.Bundle,
                    attestation ? "the bundle holds a message signature, not an attestation: use verify-blob" : "the bundle holds an attestation: use verify-attestation");
            }

            var verifier = new BundleVerifier(root);
            var result = policy is not null
                ? verifier.Verify(parsed, artifact, policy)
                : verifier.VerifyWithKey(parsed, artifact, LoadPublicKey(keyPath ?? string.Empty));

            // Offline checks first: the witnessed checkpoint is fetched (unless given beside) only for a bundle that verifies on its own.
            IReadOnlyList<WitnessedCheckpoint> witnessed = quorum is null
                ? []
                : await quorum.RequireForEntriesAsync(root, parsed.VerificationMaterial.TlogEntries, cancellationToken, beside);

            reporter.Line("Verified OK");
            if (result.Subject is not null)
            {
                reporter.Line($"  identity: {result.Subject}");
                reporter.Line($"  issuer:   {result.Issuer}");
            }

            foreach (var timestamp in result.Timestamps)
            {
                reporter.Line($"  time:     {timestamp.Time:O} ({(timestamp.Source == TimestampSource.TransparencyLog ? "transparency log" : "RFC 3161 timestamp")})");
            }

            reporter.Line($"  log:      index {string.Join(", ", result.LogIndexes)}");
            foreach (var checkpoint in witnessed)
            {
                reporter.Line($"  witnessed: {checkpoint.Origin} at size {checkpoint.Size}, cosigned by {string.Join(", ", checkpoint.Witnesses)}");
            }

            var json = new JsonObject
            {
                ["ok"] = true,
                ["identity"] = result.Subject,
                ["issuer"] = result.Issuer,
                ["logIndexes"] = new JsonArray([.. result.LogIndexes.Select(static i => (JsonNode?)i)]),
                ["timestamps"] = new JsonArray([.. result.Timestamps.Select(static t => (JsonNode?)new JsonObject
                {
                    ["source"] = t.Source == TimestampSource.TransparencyLog ? "tlog" : "rfc3161",
                    ["time"] = t.Time.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                })]),
            };
            if (quorum is not null)
            {
                json["witnessed"] = new JsonArray([.. witnessed.Select(static w => (JsonNode?)w.ToJson())]);
            }

            reporter.Result(json);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The SubjectPublicKeyInfo of a PEM public key (or of a certificate's key) given by --key, for blobs and images.</summary>
    internal static byte[] LoadPublicKey(string path)
    {
        var pem = CommandActions.ReadInputFile(path, "public key file");
        try
        {
            var fields = PemEncoding.Find(pem);
            var label = pem[fields.Label];
            var der = Convert.FromBase64String(pem[fields.Base64Data]);
            if (label == "CERTIFICATE")
            {
                using var certificate = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(der);
                return certificate.PublicKey.ExportSubjectPublicKeyInfo();
            }

            return label == "PUBLIC KEY"
                ? der
                : throw new CliException(ExitCodes.Usage, $"'{path}' holds a {label}, not a PUBLIC KEY (pass the .pub file, not the private key)");
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or CryptographicException)
        {
            throw new CliException(ExitCodes.Usage, $"'{path}' is not a PEM public key");
        }
    }
}
