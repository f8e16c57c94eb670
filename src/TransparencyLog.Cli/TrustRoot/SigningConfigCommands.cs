using System.CommandLine;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Cli.TrustRoot;

/// <summary>
/// <c>signing-config add-rekor</c>: schedule the switch to a new transparency log (a Rekor v2 period log, docs/rotation.md).
/// The new log is prepended (R4) with a start in the future (R2: <c>tlog tuf publish</c> checks the lead time), and every
/// open entry of the same API version ends at that start (R3), so signers change logs at one moment.
/// </summary>
internal static class SigningConfigCommands
{
    public static Command Create(CliHost host)
    {
        var command = new Command("signing-config", "Edit signing_config.v0.2.json, the services signers use, ahead of a switch.");
        command.Subcommands.Add(AddRekor(host));
        return command;
    }

    private static Command AddRekor(CliHost host)
    {
        var config = new Option<string>("--config") { Description = "The signing_config.v0.2.json to extend (e.g. the one the TUF mirror serves).", Required = true, HelpName = "FILE" };
        var url = new Option<string>("--url") { Description = "The new log's URL (where signers send entries).", Required = true, HelpName = "URL" };
        var apiVersion = new Option<int>("--api-version") { Description = "Its major API version: 2 for Rekor v2 (rekor-tiles), 1 for Rekor v1.", DefaultValueFactory = _ => 2 };
        var validFrom = new Option<DateTimeOffset>("--valid-from")
        {
            Description = "When signers switch to it (RFC 3339); must be in the future, at least the TUF lead time after publication.",
            Required = true,
            HelpName = "RFC3339",
        };
        var operatorName = new Option<string?>("--operator") { Description = "The operator recorded for the new entry.", HelpName = "NAME" };
        var output = new Option<string>("--out") { Description = "Where to write the new signing config (may be --config).", Required = true, HelpName = "FILE" };
        var command = new Command(
            "add-rekor",
            "Prepend a transparency log to a signing config with a future start, and end every open log entry of the same API " +
            "version at that start: signers keep using the old log until then and the new one after. Add the log to the " +
            "trusted root first (tlog trusted-root add-tlog), then publish both through TUF.\n\n" +
            "Example:\n" +
            "  tlog signing-config add-rekor --config signing_config.json --url https://log2027-1.rekor.example.com --valid-from 2027-01-10T00:00:00Z --out signing_config.json");
        CommandActions.AddOptions(command, config, url, apiVersion, validFrom, operatorName, output);

        CommandActions.Set(command, host, CommandActions.OutputOption(), (parseResult, reporter, _) =>
        {
            SigningConfig existing;
            try
            {
                existing = SigningConfig.Parse(TrustedRootAddCommands.ReadBounded(parseResult.GetRequiredValue(config), "signing config"));
            }
            catch (BundleFormatException e)
            {
                throw new CliException(ExitCodes.Error, $"{parseResult.GetRequiredValue(config)}: {e.Message}");
            }

            var version = parseResult.GetValue(apiVersion);
            if (version is not (1 or 2))
            {
                throw new CliException(ExitCodes.Usage, "--api-version must be 1 or 2");
            }

            var start = TrustedRootAddCommands.Second(parseResult.GetRequiredValue(validFrom));
            var now = host.Context.Time.GetUtcNow();
            if (start <= now)
            {
                throw new CliException(
                    ExitCodes.Error,
                    $"--valid-from {start:yyyy-MM-ddTHH:mm:ssZ} is not in the future: a new log must start at least one TUF timestamp expiry after publication (R2), or signers with a cached signing config disagree");
            }

            var newUrl = TrustedRootAddCommands.RequireUrl(parseResult.GetRequiredValue(url), "--url");
            if (existing.RekorTlogUrls.Any(s => s.MajorApiVersion == version && string.Equals(s.Url.TrimEnd('/'), newUrl, StringComparison.OrdinalIgnoreCase)))
            {
                throw new CliException(ExitCodes.Error, $"{newUrl} (API v{version}) is already in the signing config");
            }

            if (existing.RekorTlogUrls.Select(static s => s.ValidFor.Start).Max() is { } newest && start < newest)
            {
                throw new CliException(
                    ExitCodes.Error,
                    $"--valid-from {start:yyyy-MM-ddTHH:mm:ssZ} is before the newest log entry's start ({newest.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ}); new entries are prepended, newest first");
            }

            var closed = new List<string>();
            var kept = existing.RekorTlogUrls.Select(s =>
            {
                if (s.MajorApiVersion != version || (s.ValidFor.End is { } end && end <= start))
                {
                    return s;
                }

                closed.Add(s.Url);
                return s with { ValidFor = s.ValidFor with { End = start } };
            }).ToList();
            var updated = existing with
            {
                RekorTlogUrls = [new ServiceEndpoint(newUrl, version, new ValidityPeriod(start, null), parseResult.GetValue(operatorName)), .. kept],
            };

            var outPath = parseResult.GetRequiredValue(output);
            CommandActions.WriteFileAtomically(outPath, updated.ToJson() + "\n");
            reporter.Line($"Wrote {outPath}: {newUrl} (API v{version}) from {start:yyyy-MM-ddTHH:mm:ssZ}" +
                (closed.Count > 0 ? $"; ended then: {string.Join(", ", closed)}" : ""));
            reporter.Line("Publish it with the trusted root that holds the new log: tlog tuf add-target, tuf sign, tuf publish");
            reporter.Result(new JsonObject
            {
                ["ok"] = true,
                ["signingConfig"] = outPath,
                ["validFrom"] = start.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
                ["ended"] = new JsonArray([.. closed.Select(static c => JsonValue.Create(c))]),
            });
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }
}
