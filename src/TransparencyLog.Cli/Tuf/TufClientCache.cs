using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Tuf;

namespace TransparencyLog.Cli.Tuf;

/// <summary>
/// Trust that <c>tlog initialize</c> cached from a TUF mirror (as <c>cosign initialize</c> does): the mirror in
/// <c>remote.json</c>, the verified metadata and targets next to it under <c>$TLOG_TUF_CACHE</c> (default
/// <c>~/.config/tlog/tuf</c>). Every use refreshes from the mirror first; an unreachable mirror falls back to the last
/// verified copy with a warning, a mirror that fails a TUF check is an error.
/// </summary>
internal static class TufClientCache
{
    public const string TrustedRootTarget = "trusted_root.json";
    public const string SigningConfigTarget = "signing_config.v0.2.json";

    public static string Directory(TlogContext context) =>
        context.Env("TLOG_TUF_CACHE") ?? Path.Combine(context.HomeDirectory, ".config", "tlog", "tuf");

    public static bool IsInitialized(TlogContext context) => File.Exists(Path.Combine(Directory(context), "remote.json"));

    /// <summary>Trusts <paramref name="root"/> for <paramref name="mirror"/>, forgetting any earlier mirror, then refreshes.</summary>
    public static async Task<TufTrustedState> InitializeAsync(CliHost host, Uri mirror, byte[] root, CancellationToken cancellationToken)
    {
        var directory = Directory(host.Context);
        TufUpdater.Bootstrap(directory, root);
        var updater = new TufUpdater(host.Context.Http, mirror, directory);
        var state = await updater.RefreshAsync(host.Context.Time.GetUtcNow(), cancellationToken);
        await updater.GetTargetAsync(state, TrustedRootTarget, cancellationToken);
        if (state.TargetFiles.ContainsKey(SigningConfigTarget))
        {
            await updater.GetTargetAsync(state, SigningConfigTarget, cancellationToken);
        }

        // Written last: a failed initialize leaves no half-trusted mirror behind.
        CommandActions.WriteFileAtomically(Path.Combine(directory, "remote.json"), new JsonObject { ["mirror"] = mirror.ToString() }.ToJsonString() + "\n");
        return state;
    }

    /// <summary>
    /// The trusted root to verify with: <c>--trusted-root</c>, else <c>TLOG_TRUSTED_ROOT</c>, else the TUF-distributed
    /// one after <c>tlog initialize</c>, else <c>TRUSTED_ROOT</c> (what <c>./run.sh</c> writes), else <c>SIGSTORE_ROOT_FILE</c>.
    /// </summary>
    public static string? ResolveTrustedRootPath(CliHost host, string? flag)
    {
        ArgumentNullException.ThrowIfNull(host);
        return flag
            ?? host.Context.Env("TLOG_TRUSTED_ROOT")
            ?? (IsInitialized(host.Context) ? TargetPath(host, TrustedRootTarget) : null)
            ?? host.Context.Env("TRUSTED_ROOT")
            ?? host.Context.Env("SIGSTORE_ROOT_FILE");
    }

    /// <summary>The TUF-distributed signing config, when <c>tlog initialize</c> ran and the repository has one.</summary>
    public static SigningConfig? SigningConfig(CliHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (!IsInitialized(host.Context) || TargetPath(host, SigningConfigTarget) is not { } path)
        {
            return null;
        }

        try
        {
            return Sigstore.TrustRoot.SigningConfig.Parse(File.ReadAllText(path, Encoding.UTF8));
        }
        catch (BundleFormatException ex)
        {
            throw new CliException(ExitCodes.Error, $"the TUF repository's {SigningConfigTarget} is invalid: {ex.Message}");
        }
    }

    /// <summary>Refreshes from the mirror and returns the cached, verified target file (null when the repository lacks it).</summary>
    private static string? TargetPath(CliHost host, string name)
    {
        var directory = Directory(host.Context);
        var cached = Path.Combine(directory, "targets", name);
        Uri mirror;
        try
        {
            var remote = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "remote.json")));
            mirror = new Uri(remote?["mirror"]?.GetValue<string>() ?? throw new FormatException("no mirror"));
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException or InvalidOperationException or UriFormatException)
        {
            throw new CliException(ExitCodes.Error, $"{directory}/remote.json is damaged: run tlog initialize again");
        }

        try
        {
            // Command handlers are synchronous here; the CLI has no synchronization context to deadlock on.
            var updater = new TufUpdater(host.Context.Http, mirror, directory);
            var state = updater.RefreshAsync(host.Context.Time.GetUtcNow()).GetAwaiter().GetResult();
            if (!state.TargetFiles.ContainsKey(name))
            {
                return null;
            }

            updater.GetTargetAsync(state, name).GetAwaiter().GetResult();
            return cached;
        }
        catch (TufException ex)
        {
            throw new CliException(ExitCodes.Error, $"the TUF mirror {mirror} was refused ({ex.Code}): {ex.Message}", "TUF_" + ex.Code.ToUpperInvariant());
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && File.Exists(cached))
        {
            host.Error.WriteLine($"warning: the TUF mirror {mirror} is unreachable; using the last verified {name}");
            return cached;
        }
    }
}
