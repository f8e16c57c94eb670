using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Http;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Cli.TrustRoot;

/// <summary><c>trusted-root create</c> (compose from what the services expose) and <c>trusted-root show</c>.</summary>
internal static class TrustedRootCommands
{
    public static Command Create(CliHost host)
    {
        var command = new Command("trusted-root", "Create and inspect trusted_root.json, the trust material offline verification uses.");
        command.Subcommands.Add(CreateCommand(host));
        command.Subcommands.Add(Show(host));
        command.Subcommands.Add(TrustedRootAddCommands.AddCa(host));
        command.Subcommands.Add(TrustedRootAddCommands.AddCtLog(host));
        command.Subcommands.Add(TrustedRootAddCommands.AddTlog(host));
        return command;
    }

    private static Command CreateCommand(CliHost host)
    {
        var caUrl = new Option<string>("--ca-url") { Description = "CA base URL; its /api/v2/trustBundle chains become certificateAuthorities.", Required = true, HelpName = "URL" };
        var rekorUrl = new Option<string>("--rekor-url") { Description = "Transparency log base URL; its /api/v1/log/publicKey becomes a tlog.", Required = true, HelpName = "URL" };
        var rekorV2Url = new Option<string?>("--rekor-v2-url")
        {
            Description = "Rekor v2 log base URL; its /api/v2/log/tlogInstance becomes a second tlog (with checkpointKeyId) and a majorApiVersion 2 signing-config entry.",
            HelpName = "URL",
        };
        var ctLogKey = new Option<string?>("--ct-log-key") { Description = "CT log public key: a PEM file or an http(s) URL serving one.", HelpName = "PEM|URL" };
        var ctLogUrl = new Option<string?>("--ct-log-url") { Description = "The CT log's base URL to record (default: the CA URL).", HelpName = "URL" };
        var tsaUrl = new Option<string?>("--tsa-url") { Description = "Timestamp authority URL; its certchain becomes a timestampAuthority.", HelpName = "URL" };
        var oidcUrl = new Option<string?>("--oidc-url") { Description = "OIDC issuer to list in the signing config.", HelpName = "URL" };
        var output = new Option<string>("--out") { Description = "Where to write trusted_root.json.", Required = true, HelpName = "FILE" };
        var signingConfig = new Option<string?>("--signing-config") { Description = "Where to write signing_config.json (default: next to --out).", HelpName = "FILE" };
        var merge = new Option<string?>("--merge")
        {
            Description = "An existing trusted root to rotate: new keys and chains start now and close the open windows they replace.",
            HelpName = "FILE",
        };
        var validFrom = new Option<DateTimeOffset?>("--valid-from")
        {
            Description = "With --merge: when the new material started (and what it replaces ended), e.g. the time `shard rotate` printed; default now.",
            HelpName = "RFC3339",
        };
        var command = new Command(
            "create",
            "Compose trusted_root.json (and signing_config.json) from what the services expose. Review the result " +
            "before distributing it: whoever controls these URLs now is trusted.\n\n" +
            "Examples:\n" +
            "  tlog trusted-root create --ca-url http://127.0.0.1:5555 --rekor-url http://127.0.0.1:3000 \\\n" +
            "      --ct-log-key ctlog.pub --tsa-url http://127.0.0.1:3000 --out trusted_root.json\n" +
            "  tlog trusted-root create --ca-url … --rekor-url http://127.0.0.1:3000 --rekor-v2-url http://localhost:3000 --tsa-url … --out trusted_root.json\n" +
            "  tlog trusted-root create --ca-url … --rekor-url … --merge trusted_root.json --out trusted_root.json");
        CommandActions.AddOptions(command, caUrl, rekorUrl, rekorV2Url, ctLogKey, ctLogUrl, tsaUrl, oidcUrl, output, signingConfig, merge, validFrom);

        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var ca = parseResult.GetRequiredValue(caUrl);
            var rekor = parseResult.GetRequiredValue(rekorUrl);
            var tsa = parseResult.GetValue(tsaUrl);
            var rekorV2 = parseResult.GetValue(rekorV2Url);
            var outPath = parseResult.GetRequiredValue(output);
            var existing = parseResult.GetValue(merge) is { } mergePath ? CommandActions.LoadTrustedRoot(mergePath) : null;
            var now = parseResult.GetValue(validFrom)?.ToUniversalTime() ?? host.Context.Time.GetUtcNow();
            var since = new ValidityPeriod(new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, now.Second, TimeSpan.Zero), null);

