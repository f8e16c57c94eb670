using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Npgsql;
using TransparencyLog.LogService.Tests.Infrastructure;

namespace TransparencyLog.LogService.Tests.Explorer;

/// <summary>
/// The health page's "Monitor alerts" section over the alerts a monitor recorded in the log's database
/// (<c>tlog monitor --state-db</c>, migrations/0009), written here as the service role a monitor would use.
/// </summary>
public sealed partial class HealthMonitorAlertsTests(LogFixture log) : IClassFixture<LogFixture>
{
    [Fact]
    public async Task HealthPage_MonitorAlertsRecorded_ShowsLatestNewestFirstEscapedWithEntryLinks()
    {
        var before = await GetHtmlAsync();
        var origin = (await log.Client.GetStringAsync("/checkpoint")).Split('\n')[0];
        var start = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        await using (var connection = new NpgsqlConnection(log.AppConnectionString))
        {
            await connection.OpenAsync();
            for (var i = 0; i < 25; i++)
            {
                await InsertAsync(connection, i, origin, "identity_match", "info", i, $"certIdentity:^alice$ matched alice-{i}@example.com", start.AddMinutes(i), delivered: true);
            }

            await InsertAsync(connection, 25, "<b>other log</b>", "log_fork", "critical", null,
                "LOG FORKED: <script>window.__alertXss=1</script><img src=x onerror=\"alert(1)\">", start.AddMinutes(30), delivered: false);
        }

        var html = await GetHtmlAsync();

        Assert.Contains("No monitor has recorded an alert in this database", WebUtility.HtmlDecode(before), StringComparison.Ordinal);
        var section = AlertsSection().Match(html);
        Assert.True(section.Success, html);
        var rows = Row().Matches(section.Value).Select(static m => m.Value).ToList();
        Assert.Equal(20, rows.Count);
        Assert.Contains("LOG FORKED:", WebUtility.HtmlDecode(rows[0]), StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;", rows[0], StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img src=x", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>other log</b>", html, StringComparison.Ordinal);
        Assert.Contains("not yet", rows[0], StringComparison.Ordinal);
        // Newest first: alerts 24 down to 6 follow the fork; 0..5 are older than the 20 shown.
        var shown = rows.Skip(1).Select(static r => int.Parse(Matched().Match(WebUtility.HtmlDecode(r)).Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(Enumerable.Range(6, 19).Reverse(), shown);
        Assert.Contains($"<a href=\"/explorer/entries/rekor-v1/24\">24</a>", rows[1], StringComparison.Ordinal);
    }

    private static async Task InsertAsync(
        NpgsqlConnection connection, int n, string origin, string type, string severity, long? index, string summary, DateTimeOffset raisedAt, bool delivered)
    {
        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO monitor_alert (event_id, log_url, origin, type, severity, log_index, summary, body, raised_at, delivered_at)
            VALUES ($1, 'http://127.0.0.1:1', $2, $3, $4, $5, $6, '{}', $7, $8)
            """,
            connection);
        insert.Parameters.AddWithValue(Guid.NewGuid().ToString("N"));
        insert.Parameters.AddWithValue(origin);
        insert.Parameters.AddWithValue(type);
        insert.Parameters.AddWithValue(severity);
        insert.Parameters.AddWithValue(index is null ? DBNull.Value : index.Value);
        insert.Parameters.AddWithValue(summary);
        insert.Parameters.AddWithValue(raisedAt);
        insert.Parameters.AddWithValue(delivered ? raisedAt.AddSeconds(n % 5) : DBNull.Value);
        await insert.ExecuteNonQueryAsync();
    }

    private async Task<string> GetHtmlAsync()
    {
        using var response = await log.Client.GetAsync("/explorer/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [GeneratedRegex("<section aria-labelledby=\"alerts-heading\">.*?</section>", RegexOptions.Singleline)]
    private static partial Regex AlertsSection();

    [GeneratedRegex("<tr><td>.*?</tr>", RegexOptions.Singleline)]
    private static partial Regex Row();

    [GeneratedRegex(@"matched alice-(\d+)@example\.com")]
    private static partial Regex Matched();
}
