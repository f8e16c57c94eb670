using System.Threading.Channels;
using Microsoft.Extensions.Options;
using TransparencyLog.CaService.Api;

namespace TransparencyLog.CaService.Identity;

/// <summary>
/// Keeps <see cref="IssuerPool"/> in step with its files, as Fulcio re-reads its mounted configuration: a file-system
/// notification in the folder of <see cref="IdentityOptions.IssuersFile"/> or in
/// <see cref="IdentityOptions.IssuersDirectory"/>, or else every <see cref="IdentityOptions.IssuersCheckInterval"/>
/// (file systems without notifications), re-reads the configuration. When the content of any file read (issuer files
/// and the JWKS files they name) changed, a configuration that validates replaces the pool whole, and one that does
/// not is logged with every problem while the last good configuration stays in force.
/// </summary>
internal sealed class IssuerReloader(
    IssuerPool pool, IssuerKeys keys, IOptions<IdentityOptions> options, TimeProvider time, ILogger<IssuerReloader> logger) : BackgroundService
{
    /// <summary>An editor or a copy writes a file in several steps: the re-read waits for the burst to settle.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(200);

    private readonly Channel<bool> _changes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    // The fingerprint of the last configuration read, good or not: a bad file is reported once, not at every check.
    private string? _lastSeen;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var folders = new[] { IssuersFileFolder(settings), settings.IssuersDirectory }
            .Where(folder => !string.IsNullOrWhiteSpace(folder) && Directory.Exists(folder))
            .Select(folder => Path.GetFullPath(folder!))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (string.IsNullOrWhiteSpace(settings.IssuersFile) && string.IsNullOrWhiteSpace(settings.IssuersDirectory))
        {
            return;
        }

        _lastSeen = pool.Fingerprint;
        CaMetrics.TrustedIssuers.Set(pool.All.Count);
        var watchers = folders.Select(Watch).ToList();
        try
        {
            // The files may have changed between the pool's first read and this start: check once at once.
            Check();
            while (!stoppingToken.IsCancellationRequested)
            {
                await WaitForChangeAsync(settings.IssuersCheckInterval, stoppingToken);
                Check();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var watcher in watchers)
            {
                watcher.Dispose();
            }
        }
    }

    /// <summary>Re-reads the configuration and applies it when it changed and validates.</summary>
    internal void Check()
    {
        var loaded = IssuerPool.Read(options.Value);
        if (loaded.Fingerprint == _lastSeen)
        {
            return;
        }

        _lastSeen = loaded.Fingerprint;
        if (loaded.Errors.Count > 0)
        {
            CaMetrics.IssuerReloads.WithLabels("failed").Inc();
            Log.IssuersReloadFailed(logger, pool.All.Count, string.Join("; ", loaded.Errors));
            return;
        }

        var before = pool.All.Select(issuer => issuer.Options.Name).ToHashSet(StringComparer.Ordinal);
        pool.Replace(loaded);
        keys.Retain(pool);
        var after = pool.All.Select(issuer => issuer.Options.Name).ToList();
        CaMetrics.IssuerReloads.WithLabels("reloaded").Inc();
        CaMetrics.TrustedIssuers.Set(after.Count);
        Log.IssuersReloaded(logger, after.Count,
            string.Join(", ", after.Where(name => !before.Contains(name))),
            string.Join(", ", before.Where(name => !after.Contains(name, StringComparer.Ordinal))));
    }

    private async Task WaitForChangeAsync(TimeSpan interval, CancellationToken stoppingToken)
    {
        using var timeout = new CancellationTokenSource(interval, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, stoppingToken);
        try
        {
            await _changes.Reader.ReadAsync(either.Token);
            await Task.Delay(Settle, time, stoppingToken);
            _changes.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // The periodic check.
        }
    }

    private FileSystemWatcher Watch(string folder)
    {
        // The whole folder, not one name: a Kubernetes ConfigMap (or an atomic rename) replaces files through links.
        var watcher = new FileSystemWatcher(folder)
        {
            IncludeSubdirectories = false,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        FileSystemEventHandler changed = (_, _) => _changes.Writer.TryWrite(true);
        watcher.Changed += changed;
        watcher.Created += changed;
        watcher.Deleted += changed;
        watcher.Renamed += (_, _) => _changes.Writer.TryWrite(true);
        // A lost notification (overflow) is a change of unknown files: re-read.
        watcher.Error += (_, _) => _changes.Writer.TryWrite(true);
        watcher.EnableRaisingEvents = true;
        return watcher;
    }

    private static string? IssuersFileFolder(IdentityOptions settings) =>
        string.IsNullOrWhiteSpace(settings.IssuersFile) ? null : Path.GetDirectoryName(Path.GetFullPath(settings.IssuersFile));
}
