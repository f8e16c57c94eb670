using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>
/// The monitor's Prometheus counters (ours, plus rekor-monitor's two), served as text at <c>/metrics</c> while it
/// runs as a daemon.
/// </summary>
internal sealed class MonitorMetrics : IDisposable
{
    private readonly ConcurrentDictionary<string, long> _counters = new(StringComparer.Ordinal);
    private long _checkpointSize;
    private HttpListener? _listener;

    public void CountEvent(MonitorEvent e)
    {
        Add(e.Type == "identity_match" ? "tlog_monitor_identity_matches_total" : $"tlog_monitor_alerts_total{{type=\"{e.Type}\"}}");
    }

    public void CountWebhook(bool delivered) => Add($"tlog_monitor_webhook_deliveries_total{{result=\"{(delivered ? "ok" : "failed")}\"}}");

    public void CountScanned(long entries) => Add("tlog_monitor_entries_scanned_total", entries);

    public void CountCheck(bool ok)
    {
        Add($"tlog_monitor_consistency_checks_total{{result=\"{(ok ? "ok" : "failed")}\"}}");
        Add("log_index_verification_total");
        if (!ok)
        {
            Add("log_index_verification_failure");
        }
    }

    public void SetCheckpointSize(long size) => Interlocked.Exchange(ref _checkpointSize, size);

    public string Render()
    {
        var text = new StringBuilder();
        text.Append("# TYPE tlog_monitor_checkpoint_size gauge\ntlog_monitor_checkpoint_size ")
            .Append(Interlocked.Read(ref _checkpointSize).ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var name in new[] { "tlog_monitor_identity_matches_total", "tlog_monitor_entries_scanned_total", "log_index_verification_total", "log_index_verification_failure" })
        {
            _counters.TryAdd(name, 0);
        }

        foreach (var (name, value) in _counters.OrderBy(static c => c.Key, StringComparer.Ordinal))
        {
            text.Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Serves <c>GET /metrics</c> on all interfaces of <paramref name="port"/> until disposed.</summary>
    public void Serve(int port)
    {
        _listener = new HttpListener();
        _listener.Prefixes.Add($"http://+:{port.ToString(CultureInfo.InvariantCulture)}/");
        _listener.Start();
        _ = Task.Run(AnswerAsync);
    }

    private async Task AnswerAsync()
    {
        while (_listener is { IsListening: true } listener)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var response = context.Response;
            if (context.Request.Url?.AbsolutePath != "/metrics")
            {
                response.StatusCode = 404;
                continue;
            }

            var body = Encoding.UTF8.GetBytes(Render());
            response.ContentType = "text/plain; version=0.0.4";
            response.ContentLength64 = body.Length;
            await response.OutputStream.WriteAsync(body);
        }
    }

    private void Add(string name, long by = 1) => _counters.AddOrUpdate(name, by, (_, v) => v + by);

    public void Dispose()
    {
        if (_listener is { } listener)
        {
            _listener = null;
            listener.Close();
        }
    }
}
