using System.CommandLine;
using TransparencyLog.Cli.Hosting;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Http;
using TransparencyLog.Sigstore.Bundles;

namespace TransparencyLog.Cli.Signing;

/// <summary>The flags <c>sign-blob</c> and <c>attest</c> share, and their resolution against environment variables.</summary>
internal sealed class SigningOptions
{
    public Option<string?> IdentityToken { get; } = new("--identity-token")
    {
        Description = "OIDC identity token to exchange for a signing certificate (else SIGSTORE_ID_TOKEN, else --dev-issuer).",
        HelpName = "JWT",
    };

    public Option<string?> DevIssuer { get; } = new("--dev-issuer")
    {
        Description = "Development OIDC issuer to mint a token from (POST {URL}/token). For local setups only.",
        HelpName = "URL",
    };

    public Option<string?> DevEmail { get; } = new("--dev-email")
    {
        Description = "Email claim to request from --dev-issuer.",
        HelpName = "EMAIL",
        DefaultValueFactory = static _ => "developer@example.com",
    };

    public Option<string?> FulcioUrl { get; } = new("--fulcio-url") { Description = "CA (Fulcio v2 API) base URL [env: FULCIO_URL].", HelpName = "URL" };

    public Option<string?> RekorUrl { get; } = new("--rekor-url")
    {
        Description = "Transparency log base URL [env: REKOR_URL; with --rekor-version 2: REKOR_V2_URL, else REKOR_URL].",
        HelpName = "URL",
    };

    public Option<int> RekorVersion { get; } = new Option<int>("--rekor-version")
    {
        Description = "Log API: 1 (Rekor v1, signed entry timestamp) or 2 (rekor-tiles: no entry timestamp, so an RFC 3161 timestamp is required).",
        HelpName = "1|2",
        DefaultValueFactory = static _ => 1,
    }.AcceptOnlyFromAmong("1", "2");

    public Option<string?> TsaUrl { get; } = new("--tsa-url") { Description = "RFC 3161 timestamp authority URL; a bare origin gets /api/v1/timestamp [env: TSA_URL].", HelpName = "URL" };

    public Option<string?> Key { get; } = new("--key")
    {
        Description = "Sign with this private key instead of keyless: cosign.key (cosign's encrypted format), PKCS#8, SEC1 or PKCS#1 PEM; " +
            "ECDSA P-256/P-384/P-521, RSA or Ed25519. Encrypted keys read COSIGN_PASSWORD (else TLOG_KEY_PASSWORD, else a prompt).",
        HelpName = "KEYFILE",
    };

    public Option<string?> Bundle { get; } = new("--bundle") { Description = "Where to write the bundle.", HelpName = "PATH" };

    public void AddTo(Command command)
    {
        CommandActions.AddOptions(command, IdentityToken, DevIssuer, DevEmail, FulcioUrl, RekorUrl, RekorVersion, TsaUrl, Key, Bundle);
    }

