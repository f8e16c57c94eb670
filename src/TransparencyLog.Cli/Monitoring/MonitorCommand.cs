using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>
/// <c>tlog monitor</c>: rekor-monitor's flags and configuration over our logs. <c>--once</c> (the default, as in
/// rekor-monitor) runs one cycle for CI; <c>--once=false</c> runs as a daemon, woken by the log's entry stream when
/// it has one and every <c>--interval</c> otherwise.
/// </summary>
internal static partial class MonitorCommand
{
    /// <summary><c>--once</c> found watched identities (events were printed and sent).</summary>
    public const int IdentitiesFound = 5;

    private const int DefaultMetricsPort = 9464;

    public static Command Create(CliHost host)
    {
        var configFile = new Option<string?>("--config-file") { Description = "rekor-monitor YAML configuration (monitoredValues, startIndex, endIndex, ...; plus alerts.webhooks).", HelpName = "PATH" };
        var config = new Option<string?>("--config") { Description = "The same configuration inline, as YAML text.", HelpName = "YAML" };
        var once = new Option<bool>("--once") { Description = "Run one cycle and exit (default true, as rekor-monitor); --once=false runs as a daemon.", DefaultValueFactory = _ => true };
        var interval = new Option<string>("--interval") { Description = "Daemon: time between cycles without stream events (Go duration, default 5m).", HelpName = "DURATION", DefaultValueFactory = _ => "5m" };
        var url = new Option<string?>("--url") { Description = "The log's base URL [env: REKOR_URL].", HelpName = "URL" };
        var kind = new Option<string>("--log-kind") { Description = "rekor-v1 (tiles at the URL's root, default), rekor-v2 (tiles under /api/v2) or ct (a certificate-transparency log's tiles at its URL, e.g. $CT_LOG_URL: x509 and precert entries are matched).", HelpName = "KIND", DefaultValueFactory = _ => "rekor-v1" };
        var vkey = new Option<string?>("--vkey") { Description = "The log's C2SP verifier key or a file holding it (default: the key the log serves, pinned in the state on first use).", HelpName = "VKEY" };
        var state = new Option<string?>("--state", "--file") { Description = "State file (default: the config's logInfoFile, else ~/.config/tlog/monitor/<sha256 of URL>.json).", HelpName = "PATH" };
        var metricsPort = new Option<int?>("--metrics-port") { Description = "Daemon: serve Prometheus /metrics on this port (default 9464; 0 = off).", HelpName = "PORT" };
        var webhooks = new Option<string[]>("--webhook") { Description = "POST every event as JSON to this URL (repeatable; retried with backoff).", HelpName = "URL", AllowMultipleArgumentsPerToken = false };
        var stateDb = new Option<string?>("--state-db") { Description = "Keep the position and every alert in PostgreSQL (a connection string; schema from migrations/) instead of a state file: an alert is sent once, also across restarts, and the log explorer's health page shows it when this is the log's database.", HelpName = "CONNSTRING" };
        var stateDbPassword = new Option<string?>("--state-db-password-file") { Description = "The --state-db role's password, from a file (keeps it off the command line).", HelpName = "PATH" };
        var source = new Option<string>("--log-source") { Description = "auto (default): the log's tiles when it serves them, else its API; tiles; api: Rekor v1's REST API (/api/v1/log, /proof, /entries/retrieve) or a CT log's RFC 6962 API (get-sth, get-sth-consistency, get-entries), for logs without tiles.", HelpName = "auto|tiles|api", DefaultValueFactory = _ => "auto" };
        var stream = new Option<string>("--stream") { Description = "auto (default): use the log's entry stream when offered; off: poll only.", HelpName = "auto|off", DefaultValueFactory = _ => "auto" };
        var command = new Command(
            "monitor",
            "Watch a transparency log: verify every checkpoint is consistent with the last one verified (exit 4 / alert on " +
            "a fork, a shrink or a bad signature), read every new entry (from the tiles, or the Rekor v1 / RFC 6962 API of a log " +
            "that serves none), and report entries whose " +
            "certificate identity, key fingerprint or extensions are on the watch list (a rekor-monitor configuration). " +
            "Each event is a JSON line on stdout, a webhook POST and a Prometheus counter. --once exits 0 (nothing found), " +
            "5 (identities found), 4 (the log misbehaved) or 1 (could not check).\n\n" +
            "Examples:\n  tlog monitor --config-file monitor.yaml --url http://127.0.0.1:3000\n" +
            "  tlog monitor --config-file monitor.yaml --once=false --interval 1m --webhook https://hooks.example/tlog");
        var witnessPolicy = SplitViewCheck.Option();
        CommandActions.AddOptions(command, configFile, config, once, interval, url, kind, source, vkey, state, metricsPort, webhooks, stream, stateDb, stateDbPassword, witnessPolicy);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                var settings = new Settings(
                    LoadConfig(parseResult.GetValue(configFile), parseResult.GetValue(config)),
                    parseResult.GetValue(once),
                    ParseDuration(parseResult.GetValue(interval) ?? "5m"),
                    CommandActions.Required(parseResult.GetValue(url) ?? host.Context.Env("REKOR_URL"), "no log URL: pass --url or set REKOR_URL").TrimEnd('/'),
                    parseResult.GetValue(kind) ?? "rekor-v1",
                    parseResult.GetValue(source) ?? "auto",
                    parseResult.GetValue(vkey),
                    parseResult.GetValue(state),
                    parseResult.GetValue(metricsPort),
                    parseResult.GetValue(webhooks) ?? [],
                    parseResult.GetValue(stream) ?? "auto",
                    parseResult.GetValue(stateDb),
                    parseResult.GetValue(stateDbPassword));
                return await RunAsync(host, settings, cancellationToken, SplitViewCheck.From(parseResult, witnessPolicy, host));
            }
            catch (CliException ex)
            {
                await host.Error.WriteLineAsync(ex.Code is null ? $"Error: {ex.Message}" : $"Error: {ex.Code}: {ex.Message}");
                return ex.ExitCode;
            }
        });
        return command;
    }

    private sealed record Settings(
        MonitorConfig Config, bool Once, TimeSpan Interval, string Url, string Kind, string Source, string? Vkey, string? StatePath, int? MetricsPort, string[] Webhooks, string Stream, string? StateDb, string? StateDbPasswordFile);

    private static async Task<int> RunAsync(CliHost host, Settings settings, CancellationToken cancellationToken, SplitViewCheck? splitView = null)
    {
        var prefix = settings.Kind switch
        {
            "rekor-v1" => settings.Url,
            "rekor-v2" => settings.Url + "/api/v2",
            "ct" => settings.Url,
            _ => throw new CliException(ExitCodes.Usage, "--log-kind must be rekor-v1, rekor-v2 or ct"),
        };
        if (settings.Stream is not ("auto" or "off"))
        {
            throw new CliException(ExitCodes.Usage, "--stream must be auto or off");
        }

        var api = await ApiClientAsync(host, settings, prefix, cancellationToken);
        if (api is CtApiLogClient && splitView is not null)
        {
            throw new CliException(ExitCodes.Usage, "--witness-policy compares checkpoint notes: follow the CT log's tiles (--log-source tiles), not its RFC 6962 API");
        }

        await using var store = OpenStore(host, settings, api?.BaseUrl ?? prefix);
        var key = await VerifierKeyAsync(host, settings, store, api, cancellationToken);
        using var metrics = new MonitorMetrics();
        var alerts = new AlertSinks(host.Output, host.Context.Http, Webhooks(host, settings), settings.Config.OutputIdentities, metrics, host.Error);
        var follower = new LogFollower(
            new TileLogClient(host.Context.Http, prefix), key, new IdentityMatcher(settings.Config.MonitoredValues), settings.Config, alerts, metrics, host.Context.Time, settings.Url, store, splitView, api);
        if (!settings.Config.WatchesAnything)
        {
            await host.Error.WriteLineAsync("note: the configuration watches no identities; checking the log's consistency only");
        }

        if (settings.Once)
        {
            var result = await CycleAsync(host, follower, daemon: false, cancellationToken);
            return result.Misbehaviour is not null ? ExitCodes.LogInconsistent : result.Matches > 0 ? IdentitiesFound : ExitCodes.Success;
        }

        if ((settings.MetricsPort ?? DefaultMetricsPort) is > 0 and var port)
        {
            try
            {
                metrics.Serve(port);
            }
            catch (System.Net.HttpListenerException ex)
            {
                throw new CliException(ExitCodes.Error, $"cannot serve metrics on port {port}: {ex.Message}");
            }
        }

        return await DaemonAsync(host, settings, follower, cancellationToken);
    }

    private static async Task<int> DaemonAsync(CliHost host, Settings settings, LogFollower follower, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var waker = settings.Stream == "auto" && settings.Kind == "rekor-v1" ? new EntryStreamWaker(host.Context.Http, settings.Url, host.Error) : null;
        Task? listening = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var result = await CycleAsync(host, follower, daemon: true, stop.Token);
                if (waker is not null && listening is null && result.Size >= 0)
                {
                    listening = waker.RunAsync(result.Size, stop.Token);
                }

                if (waker is not null && listening is { IsCompleted: false })
                {
                    await waker.WaitAsync(settings.Interval, stop.Token);
                }
                else
                {
                    await Task.Delay(settings.Interval, host.Context.Time, stop.Token);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            await stop.CancelAsync();
            if (listening is not null)
            {
                await listening.ContinueWith(static _ => { }, TaskScheduler.Default);
            }
        }

        return ExitCodes.Success;
    }

    /// <summary>One cycle; a daemon survives a cycle that could not check (it says why and tries again).</summary>
    private static async Task<CycleResult> CycleAsync(CliHost host, LogFollower follower, bool daemon, CancellationToken cancellationToken)
    {
        try
        {
            return await follower.RunAsync(cancellationToken);
        }
        catch (MonitorLogException ex) when (!daemon)
        {
            throw new CliException(ExitCodes.Error, $"the log served malformed data: {ex.Message}");
        }
        catch (Exception ex) when (daemon && ex is MonitorLogException or CliException { ExitCode: ExitCodes.Error } && !cancellationToken.IsCancellationRequested)
        {
            await host.Error.WriteLineAsync($"warning: {ex.Message}; retrying");
            return new CycleResult(0, 0, null, -1);
        }
    }

    /// <summary>The state file (default) or, with <c>--state-db</c>, PostgreSQL keyed by the log's URL (its tiles' prefix).</summary>
    private static IMonitorStore OpenStore(CliHost host, Settings settings, string logUrl)
    {
        if (settings.StateDb is { } connection)
        {
            if (settings.StatePath is not null)
            {
                throw new CliException(ExitCodes.Usage, "give --state or --state-db, not both");
            }

            return DatabaseMonitorStore.Open(connection, settings.StateDbPasswordFile, logUrl, host.Context.Time);
        }

        if (settings.StateDbPasswordFile is not null)
        {
            throw new CliException(ExitCodes.Usage, "--state-db-password-file needs --state-db");
        }

        // A tiles follower's default file is named after the URL (as before); an API follower's after the API's URL,
        // since its state holds no tree edge and must not be taken for a tiles follower's.
        return new FileMonitorStore(settings.StatePath ?? settings.Config.LogInfoFile ?? DefaultStatePath(host, logUrl == settings.Url || logUrl.EndsWith("/api/v2", StringComparison.Ordinal) ? settings.Url : logUrl));
    }

    /// <summary>
    /// The API client when the log is followed through its API: asked for with <c>--log-source api</c>, or chosen
    /// when the log answers 404 for its tiles' checkpoint. The Rekor v2 log has no API to follow but its tiles.
    /// </summary>
    private static async Task<ApiLogClient?> ApiClientAsync(CliHost host, Settings settings, string prefix, CancellationToken cancellationToken)
    {
        if (settings.Source is not ("auto" or "tiles" or "api"))
        {
            throw new CliException(ExitCodes.Usage, "--log-source must be auto, tiles or api");
        }

        if (settings.Kind == "rekor-v2")
        {
            return settings.Source == "api" ? throw new CliException(ExitCodes.Usage, "the Rekor v2 log is followed through its tiles only: --log-source api needs --log-kind rekor-v1 or ct") : null;
        }

        var useApi = settings.Source == "api";
        if (settings.Source == "auto")
        {
            var (status, _, response) = await Http.ServiceCall.SendAsync(host.Context.Http, new HttpRequestMessage(HttpMethod.Get, Http.ServiceCall.Url(prefix, "/checkpoint")), "the log", cancellationToken);
            response.Dispose();
            useApi = status == System.Net.HttpStatusCode.NotFound;
            if (useApi)
            {
                await host.Error.WriteLineAsync("note: the log serves no tiles; following it through its API");
            }
        }

        return !useApi ? null : settings.Kind == "ct" ? new CtApiLogClient(host.Context.Http, settings.Url) : new RekorApiLogClient(host.Context.Http, settings.Url);
    }

    private static async Task<NoteVerifierKey> VerifierKeyAsync(CliHost host, Settings settings, IMonitorStore store, ApiLogClient? api, CancellationToken cancellationToken)
    {
        var text = settings.Vkey is { } given
            ? File.Exists(given) ? (await File.ReadAllTextAsync(given, cancellationToken)).Trim() : given.Trim()
            : (await store.LoadAsync(cancellationToken))?.VerifierKey;
        if (api is not null && text is not null && text.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            // A PEM public key (a CT log's, from a log list; or Rekor's /api/v1/log/publicKey) named as the log is.
            text = await NamedKeyAsync(host, settings, api, text, cancellationToken);
        }

        if (text is null && api is not null)
        {
            text = await ApiVerifierKeyAsync(host, settings, api, cancellationToken);
            await host.Error.WriteLineAsync($"note: trusting the log's key on first use: {text}");
        }

        if (text is null && settings.Kind == "ct")
        {
            text = await CtVerifierKeyAsync(host, settings.Url, cancellationToken);
            await host.Error.WriteLineAsync($"note: trusting the log's key on first use: {text}");
        }

        if (text is null)
        {
            var path = settings.Kind == "rekor-v2" ? "/api/v2/log/verifierKey" : "/api/v1/log/verifierKey";
            text = Encoding.UTF8.GetString(await Http.ServiceCall.GetAsync(host.Context.Http, Http.ServiceCall.Url(settings.Url, path), "the log", cancellationToken)).Trim();
            await host.Error.WriteLineAsync($"note: trusting the log's key on first use: {text}");
        }

        try
        {
            return NoteVerifierKey.Parse(text);
        }
        catch (FormatException ex)
        {
            throw new CliException(ExitCodes.Usage, $"the log's verifier key is not a C2SP verifier key: {ex.Message}");
        }
    }

    /// <summary>
    /// A CT log publishes no note verifier key: its checkpoint is signed with its RFC 6962 key under the checkpoint's
    /// origin, so the key is that origin with the key from <c>/v1/public-key</c>.
    /// </summary>
    private static async Task<string> CtVerifierKeyAsync(CliHost host, string url, CancellationToken cancellationToken)
    {
        var checkpoint = Encoding.UTF8.GetString(await Http.ServiceCall.GetAsync(host.Context.Http, Http.ServiceCall.Url(url, "/checkpoint"), "the CT log", cancellationToken));
        var pem = Encoding.UTF8.GetString(await Http.ServiceCall.GetAsync(host.Context.Http, Http.ServiceCall.Url(url, "/v1/public-key"), "the CT log", cancellationToken));
        try
        {
            return new NoteVerifierKey(checkpoint.Split('\n', 2)[0], LogPublicKey.FromPem(pem)).VerifierKey;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or CryptographicException)
        {
            throw new CliException(ExitCodes.Error, $"the CT log's checkpoint origin or public key is unusable: {ex.Message}");
        }
    }

    /// <summary>
    /// The key of a log followed through its API, trusted on first use: Rekor v1's C2SP verifier key
    /// (<c>/api/v1/log/verifierKey</c>, ours) or, where that is missing (public Rekor), its PEM public key under its
    /// checkpoint's origin; a CT log's PEM key (<c>/v1/public-key</c>, ours).
    /// </summary>
    private static async Task<string> ApiVerifierKeyAsync(CliHost host, Settings settings, ApiLogClient api, CancellationToken cancellationToken)
    {
        if (api is CtApiLogClient)
        {
            var pem = Encoding.UTF8.GetString(await Http.ServiceCall.GetAsync(host.Context.Http, Http.ServiceCall.Url(settings.Url, "/v1/public-key"), "the CT log", cancellationToken));
            return await NamedKeyAsync(host, settings, api, pem, cancellationToken);
        }

        var (status, body, response) = await Http.ServiceCall.SendAsync(host.Context.Http, new HttpRequestMessage(HttpMethod.Get, Http.ServiceCall.Url(settings.Url, "/api/v1/log/verifierKey")), "the log", cancellationToken);
        response.Dispose();
        if (status == System.Net.HttpStatusCode.OK)
        {
            return Encoding.UTF8.GetString(body).Trim();
        }

        var publicKey = Encoding.UTF8.GetString(await Http.ServiceCall.GetAsync(host.Context.Http, Http.ServiceCall.Url(settings.Url, "/api/v1/log/publicKey"), "the log", cancellationToken));
        return await NamedKeyAsync(host, settings, api, publicKey, cancellationToken);
    }

    /// <summary>
    /// A PEM key as a C2SP verifier key: named as the Rekor log's checkpoint origin (the first line of its signed tree
    /// head), or, for a CT log (whose STH names nobody), as its URL without the scheme.
    /// </summary>
    private static async Task<string> NamedKeyAsync(CliHost host, Settings settings, ApiLogClient api, string pem, CancellationToken cancellationToken)
    {
        string name;
        if (api is CtApiLogClient)
        {
            name = new Uri(settings.Url).GetComponents(UriComponents.HostAndPort | UriComponents.Path, UriFormat.Unescaped).TrimEnd('/');
        }
        else
        {
            using var info = System.Text.Json.JsonDocument.Parse(await Http.ServiceCall.GetAsync(host.Context.Http, Http.ServiceCall.Url(settings.Url, "/api/v1/log"), "the log", cancellationToken));
            name = info.RootElement.TryGetProperty("signedTreeHead", out var sth) && sth.GetString() is { } note
                ? note.Split('\n', 2)[0]
                : throw new CliException(ExitCodes.Error, "the log's info has no signedTreeHead");
        }

        try
        {
            return new NoteVerifierKey(name, LogPublicKey.FromPem(pem)).VerifierKey;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or CryptographicException or KeyLoadException)
        {
            throw new CliException(ExitCodes.Error, $"the log's public key is unusable: {ex.Message}");
        }
    }

    private static List<(Uri, byte[]?)> Webhooks(CliHost host, Settings settings)
    {
        var hooks = new List<(Uri, byte[]?)>();
        foreach (var url in settings.Webhooks)
        {
            hooks.Add((WebhookUri(url), null));
        }

        foreach (var webhook in settings.Config.Alerts.Webhooks)
        {
            byte[]? secret = null;
            if (webhook.SecretEnv is { } variable)
            {
                secret = host.Context.Env(variable) is { } value
                    ? Encoding.UTF8.GetBytes(value)
                    : throw new CliException(ExitCodes.Usage, $"the webhook secret variable {variable} is not set");
            }

            hooks.Add((WebhookUri(webhook.Url), secret));
        }

        return hooks;
    }

    private static Uri WebhookUri(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new CliException(ExitCodes.Usage, $"webhook '{url}' is not an http(s) URL");

    private static MonitorConfig LoadConfig(string? file, string? inline)
    {
        if (file is not null && inline is not null)
        {
            throw new CliException(ExitCodes.Usage, "give --config-file or --config, not both");
        }

        if (file is not null)
        {
            var info = new FileInfo(file);
            if (!info.Exists)
            {
                throw new CliException(ExitCodes.Usage, $"configuration file '{file}' does not exist");
            }

            return info.Length <= MonitorConfig.MaxFileBytes
                ? MonitorConfig.Parse(File.ReadAllText(file), file)
                : throw new CliException(ExitCodes.Usage, $"configuration file '{file}' is larger than {MonitorConfig.MaxFileBytes} bytes");
        }

        if (inline is not null)
        {
            return inline.Length <= MonitorConfig.MaxFileBytes ? MonitorConfig.Parse(inline, "--config") : throw new CliException(ExitCodes.Usage, "--config is too long");
        }

        return new MonitorConfig();
    }

    private static string DefaultStatePath(CliHost host, string url)
    {
        var home = host.Context.HomeDirectory is { Length: > 0 } h ? h : throw new CliException(ExitCodes.Usage, "no home directory: pass --state");
        var name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url)));
        return Path.Combine(home, ".config", "tlog", "monitor", name + ".json");
    }

    /// <summary>Go's <c>time.ParseDuration</c> subset rekor-monitor users write: <c>90s</c>, <c>5m</c>, <c>1h30m</c>, <c>500ms</c>.</summary>
    internal static TimeSpan ParseDuration(string text)
    {
        var match = DurationPattern().Match(text.Trim());
        if (!match.Success || text.Trim().Length == 0)
        {
            throw new CliException(ExitCodes.Usage, $"--interval '{text}' is not a duration like 30s, 5m or 1h");
        }

        var total = TimeSpan.Zero;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unit = part.Value.TrimStart("0123456789.".ToCharArray());
            var number = double.Parse(part.Value[..^unit.Length], CultureInfo.InvariantCulture);
            total += unit switch
            {
                "ms" => TimeSpan.FromMilliseconds(number),
                "s" => TimeSpan.FromSeconds(number),
                "m" => TimeSpan.FromMinutes(number),
                _ => TimeSpan.FromHours(number),
            };
        }

        return total > TimeSpan.Zero && total <= TimeSpan.FromDays(7)
            ? total
            : throw new CliException(ExitCodes.Usage, "--interval must be between 1ms and 7 days");
    }

    [GeneratedRegex(@"^(?<part>[0-9]+(\.[0-9]+)?(ms|s|m|h))+$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();
}
