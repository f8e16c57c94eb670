using System.ComponentModel.DataAnnotations;

namespace TransparencyLog.LogService.Storage;

/// <summary>Where the logs live. Section <c>Storage</c>.</summary>
internal sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Npgsql connection string of the service's role (no DDL rights needed).</summary>
    [Required]
    public string ConnectionString { get; set; } = "";

    /// <summary>A file holding the role's password (a mounted secret), so it need not sit in the connection string.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>The connection string with the password from <see cref="PasswordFile"/>, when one is set.</summary>
    public string EffectiveConnectionString() => string.IsNullOrEmpty(PasswordFile)
        ? ConnectionString
        : new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString) { Password = File.ReadAllText(PasswordFile).TrimEnd('\r', '\n') }.ConnectionString;

    /// <summary>Full tiles are immutable, so they are cached; this bounds how many.</summary>
    [Range(0, 10_000_000)]
    public int TileCacheEntries { get; set; } = 100_000;

    /// <summary>
    /// Full entry bundles (<c>tile/entries/N</c>) are immutable too; the most recently served are kept up to this many
    /// bytes, so they are served without the database (also while it is unavailable). 0 turns the cache off.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int EntryBundleCacheBytes { get; set; } = 64 * 1024 * 1024;
}
