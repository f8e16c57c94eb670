using System.Globalization;
using Npgsql;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// What PostgreSQL ran during one phase, from pg_stat_statements (loaded by bench/lib.sh): calls per operation and
/// execution time per call of each statement, so a phase's round trips are counted rather than guessed. Without the
/// extension (a cluster not started by lib.sh) it says so and measures nothing.
/// </summary>
internal sealed class StatementStats(string adminConnectionString)
{
    private bool _available;

    /// <summary>Zeroes the counters at the start of a phase.</summary>
    public async Task ResetAsync()
    {
        try
        {
            await using var connection = new NpgsqlConnection(adminConnectionString);
            await connection.OpenAsync();
            await using var reset = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()", connection);
            await reset.ExecuteNonQueryAsync();
            _available = true;
        }
        catch (PostgresException e)
        {
            Console.WriteLine($"  (pg_stat_statements unavailable: {e.MessageText}; statements per operation not measured)");
            _available = false;
        }
    }

    /// <summary>Prints the statements of the service's role since <see cref="ResetAsync"/>, most called first.</summary>
    public async Task PrintAsync(string perWhat, long operations)
    {
        if (!_available || operations <= 0)
        {
            return;
        }

        await using var connection = new NpgsqlConnection(adminConnectionString);
        await connection.OpenAsync();
        // Only the service's role (tlog_app): the benchmark's own admin queries are not the service's work.
        await using var query = new NpgsqlCommand(
            """
            SELECT calls, total_exec_time, regexp_replace(query, '\s+', ' ', 'g'), shared_blks_hit, shared_blks_read
            FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
            WHERE r.rolname <> current_user AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            ORDER BY calls DESC, total_exec_time DESC LIMIT 12
            """,
            connection);
        await using var reader = await query.ExecuteReaderAsync();
        var rows = new List<(long Calls, double Ms, string Text, long Hit, long Read)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt64(0), reader.GetDouble(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt64(4)));
        }

        var perOperation = rows.Sum(r => r.Calls) / (double)operations;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  PostgreSQL statements per {perWhat}: {perOperation:F3} (pg_stat_statements, service role; execution time and shared buffers hit/read per call: a read came from the OS cache or disk)"));
        foreach (var (calls, ms, text, hit, read) in rows)
        {
            var shown = text.Length > 100 ? text[..100] + "…" : text;
            var perCall = Math.Max(1, calls);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {calls / (double)operations,8:F3} × {ms * 1000 / perCall,7:F1} µs {hit / (double)perCall,6:F1}/{read / (double)perCall,4:F1} blk  {shown}"));
        }
    }
}