    /// <summary>Checks the flags before any network call, so misuse fails fast with exit code 2.</summary>
    public SigningPlan Resolve(ParseResult parseResult, CliHost host)
    {
        var rekorVersion = parseResult.GetValue(RekorVersion);
        // After tlog initialize, services not named by a flag or variable come from the TUF-distributed signing config.
        var fromConfig = Tuf.TufClientCache.IsInitialized(host.Context) && !HasExplicitServices(parseResult, host, rekorVersion)
            ? Tuf.TufClientCache.SigningConfig(host)
            : null;
        if (fromConfig is not null)
        {
            var now = host.Context.Time.GetUtcNow();
            var explicitVersion = parseResult.GetResult(RekorVersion) is { Implicit: false };
            var logs = Tuf.SigningServiceSelection.Selected(fromConfig.RekorTlogUrls, fromConfig.RekorTlogConfig, explicitVersion ? [rekorVersion] : [1, 2], now, "rekor");
            if (logs.Count == 0)
            {
                throw new CliException(ExitCodes.Error, "the signing config lists no transparency log valid now" + (explicitVersion ? $" with API version {rekorVersion}" : ""));
            }

            // Selection keeps one API version (the highest with a valid log), so every chosen log speaks the same API.
            rekorVersion = logs[0].MajorApiVersion;
            var tsaUrl = CommandActions.FlagOrEnv(parseResult, TsaUrl, host, "TSA_URL");
            return ResolveWith(
                parseResult,
                host,
                [.. logs.Select(static l => l.Url)],
                rekorVersion,
                tsaUrl is not null ? [tsaUrl] : [.. Tuf.SigningServiceSelection.Selected(fromConfig.TsaUrls, fromConfig.TsaConfig, [1], now, "tsa").Select(static t => t.Url)],
                CommandActions.FlagOrEnv(parseResult, FulcioUrl, host, "FULCIO_URL") ?? Tuf.SigningServiceSelection.One(fromConfig.CaUrls, [1], now)?.Url);
        }

        var rekorUrl = rekorVersion == 2
            ? CommandActions.Required(
                CommandActions.FlagOrEnv(parseResult, RekorUrl, host, "REKOR_V2_URL") ?? host.Context.Env("REKOR_URL"),
                "no Rekor v2 log URL: pass --rekor-url or set REKOR_V2_URL")
            : CommandActions.Required(
                CommandActions.FlagOrEnv(parseResult, RekorUrl, host, "REKOR_URL"),
                "no transparency log URL: pass --rekor-url or set REKOR_URL");
        return ResolveWith(
            parseResult,
            host,
            [rekorUrl],
            rekorVersion,
            CommandActions.FlagOrEnv(parseResult, TsaUrl, host, "TSA_URL") is { } tsa ? [tsa] : [],
            CommandActions.FlagOrEnv(parseResult, FulcioUrl, host, "FULCIO_URL"));
    }

    private bool HasExplicitServices(ParseResult parseResult, CliHost host, int rekorVersion) =>
        CommandActions.FlagOrEnv(parseResult, RekorUrl, host, rekorVersion == 2 ? "REKOR_V2_URL" : "REKOR_URL") is not null;

    private SigningPlan ResolveWith(ParseResult parseResult, CliHost host, IReadOnlyList<string> rekorUrls, int rekorVersion, IReadOnlyList<string> tsaUrls, string? caUrl)
    {
        if (rekorVersion == 2 && tsaUrls.Count == 0)
        {
            throw new CliException(
                ExitCodes.Usage,
                "--rekor-version 2 needs a timestamp authority: a Rekor v2 log returns no signed entry timestamp, so the bundle's only time " +
                "evidence is an RFC 3161 timestamp; pass --tsa-url or set TSA_URL");
        }

        var keyFile = parseResult.GetValue(Key);
        var token = parseResult.GetValue(IdentityToken);
        var devIssuer = parseResult.GetValue(DevIssuer);
        if (keyFile is not null)
        {
            if (token is not null || devIssuer is not null)
            {
                throw new CliException(ExitCodes.Usage, "--key signs with your own key; it cannot be combined with --identity-token or --dev-issuer");
            }

            return new SigningPlan(rekorUrls, rekorVersion, tsaUrls, keyFile, null, null, null, null);
        }

        var fulcioUrl = CommandActions.Required(
            caUrl,
            "no CA URL for keyless signing: pass --fulcio-url or set FULCIO_URL (or sign with --key)");
        token ??= devIssuer is null ? host.Context.Env("SIGSTORE_ID_TOKEN") : null;
        if (token is null && devIssuer is null)
        {
            throw new CliException(
                ExitCodes.Usage,
                "no identity token: pass --identity-token, set SIGSTORE_ID_TOKEN, use --dev-issuer URL, or sign with --key");
        }

        return new SigningPlan(rekorUrls, rekorVersion, tsaUrls, null, fulcioUrl, token, devIssuer, parseResult.GetValue(DevEmail));
    }
}

/// <summary>A DSSE envelope signed, timestamped and logged: what a v0.3 bundle over it needs.</summary>
internal sealed record SignedEnvelope(DsseEnvelope Envelope, string? Uuid, IReadOnlyList<TransparencyLogEntry> Entries, IReadOnlyList<byte[]> Timestamps)
{
    public Bundle ToBundle(SigningIdentity signer) => new(Bundle.MediaTypeV03, signer.Material(Entries, Timestamps), null, Envelope);
}

