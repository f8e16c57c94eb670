using Npgsql;

namespace TransparencyLog.Hosting;

/// <summary>Connection strings of the hosts that keep their state in PostgreSQL (the log service and the witness).</summary>
public static class PostgresConnections
{
    /// <summary>
    /// The password a file holds (a mounted secret; the commands take a file rather than the command line, where every
    /// local user could read it), without its final line break.
    /// </summary>
    public static string ReadPasswordFile(string path) => File.ReadAllText(path).TrimEnd('\r', '\n');

    /// <summary><paramref name="connectionString"/> with the password <paramref name="passwordFile"/> holds, when one is named.</summary>
    public static string WithPasswordFile(string connectionString, string? passwordFile) => string.IsNullOrEmpty(passwordFile)
        ? connectionString
        : new NpgsqlConnectionStringBuilder(connectionString) { Password = ReadPasswordFile(passwordFile) }.ConnectionString;

    /// <summary>
    /// <paramref name="connectionString"/> for a pool of connections that carry no session state, unless the connection
    /// string names each setting itself: without Npgsql's reset of a returned connection, and with
    /// <paramref name="autoPrepareStatements"/> statements kept prepared per connection (0 leaves Npgsql's default).
    /// </summary>
    /// <remarks>
    /// The reset is a seven-statement query (SET SESSION AUTHORIZATION DEFAULT, RESET ALL, UNLISTEN *, advisory unlocks,
    /// DISCARD …) sent before the first command of every pooled use: for an inclusion-proof read, seven of its eight
    /// statements; in the CA benchmark, 1.7 per CT submission. It buys nothing for callers that use no SET, LISTEN,
    /// temporary tables or session-level advisory locks (transaction-scoped locks end with their transaction, and a
    /// transaction left open is rolled back on close anyway). Both services are such callers.
    /// </remarks>
    public static string ForStatelessPool(string connectionString, int autoPrepareStatements = 0)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0 && autoPrepareStatements > 0)
        {
            builder.MaxAutoPrepare = autoPrepareStatements;
        }

        // NoResetOnClose defaults to false, so whether the operator named it is read from the string itself.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("No Reset On Close") && !given.ContainsKey("NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        return builder.ConnectionString;
    }
}