            var root = await reporter.StepsAsync("Collecting trust material", async step =>
            {
                step("Fetching the CA trust bundle");
                var chains = await new FulcioClient(host.Context.Http, ca).GetTrustBundleAsync(cancellationToken);
                step("Fetching the transparency log key");
                var pem = await new RekorClient(host.Context.Http, rekor).GetPublicKeyPemAsync(cancellationToken);
                LogPublicKey logKey;
                try
                {
                    logKey = LogPublicKey.FromPem(pem);
                }
                catch (KeyLoadException ex)
                {
                    throw new CliException(ExitCodes.Error, $"the transparency log's public key is unusable: {ex.Message}");
                }

                var tlogs = new List<TransparencyLogInstance> { TrustedRoot.LogFromKey(logKey, rekor.TrimEnd('/'), since) };
                if (rekorV2 is not null)
                {
                    step("Fetching the Rekor v2 log's tlog instance");
                    var instance = await new RekorV2Client(host.Context.Http, rekorV2).GetTlogInstanceAsync(cancellationToken);
                    tlogs.Add(instance with { PublicKey = instance.PublicKey with { ValidFor = since } });
                }

                var ctlogs = new List<TransparencyLogInstance>();
                if (parseResult.GetValue(ctLogKey) is { } ctSource)
                {
                    step("Loading the CT log key");
                    var ctPem = ctSource.StartsWith("http://", StringComparison.Ordinal) || ctSource.StartsWith("https://", StringComparison.Ordinal)
                        ? Encoding.UTF8.GetString(await ServiceCall.GetAsync(host.Context.Http, new Uri(ctSource), "the CT log key URL", cancellationToken))
                        : CommandActions.ReadInputFile(ctSource, "CT log key file");
                    ctlogs.Add(TrustedRoot.CtLogFromSpki(SpkiFromPem(ctPem, "the CT log key"), parseResult.GetValue(ctLogUrl) ?? ca, since));
                }

                var tsas = new List<CertificateAuthority>();
                if (tsa is not null)
                {
                    step("Fetching the timestamp authority's certificate chain");
                    var chain = await new TsaClient(host.Context.Http, tsa).GetCertificateChainAsync(cancellationToken);
                    tsas.Add(new CertificateAuthority(Subject(chain[0]), tsa, chain, since));
                }

                var fetched = new TrustedRoot(
                    TrustedRoot.MediaTypeV01,
                    tlogs,
                    [.. chains.Where(static c => c.Count > 0).Select(c => new CertificateAuthority(Subject(c[0]), ca, c, since))],
                    ctlogs,
                    tsas);
                return existing is null ? TrustedRoot.WithMediaTypeFor(fetched) : existing.Merge(fetched, since.Start ?? now);
            });

