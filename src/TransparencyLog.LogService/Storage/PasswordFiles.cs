using Npgsql;

namespace TransparencyLog.LogService.Storage;

/// <summary>
/// The service's commands (migrate, fsck, shard) take a database password from a file rather than the command line,
/// where every local user could read it.
/// </summary>
internal static class PasswordFiles
{
    /// <summary>The password a file holds, without its final line break.</summary>
    public static async Task<string> ReadAsync(string path) => (await File.ReadAllTextAsync(path)).TrimEnd('\r', '\n');

    /// <summary><paramref name="connection"/> with the password of <paramref name="passwordFile"/>, when one is given.</summary>
    public static async Task<string> ApplyAsync(string connection, string? passwordFile) =>
        string.IsNullOrEmpty(passwordFile)
            ? connection
            : new NpgsqlConnectionStringBuilder(connection) { Password = await ReadAsync(passwordFile) }.ConnectionString;
}
