using System.ComponentModel.DataAnnotations;

namespace TransparencyLog.LogService.Storage;

/// <summary>Where the logs live. Section <c>Storage</c>.</summary>
internal sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Npgsql connection string of the service's role (no DDL rights needed).</summary>
    [Required]
    public string ConnectionString { get; set; } = "";

    /// <summary>Full tiles are immutable, so they are cached; this bounds how many.</summary>
    [Range(0, 10_000_000)]
    public int TileCacheEntries { get; set; } = 100_000;
}
