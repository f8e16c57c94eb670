using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Cli.TrustRoot;

/// <summary>
/// <c>trusted-root add-ca</c> and <c>trusted-root add-ctlog</c>: publish new material before the switch (rotation rule
/// R1, docs/trust-root.md). The new chain or CT key is appended to an existing trusted root with a window starting at
/// <c>--valid-from</c>, which may lie in the future; nothing already there changes (the old entry is ended later, after
/// its last use). The result is then published with <c>tlog tuf add-target</c>, <c>sign</c> and <c>publish</c>.
/// </summary>
internal static class TrustedRootAddCommands
{
    /// <summary>Bound on the chain and key files read (a chain of a few certificates is a few KiB).</summary>
    private const long MaxInputBytes = 256 * 1024;

    private const int MaxChainLength = 10;

    public static Command AddCa(CliHost host)
    {
        var (root, output, validFrom) = CommonOptions();
        var chain = new Option<string>("--chain")
        {
            Description = "PEM file with the new CA chain, issuing certificate first and self-signed root last (for Fulcio: intermediate, root).",
            Required = true,
            HelpName = "FILE",
        };
        var uri = new Option<string?>("--uri") { Description = "The CA's base URL (default: that of the newest CA entry, as a rotation keeps its URL).", HelpName = "URL" };
        var command = new Command(
            "add-ca",
            "Append a new certificate authority chain to a trusted root, valid from --valid-from (which may be in the future), " +
            "so verifiers trust it before the CA issues from it. Existing entries are unchanged.\n\n" +
            "Example:\n" +
            "  tlog trusted-root add-ca --root trusted_root.json --chain new-chain.pem --valid-from 2027-01-10T00:00:00Z --out trusted_root.json");
        CommandActions.AddOptions(command, root, chain, uri, validFrom, output);

        CommandActions.Set(command, host, CommandActions.OutputOption(), (parseResult, reporter, _) =>
        {
            var trusted = CommandActions.LoadTrustedRoot(parseResult.GetRequiredValue(root));
            var start = Second(parseResult.GetRequiredValue(validFrom));
            var certificates = ReadChain(parseResult.GetRequiredValue(chain));
            var ders = certificates.Select(static c => c.RawData).ToList();
            var subject = new DistinguishedName(
                certificates[0].SubjectName.EnumerateRelativeDistinguishedNames().Where(static r => r.GetSingleElementType().Value == "2.5.4.10").Select(static r => r.GetSingleElementValue()).FirstOrDefault(),
                certificates[0].GetNameInfo(X509NameType.SimpleName, forIssuer: false));
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }

            if (trusted.CertificateAuthorities.Any(a => a.CertChain.Count == ders.Count && a.CertChain.Zip(ders).All(static p => p.First.AsSpan().SequenceEqual(p.Second))))
            {
                throw new CliException(ExitCodes.Error, "this chain is already in the trusted root");
            }

            RequireAppendable(trusted.CertificateAuthorities.Select(static a => a.ValidFor.Start), start, "certificate authority");
            var url = parseResult.GetValue(uri) ?? trusted.CertificateAuthorities.LastOrDefault()?.Uri
                ?? throw new CliException(ExitCodes.Usage, "the trusted root has no CA to take the URL from: give --uri");
            var added = trusted with
            {
                CertificateAuthorities = [.. trusted.CertificateAuthorities, new CertificateAuthority(subject, RequireUrl(url, "--uri"), ders, new ValidityPeriod(start, null))],
            };
            return WriteAsync(host, reporter, parseResult.GetRequiredValue(output), added, $"certificate authority {subject.CommonName} ({ders.Count} certificate(s))", start);
        });
        return command;
    }

    public static Command AddCtLog(CliHost host)
    {
        var (root, output, validFrom) = CommonOptions();
        var key = new Option<string>("--key") { Description = "The new CT log's public key (PEM PUBLIC KEY).", Required = true, HelpName = "FILE" };
        var url = new Option<string>("--url") { Description = "The new CT log's base URL.", Required = true, HelpName = "URL" };
        var command = new Command(
            "add-ctlog",
            "Append a new CT log key to a trusted root, valid from --valid-from (which may be in the future), so verifiers " +
            "accept its SCTs before the CA submits to it. Existing entries are unchanged.\n\n" +
            "Example:\n" +
            "  tlog trusted-root add-ctlog --root trusted_root.json --key ct-2027.pub --url https://ct.example.com/2027 --valid-from 2027-01-10T00:00:00Z --out trusted_root.json");
        CommandActions.AddOptions(command, root, key, url, validFrom, output);

        CommandActions.Set(command, host, CommandActions.OutputOption(), (parseResult, reporter, _) =>
        {
            var trusted = CommandActions.LoadTrustedRoot(parseResult.GetRequiredValue(root));
            var start = Second(parseResult.GetRequiredValue(validFrom));
            var pem = ReadBounded(parseResult.GetRequiredValue(key), "CT log key file");
            byte[] spki;
            try
            {
                var fields = PemEncoding.Find(pem);
                if (pem[fields.Label] != "PUBLIC KEY")
                {
                    throw new CliException(ExitCodes.Error, "the CT log key is not a PUBLIC KEY PEM");
                }

                spki = Convert.FromBase64String(pem[fields.Base64Data]);
            }
            catch (ArgumentException)
            {
                throw new CliException(ExitCodes.Error, "the CT log key is not PEM");
            }

            var log = TrustedRoot.CtLogFromSpki(spki, RequireUrl(parseResult.GetRequiredValue(url), "--url"), new ValidityPeriod(start, null));
            if (log.PublicKey.KeyDetails == "PUBLIC_KEY_DETAILS_UNSPECIFIED")
            {
                throw new CliException(ExitCodes.Error, "the CT log key is not a key type SCT verifiers accept (ECDSA P-256/P-384, RSA, Ed25519)");
            }

            if (trusted.Ctlogs.Any(l => l.LogId.AsSpan().SequenceEqual(log.LogId)))
            {
                throw new CliException(ExitCodes.Error, "this CT log key is already in the trusted root");
            }

            RequireAppendable(trusted.Ctlogs.Select(static l => l.PublicKey.ValidFor.Start), start, "CT log");
            var added = trusted with { Ctlogs = [.. trusted.Ctlogs, log] };
            return WriteAsync(host, reporter, parseResult.GetRequiredValue(output), added, $"CT log {log.BaseUrl} (log ID {Convert.ToHexStringLower(log.LogId)})", start);
        });
        return command;
    }

    public static Command AddTlog(CliHost host)
    {
        var (root, output, validFrom) = CommonOptions();
        var key = new Option<string>("--key") { Description = "The new log's public key (PEM PUBLIC KEY: Ed25519 or ECDSA P-256).", Required = true, HelpName = "FILE" };
        var baseUrl = new Option<string>("--base-url")
        {
            Description = "The new log's base URL; for a Rekor v2 log its host (and port) is the checkpoint origin, as sigstore-go and sigstore-js require.",
            Required = true,
            HelpName = "URL",
        };
        var rekorV2 = new Option<bool>("--rekor-v2") { Description = "A Rekor v2 (C2SP) log: the log ID is the note key hash under the base URL's host, not SHA-256(SPKI)." };
        var command = new Command(
            "add-tlog",
            "Append a new transparency log (a Rekor v2 period log, or a new Rekor v1 shard key) to a trusted root, valid from " +
            "--valid-from (its bring-up); existing entries are unchanged. Signers find a new log only through the signing " +
            "config (tlog signing-config add-rekor).\n\n" +
            "Example:\n" +
            "  tlog trusted-root add-tlog --root trusted_root.json --key log2027-1.pub --base-url https://log2027-1.rekor.example.com --rekor-v2 --valid-from 2027-01-01T00:00:00Z --out trusted_root.json");
        CommandActions.AddOptions(command, root, key, baseUrl, rekorV2, validFrom, output);

        CommandActions.Set(command, host, CommandActions.OutputOption(), (parseResult, reporter, _) =>
        {
            var trusted = CommandActions.LoadTrustedRoot(parseResult.GetRequiredValue(root));
            var start = Second(parseResult.GetRequiredValue(validFrom));
            LogPublicKey logKey;
            try
            {
                logKey = LogPublicKey.FromPem(ReadBounded(parseResult.GetRequiredValue(key), "log key file"));
            }
            catch (KeyLoadException e)
            {
                throw new CliException(ExitCodes.Error, $"the log key is unusable: {e.Message}");
            }

            var url = RequireUrl(parseResult.GetRequiredValue(baseUrl), "--base-url");
            var log = TrustedRoot.LogFromKey(logKey, url, new ValidityPeriod(start, null), c2spLogId: parseResult.GetValue(rekorV2));
            if (trusted.Tlogs.Any(l => l.LogId.AsSpan().SequenceEqual(log.LogId) || l.PublicKey.RawBytes.AsSpan().SequenceEqual(log.PublicKey.RawBytes)))
            {
                throw new CliException(ExitCodes.Error, "this log key is already in the trusted root");
            }

            RequireAppendable(trusted.Tlogs.Select(static l => l.PublicKey.ValidFor.Start), start, "transparency log");
            var added = trusted with { Tlogs = [.. trusted.Tlogs, log] };
            return WriteAsync(host, reporter, parseResult.GetRequiredValue(output), added, $"transparency log {log.BaseUrl} (log ID {Convert.ToHexStringLower(log.LogId)})", start);
        });
        return command;
    }

    private static (Option<string> Root, Option<string> Output, Option<DateTimeOffset> ValidFrom) CommonOptions() =>
    (
        new Option<string>("--root") { Description = "The trusted_root.json to extend (e.g. the one the TUF mirror serves).", Required = true, HelpName = "FILE" },
        new Option<string>("--out") { Description = "Where to write the extended trusted_root.json (may be --root).", Required = true, HelpName = "FILE" },
        new Option<DateTimeOffset>("--valid-from")
        {
            Description = "When the new material starts being used (RFC 3339); in the future to publish it ahead of the switch.",
            Required = true,
            HelpName = "RFC3339",
        });

    internal static DateTimeOffset Second(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, utc.Second, TimeSpan.Zero);
    }

    /// <summary>Entries stay sorted by start (the trusted root's invariant, checked by <c>tuf publish</c>): a new one goes last.</summary>
    private static void RequireAppendable(IEnumerable<DateTimeOffset?> starts, DateTimeOffset start, string what)
    {
        if (starts.Max() is { } latest && start < latest)
        {
            throw new CliException(
                ExitCodes.Error,
                $"--valid-from {start:yyyy-MM-ddTHH:mm:ssZ} is before the newest {what} entry's start ({latest.ToUniversalTime():yyyy-MM-ddTHH:mm:ssZ}); entries are appended in order of start");
        }
    }

    internal static string RequireUrl(string url, string option) =>
        url.Length <= 2048 && Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"
            ? url.TrimEnd('/')
            : throw new CliException(ExitCodes.Usage, $"{option} must be an http(s) URL");

    internal static string ReadBounded(string path, string what)
    {
        if (File.Exists(path) && new FileInfo(path).Length > MaxInputBytes)
        {
            throw new CliException(ExitCodes.Error, $"{what} '{path}' is larger than {MaxInputBytes} bytes");
        }

        return CommandActions.ReadInputFile(path, what);
    }

    /// <summary>
    /// The chain as given, checked: 1 to <see cref="MaxChainLength"/> certificates, each a CA certificate signed by the
    /// next, the last self-signed. Validity dates are not checked here (a chain published ahead may start later).
    /// </summary>
    private static List<X509Certificate2> ReadChain(string path)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(ReadBounded(path, "chain file"));
        }
        catch (CryptographicException)
        {
            throw new CliException(ExitCodes.Error, "the chain file holds an invalid certificate");
        }

        var list = certificates.ToList();
        try
        {
            if (list.Count is 0 or > MaxChainLength)
            {
                throw new CliException(ExitCodes.Error, $"the chain file must hold 1 to {MaxChainLength} PEM certificates, not {list.Count}");
            }

            foreach (var certificate in list)
            {
                if (certificate.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
                {
                    throw new CliException(ExitCodes.Error, $"{certificate.Subject} is not a CA certificate (basic constraints CA:TRUE)");
                }
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid;
            chain.ChainPolicy.CustomTrustStore.Add(list[^1]);
            chain.ChainPolicy.ExtraStore.AddRange(list.ToArray());
            var built = chain.Build(list[0]);
            if (!built || chain.ChainElements.Count != list.Count
                || !chain.ChainElements.Select(static e => e.Certificate.RawData).Zip(list).All(static p => p.First.AsSpan().SequenceEqual(p.Second.RawData)))
            {
                var reason = string.Join("; ", chain.ChainStatus.Select(static s => s.StatusInformation.Trim()).Where(static s => s.Length > 0));
                throw new CliException(ExitCodes.Error, "the chain is not in order (issuing certificate first, each signed by the next, self-signed root last)" + (reason.Length > 0 ? $": {reason}" : ""));
            }

            return list;
        }
        catch
        {
            foreach (var certificate in list)
            {
                certificate.Dispose();
            }

            throw;
        }
    }

    private static Task<int> WriteAsync(CliHost host, Reporter reporter, string outPath, TrustedRoot root, string what, DateTimeOffset start)
    {
        CommandActions.WriteFileAtomically(outPath, TrustedRoot.WithMediaTypeFor(root).ToJson() + "\n");
        var future = start > host.Context.Time.GetUtcNow() ? " (in the future: publish it now, switch then)" : "";
        reporter.Line($"Wrote {outPath}: added {what}, valid from {start:yyyy-MM-ddTHH:mm:ssZ}{future}");
        reporter.Line($"Publish it: tlog tuf add-target --repo DIR --name trusted_root.json --file {outPath}, then tuf sign and tuf publish");
        reporter.Result(new JsonObject { ["ok"] = true, ["trustedRoot"] = outPath, ["validFrom"] = start.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) });
        return Task.FromResult(ExitCodes.Success);
    }
}
