using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using TransparencyLog.Admission.Webhook;
using TransparencyLog.Hosting;
using TransparencyLog.Policy.Documents;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Admission.Policies;

/// <summary>
/// The policies in force: loaded from <see cref="AdmissionOptions.PoliciesDirectory"/> at start and again whenever
/// a file there changes (file-system events, plus polling because mounted ConfigMaps swap symlinks). A set that does
/// not load is refused as a whole and the previous one stays in force.
/// </summary>
internal sealed class PolicyStore : IDisposable
{
    private readonly AdmissionOptions _options;
    private readonly ILogger<PolicyStore> _logger;
    private readonly FileSystemWatcher? _watcher;
    private readonly Timer _poll;
    private readonly Lock _reloadLock = new();
    private readonly HttpClient _tufHttp;
    private readonly TimeProvider _time;
    private string _fingerprint = string.Empty;
    private DateTimeOffset _resolvedAt;
    private PolicySet? _current;

    public PolicyStore(IOptions<AdmissionOptions> options, IHttpClientFactory http, TimeProvider time, ILogger<PolicyStore> logger)
    {
        _options = options.Value;
        _logger = logger;
        _tufHttp = http.CreateClient("tuf");
        _time = time;
        DefaultRoot = _options.TrustedRootPath is { } path ? TrustedRoot.Parse(File.ReadAllText(path)) : TrustedRoot.Empty;
        Reload();
        if (Directory.Exists(_options.PoliciesDirectory))
        {
            _watcher = new FileSystemWatcher(_options.PoliciesDirectory) { IncludeSubdirectories = false, EnableRaisingEvents = true };
            _watcher.Changed += (_, _) => Reload();
            _watcher.Created += (_, _) => Reload();
            _watcher.Deleted += (_, _) => Reload();
            _watcher.Renamed += (_, _) => Reload();
        }

        _poll = new Timer(_ => Reload(), null, TimeSpan.FromSeconds(_options.ReloadPollSeconds), TimeSpan.FromSeconds(_options.ReloadPollSeconds));
    }

    /// <summary>The trusted root for authorities without a trustRootRef.</summary>
    public TrustedRoot DefaultRoot { get; }

    /// <summary>The set in force, or null when none has ever loaded (then every review is denied and /readyz fails).</summary>
    public PolicySet? Current => Volatile.Read(ref _current);

    /// <summary>The last refusal, for /readyz and the tests; null once a set loads.</summary>
    public string? LastError { get; private set; }

    /// <summary>Loads the directory if any file changed (by name, size and time); returns whether a new set took effect.</summary>
    public bool Reload()
    {
        lock (_reloadLock)
        {
            var files = PolicyFiles();
            var fingerprint = string.Join("|", files.Select(static f => $"{f.FullName}:{f.Length}:{f.LastWriteTimeUtc.Ticks}"));
            var now = _time.GetUtcNow();
            var tufDue = _current is { } current && current.TrustRoots.Values.Any(static r => r.Tuf is not null)
                && now - _resolvedAt >= TimeSpan.FromMinutes(_options.TufRefreshMinutes);
            if (fingerprint == _fingerprint && _current is not null && !tufDue)
            {
                return false;
            }

            _fingerprint = fingerprint;
            try
            {
                var set = PolicySet.LoadFiles(files.Select(static f => f.FullName), _options.NoMatchPolicy);
                // Reloads run on the watcher's and the timer's threads, never on a request's, so waiting here
                // for the TUF mirrors holds no review up; the set in force keeps answering meanwhile.
                using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
                {
                    set = TufTrustRoots.ResolveAsync(set, _tufHttp, _options.TufCacheDirectory, now, timeout.Token).GetAwaiter().GetResult();
                }

                _resolvedAt = now;
                set.CheckTlogUrls(DefaultRoot);
                Volatile.Write(ref _current, set);
                LastError = null;
                AdmissionMetrics.PolicyReloads.WithLabels("loaded").Inc();
                Log.PoliciesLoaded(_logger, set.Policies.Count, set.TrustRoots.Count, _options.PoliciesDirectory, set.PolicyGeneration, set.TrustRootGeneration);
                return true;
            }
            catch (Exception ex) when (ex is PolicyLoadException or IOException or UnauthorizedAccessException)
            {
                LastError = ex.Message;
                AdmissionMetrics.PolicyReloads.WithLabels("refused").Inc();
                Log.PoliciesRefused(_logger, _options.PoliciesDirectory, ex.Message);
                return false;
            }
        }
    }

    private List<FileInfo> PolicyFiles()
    {
        var directory = new DirectoryInfo(_options.PoliciesDirectory);
        if (!directory.Exists)
        {
            return [];
        }

        // Hidden entries are skipped: a mounted ConfigMap keeps its real files under ..data and timestamped dirs.
        return [.. directory.EnumerateFiles()
            .Where(static f => !f.Name.StartsWith('.') && (f.Extension is ".yaml" or ".yml"))
            .OrderBy(static f => f.Name, StringComparer.Ordinal)];
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _poll.Dispose();
    }
}

/// <summary>Ready once a policy set is in force.</summary>
internal sealed class PolicyHealthCheck(PolicyStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(store.Current is { } set
            ? HealthCheckResult.Healthy($"{set.Policies.Count} policies in force (generation {set.PolicyGeneration}, trust roots {set.TrustRootGeneration})")
            : HealthCheckResult.Unhealthy("no policy set has loaded"));
}

internal static class PolicyStoreExtensions
{
    public static IHostApplicationBuilder AddPolicyStore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PolicyStore>();
        builder.Services.AddHealthChecks().AddCheck<PolicyHealthCheck>("policies", tags: [ServiceDefaults.ReadyTag]);
        return builder;
    }
}