/// <summary>
/// Resolved signing inputs: where to log (one or more logs, all with one API version) and timestamp (none, one or
/// more TSAs), and how to get a key. The one place
/// every signing command (blobs and images) obtains its signer and logs and timestamps what it signed.
/// </summary>
internal sealed record SigningPlan(IReadOnlyList<string> RekorUrls, int RekorVersion, IReadOnlyList<string> TsaUrls, string? KeyFile, string? FulcioUrl, string? Token, string? DevIssuer, string? DevEmail)
{
    public async Task<SigningIdentity> ObtainSignerAsync(CliHost host, Action<string> step, CancellationToken cancellationToken)
    {
        if (KeyFile is not null)
        {
            step("Loading the signing key");
            return SigningIdentity.FromKeyFile(KeyFile, KeyPassword.ForReading(host.Context, KeyFile));
        }

        var token = Token;
        if (token is null && DevIssuer is not null)
        {
            step("Minting a development identity token");
            token = await new DevTokenClient(host.Context.Http).MintAsync(DevIssuer, DevEmail, null, "sigstore", null, cancellationToken);
        }

        step("Requesting a signing certificate");
        return await SigningIdentity.KeylessAsync(
            new FulcioClient(host.Context.Http, FulcioUrl ?? throw new InvalidOperationException("keyless plan without a CA URL")),
            token ?? throw new InvalidOperationException("keyless plan without a token"),
            cancellationToken);
    }

    /// <summary>
    /// Records the signature in every chosen log: the v1 proposed entry, or the v2 request built only when v2 is
    /// selected. Returns the first log's v1 UUID (v2 has none) and the bundle's tlog entries, in selection order.
    /// </summary>
    public async Task<(string? Uuid, IReadOnlyList<TransparencyLogEntry> Entries)> RecordAsync(
        CliHost host, Func<JsonObject> v1Entry, Func<JsonObject> v2Request, Action<string> step, CancellationToken cancellationToken)
    {
        string? uuid = null;
        var entries = new List<TransparencyLogEntry>(RekorUrls.Count);
        foreach (var rekorUrl in RekorUrls)
        {
            var where = RekorUrls.Count == 1 ? "" : $" ({rekorUrl})";
            if (RekorVersion == 2)
            {
                step("Recording the signature in the Rekor v2 log" + where);
                entries.Add(await new RekorV2Client(host.Context.Http, rekorUrl).CreateEntryAsync(v2Request(), cancellationToken));
                continue;
            }

            step("Recording the signature in the transparency log" + where);
            var (logged, entry) = await new RekorClient(host.Context.Http, rekorUrl).CreateEntryAsync(v1Entry(), cancellationToken);
            uuid ??= logged;
            entries.Add(entry);
        }

        return (uuid, entries);
    }

    /// <summary>
    /// Signs an in-toto statement as DSSE, timestamps the signature and records the envelope (dsse 0.0.1 on Rekor v1,
    /// 0.0.2 on v2): <c>tlog attest</c> for files and the bundle form of <c>tlog sign</c>/<c>attest</c> for images.
    /// </summary>
    public async Task<SignedEnvelope> SignStatementAsync(CliHost host, SigningIdentity signer, byte[] statement, Action<string> step, CancellationToken cancellationToken)
    {
        var envelope = signer.SignEnvelope(statement);
        var timestamps = await TimestampAsync(host, envelope.Signatures[0].Sig, step, cancellationToken);
        var (uuid, entries) = await RecordAsync(
            host, () => signer.DsseEntry(envelope), () => RekorV2Client.DsseRequest(envelope, signer.RekorV2Verifier()), step, cancellationToken);
        return new SignedEnvelope(envelope, uuid, entries, timestamps);
    }

    public async Task<IReadOnlyList<byte[]>> TimestampAsync(CliHost host, byte[] signature, Action<string> step, CancellationToken cancellationToken)
    {
        var tokens = new List<byte[]>(TsaUrls.Count);
        foreach (var tsaUrl in TsaUrls)
        {
            step("Requesting an RFC 3161 timestamp" + (TsaUrls.Count == 1 ? "" : $" ({tsaUrl})"));
            tokens.Add(await new TsaClient(host.Context.Http, tsaUrl).TimestampAsync(signature, cancellationToken));
        }

        return tokens;
    }
}