            var configPath = parseResult.GetValue(signingConfig)
                ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outPath)) ?? ".", "signing_config.json");
            SigningConfig config = new(
                [new ServiceEndpoint(ca, 1, since)],
                parseResult.GetValue(oidcUrl) is { } oidc ? [new ServiceEndpoint(oidc, 1, since)] : [],
                rekorV2 is null ? [new ServiceEndpoint(rekor, 1, since)] : [new ServiceEndpoint(rekor, 1, since), new ServiceEndpoint(rekorV2, 2, since)],
                ServiceSelector.Any,
                tsa is null ? [] : [new ServiceEndpoint(new TsaClient(host.Context.Http, tsa).TimestampUrl.ToString(), 1, since)],
                ServiceSelector.Any);
            if (existing is not null && File.Exists(configPath))
            {
                config = KeepListedServices(config, configPath);
            }

            CommandActions.WriteFileAtomically(outPath, root.ToJson() + "\n");
            CommandActions.WriteFileAtomically(configPath, config.ToJson() + "\n");
            reporter.Line($"Wrote {outPath}: {root.Tlogs.Count} tlog(s), {root.CertificateAuthorities.Count} CA(s), {root.Ctlogs.Count} CT log(s), {root.TimestampAuthorities.Count} TSA(s)");
            reporter.Line($"Wrote {configPath}");
            reporter.Result(new JsonObject { ["ok"] = true, ["trustedRoot"] = outPath, ["signingConfig"] = configPath });
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// With <c>--merge</c>: a service the existing signing config already lists (same URL and API version, still open)
    /// keeps its entry, start included, so re-running the command for unchanged services leaves the file as it was.
    /// </summary>
    private static SigningConfig KeepListedServices(SigningConfig config, string existingPath)
    {
        SigningConfig previous;
        try
        {
            previous = SigningConfig.Parse(CommandActions.ReadInputFile(existingPath, "signing config"));
        }
        catch (TransparencyLog.Sigstore.Bundles.BundleFormatException ex)
        {
            throw new CliException(ExitCodes.Error, $"{existingPath}: {ex.Message}");
        }

        static List<ServiceEndpoint> Keep(IReadOnlyList<ServiceEndpoint> fresh, IReadOnlyList<ServiceEndpoint> old) =>
        [
            .. fresh.Select(s => old.FirstOrDefault(o => o.Url == s.Url && o.MajorApiVersion == s.MajorApiVersion && o.ValidFor.End is null) ?? s),
        ];

        return config with
        {
            CaUrls = Keep(config.CaUrls, previous.CaUrls),
            OidcUrls = Keep(config.OidcUrls, previous.OidcUrls),
            RekorTlogUrls = Keep(config.RekorTlogUrls, previous.RekorTlogUrls),
            TsaUrls = Keep(config.TsaUrls, previous.TsaUrls),
        };
    }

    private static Command Show(CliHost host)
    {
        var file = new Argument<string>("FILE") { Description = "The trusted_root.json to show." };
        var command = new Command("show", "Summarise a trusted root: every key and chain with its validity window.\n\nExample:\n  tlog trusted-root show trusted_root.json");
        command.Arguments.Add(file);
        CommandActions.Set(command, host, CommandActions.OutputOption(), (parseResult, reporter, _) =>
        {
            var root = CommandActions.LoadTrustedRoot(parseResult.GetRequiredValue(file));
            if (reporter.Json)
            {
                host.Output.WriteLine(root.ToJson());
                return Task.FromResult(ExitCodes.Success);
            }

            reporter.Line($"Media type: {root.MediaType}");
            foreach (var (title, logs) in new[] { ("Transparency logs", root.Tlogs), ("CT logs", root.Ctlogs) })
            {
                reporter.Line($"{title}:");
                foreach (var log in logs)
                {
                    var checkpointKeyId = log.CheckpointKeyId is { } id ? $"  checkpointKeyId {Convert.ToHexStringLower(id)}" : string.Empty;
                    reporter.Line($"  {log.BaseUrl}  logId {Convert.ToHexStringLower(log.LogId)}{checkpointKeyId}  {log.PublicKey.KeyDetails}  {Window(log.PublicKey.ValidFor)}");
                }
            }

            foreach (var (title, authorities) in new[] { ("Certificate authorities", root.CertificateAuthorities), ("Timestamp authorities", root.TimestampAuthorities) })
            {
                reporter.Line($"{title}:");
                foreach (var authority in authorities)
                {
                    reporter.Line($"  {authority.Uri}  {Window(authority.ValidFor)}");
                    foreach (var der in authority.CertChain)
                    {
                        using var certificate = X509CertificateLoader.LoadCertificate(der);
                        reporter.Line($"    {certificate.Subject}  (expires {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}, sha256 {Convert.ToHexStringLower(SHA256.HashData(der))[..16]}…)");
                    }
                }
            }

            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static string Window(ValidityPeriod validity) =>
        $"valid {validity.Start?.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) ?? "-∞"} → {validity.End?.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) ?? "open"}";

    private static DistinguishedName? Subject(byte[] der)
    {
        try
        {
            using var certificate = X509CertificateLoader.LoadCertificate(der);
            var name = certificate.SubjectName;
            string? Part(string key) => name.EnumerateRelativeDistinguishedNames()
                .Where(r => r.GetSingleElementType().FriendlyName == key || r.GetSingleElementType().Value == key)
                .Select(static r => r.GetSingleElementValue())
                .FirstOrDefault();
            return new DistinguishedName(Part("2.5.4.10"), Part("2.5.4.3"));
        }
        catch (CryptographicException)
        {
            throw new CliException(ExitCodes.Error, "a service sent an invalid certificate");
        }
    }

    private static byte[] SpkiFromPem(string pem, string what)
    {
        try
        {
            var fields = PemEncoding.Find(pem);
            return pem[fields.Label] == "PUBLIC KEY"
                ? Convert.FromBase64String(pem[fields.Base64Data])
                : throw new CliException(ExitCodes.Error, $"{what} is not a PUBLIC KEY PEM");
        }
        catch (ArgumentException)
        {
            throw new CliException(ExitCodes.Error, $"{what} is not PEM");
        }
    }
}
