using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Http;
using TransparencyLog.Sigstore.Bundles;

namespace TransparencyLog.Cli.Signing;

/// <summary><c>sign-blob</c> and <c>attest</c>: sign, log, optionally timestamp, and write a v0.3 bundle.</summary>
internal static class SigningCommands
{
    public static Command SignBlob(CliHost host)
    {
        var file = new Argument<string>("FILE") { Description = "The artifact to sign." };
        var options = new SigningOptions();
        var command = new Command(
            "sign-blob",
            "Sign a file. Keyless by default: an OIDC identity token buys a short-lived certificate from the CA, the " +
            "signature is recorded in the transparency log, and everything a verifier needs is written to a bundle " +
            "(FILE.sigstore.json). With --key, signs with your own key instead.\n\n" +
            "Examples:\n" +
            "  tlog sign-blob --fulcio-url http://127.0.0.1:5555 --rekor-url http://127.0.0.1:3000 --identity-token $JWT app.tar.gz\n" +
            "  SIGSTORE_ID_TOKEN=$JWT tlog sign-blob app.tar.gz --bundle app.bundle\n" +
            "  tlog sign-blob --dev-issuer http://127.0.0.1:5556 --dev-email me@example.com app.tar.gz\n" +
            "  tlog sign-blob --key cosign.key --rekor-url http://127.0.0.1:3000 app.tar.gz\n" +
            "  tlog sign-blob --rekor-version 2 --rekor-url http://localhost:3000 --tsa-url http://127.0.0.1:3000 --identity-token $JWT app.tar.gz");
        command.Arguments.Add(file);
        options.AddTo(command);
        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var path = parseResult.GetRequiredValue(file);
            var artifact = CommandActions.ReadInputBytes(path, "file");
            var bundlePath = parseResult.GetValue(options.Bundle) ?? path + ".sigstore.json";
            var plan = options.Resolve(parseResult, host);
            var (bundle, uuid, identity) = await reporter.StepsAsync("Signing", async step =>
            {
                using var signer = await plan.ObtainSignerAsync(host, step, cancellationToken);
                step("Signing the artifact");
                var (digest, signature) = signer.SignArtifact(artifact);
                var timestamps = await plan.TimestampAsync(host, signature, step, cancellationToken);
                var (uuid, entries) = await plan.RecordAsync(
                    host,
                    () => HashedRekord(signer.DigestNames.RekorName, digest, signature, signer.PublicMaterialPem),
                    () => RekorV2Client.HashedRekordRequest(digest, signature, signer.RekorV2Verifier()),
                    step,
                    cancellationToken);
                var bundle = new Bundle(
                    Bundle.MediaTypeV03,
                    signer.Material(entries, timestamps),
                    new MessageSignature(new MessageDigest(signer.DigestNames.BundleName, digest), signature),
                    null);
                return (bundle, uuid, signer.Identity);
            });
            return Finish(reporter, bundle, bundlePath, uuid, identity);
        });
        return command;
    }

    public static Command Attest(CliHost host)
    {
        var file = new Argument<string>("FILE") { Description = "The artifact the attestation is about (its name and SHA-256 become the subject)." };
        var predicate = new Option<string>("--predicate") { Description = "Path to the predicate JSON.", Required = true, HelpName = "FILE" };
        var type = new Option<string>("--type") { Description = "The predicate type URI, e.g. https://slsa.dev/provenance/v1.", Required = true, HelpName = "URI" };
        var options = new SigningOptions();
        var command = new Command(
            "attest",
            "Attest to a file: wraps the predicate in an in-toto statement whose subject is FILE, signs it as a DSSE " +
            "envelope, records it in the transparency log (dsse 0.0.1, or 0.0.2 with --rekor-version 2) and writes a v0.3 bundle (FILE.intoto.sigstore.json).\n\n" +
            "Example:\n" +
            "  tlog attest app.tar.gz --predicate provenance.json --type https://slsa.dev/provenance/v1 --identity-token $JWT");
        command.Arguments.Add(file);
        command.Options.Add(predicate);
        command.Options.Add(type);
        options.AddTo(command);
        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var path = parseResult.GetRequiredValue(file);
            var artifact = CommandActions.ReadInputBytes(path, "file");
            var predicatePath = parseResult.GetRequiredValue(predicate);
            JsonNode predicateJson;
            try
            {
                predicateJson = JsonNode.Parse(CommandActions.ReadInputFile(predicatePath, "predicate file"))
                    ?? throw new CliException(ExitCodes.Usage, "the predicate is JSON null");
            }
            catch (JsonException ex)
            {
                throw new CliException(ExitCodes.Usage, $"the predicate '{predicatePath}' is not valid JSON: {ex.Message}");
            }

            var statement = new JsonObject
            {
                ["_type"] = "https://in-toto.io/Statement/v1",
                ["subject"] = new JsonArray(new JsonObject
                {
                    ["name"] = Path.GetFileName(path),
                    ["digest"] = new JsonObject { ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(artifact)) },
                }),
                ["predicateType"] = parseResult.GetRequiredValue(type),
                ["predicate"] = predicateJson,
            };
            var bundlePath = parseResult.GetValue(options.Bundle) ?? path + ".intoto.sigstore.json";
            var plan = options.Resolve(parseResult, host);
            var (bundle, uuid, identity) = await reporter.StepsAsync("Attesting", async step =>
            {
                using var signer = await plan.ObtainSignerAsync(host, step, cancellationToken);
                step("Signing the statement");
                var signed = await plan.SignStatementAsync(host, signer, Encoding.UTF8.GetBytes(statement.ToJsonString()), step, cancellationToken);
                return (signed.ToBundle(signer), signed.Uuid, signer.Identity);
            });
            return Finish(reporter, bundle, bundlePath, uuid, identity);
        });
        return command;
    }

    public static JsonObject HashedRekord(string algorithm, byte[] digest, byte[] signature, string publicMaterialPem) => new()
    {
        ["apiVersion"] = "0.0.1",
        ["kind"] = "hashedrekord",
        ["spec"] = new JsonObject
        {
            ["data"] = new JsonObject { ["hash"] = new JsonObject { ["algorithm"] = algorithm, ["value"] = Convert.ToHexStringLower(digest) } },
            ["signature"] = new JsonObject
            {
                ["content"] = Convert.ToBase64String(signature),
                ["publicKey"] = new JsonObject { ["content"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(publicMaterialPem)) },
            },
        },
    };

    private static int Finish(Reporter reporter, Bundle bundle, string bundlePath, string? uuid, string? identity)
    {
        CommandActions.WriteFileAtomically(bundlePath, bundle.ToJson() + "\n");
        var entry = bundle.VerificationMaterial.TlogEntries[0];
        reporter.Line($"Wrote bundle to {bundlePath}");
        reporter.Line(uuid is null
            ? $"Transparency log index: {entry.LogIndex} (Rekor v2)"
            : $"Transparency log index: {entry.LogIndex} (UUID {uuid})");
        if (identity is not null)
        {
            reporter.Line($"Signed as: {identity}");
        }

        reporter.Result(new JsonObject
        {
            ["ok"] = true,
            ["bundle"] = bundlePath,
            ["logIndex"] = entry.LogIndex,
            ["uuid"] = uuid,
            ["integratedTime"] = entry.IntegratedTime,
            ["identity"] = identity,
            ["rfc3161Timestamps"] = bundle.VerificationMaterial.Rfc3161Timestamps.Count,
        });
        return ExitCodes.Success;
    }
}
