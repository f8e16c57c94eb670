using System.ComponentModel.DataAnnotations;
using TransparencyLog.Hosting;

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
    public string EffectiveConnectionString() => PostgresConnections.WithPasswordFile(ConnectionString, PasswordFile);

    /// <summary>
    /// How many statements each connection keeps prepared (Npgsql auto-prepare), unless the connection string sets
    /// <c>Max Auto Prepare</c> itself. The head lock, the append call and the entry lookups are the same few
    /// statements thousands of times a second; prepared, PostgreSQL skips their parse and plan. 0 turns it off.
    /// </summary>
    [Range(0, 1000)]
    public int AutoPrepareStatements { get; set; } = 32;

    /// <summary>
    /// The connection string the service's data source uses: <see cref="EffectiveConnectionString"/> with
    /// <see cref="AutoPrepareStatements"/> and without Npgsql's session reset, unless the connection string sets
    /// <c>Max Auto Prepare</c> or <c>No Reset On Close</c> itself (<see cref="PostgresConnections.ForStatelessPool"/>).
    /// </summary>
    public string DataSourceConnectionString() => PostgresConnections.ForStatelessPool(EffectiveConnectionString(), AutoPrepareStatements);

    /// <summary>
    /// Npgsql connection string of a hot standby of the same cluster (streaming replication), for entries, proofs,
    /// tiles and checkpoints; same role and <see cref="PasswordFile"/>. Unset: every read goes to the primary.
    /// </summary>
    public string? StandbyConnectionString { get; set; }

    /// <summary>The standby's connection string as the read data source uses it, or null without a standby.</summary>
    public string? StandbyDataSourceConnectionString() => string.IsNullOrEmpty(StandbyConnectionString)
        ? null
        : PostgresConnections.ForStatelessPool(PostgresConnections.WithPasswordFile(StandbyConnectionString, PasswordFile), AutoPrepareStatements);

    /// <summary>
    /// Tiles are cached in memory (a tile only grows, so a cached one answers every proof that needs no more of it); this
    /// bounds them in bytes (a full tile with the subtrees inside it is about 16 KiB: 16 MiB holds about 1,000, the
    /// level-0 tiles of 256,000 entries), level-0 tiles evicted first. The tiles above level 0 of a 10 M entry log are
    /// 155 (2.5 MiB), so they stay. A level-0 tile that is not cached comes with its entry in the same round trip: whole
    /// while the cache has room, else only the entry's group with the tile's stored summary (migration 0015),
    /// so beyond the cache's tiles a read costs 512 bytes of tile, not a cached tile evicted. 0 turns the cache off.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long TileCacheBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Per full level-0 tile, its 16 nodes at height 4 (its summary) are stored in the tile's row (migration 0015) and come
    /// with an entry lookup, so an inclusion proof read whose tile is not cached fetches only the 16 leaves of its
    /// entry's group and the summary, not the whole 8 KiB tile, and hashes 22 nodes instead of 255. This optionally also
    /// keeps summaries in memory (about 640 bytes each with their bookkeeping; oldest out first), which only matters for
    /// tiles stored before the migration while the start-up pass has not filled theirs yet. Default 0: none held.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long TileSummaryCacheBytes { get; set; }

    /// <summary>
    /// Whether the start-up pass runs, in the background: it stores the summaries of full level-0 tiles stored before
    /// migration 0015 (on the primary, 256 tiles per call; the 39,000 tiles of a 10 M entry log take about a minute of
    /// PostgreSQL's CPU once), then, when <see cref="TileSummaryCacheBytes"/> is set, computes as many summaries in memory
    /// as it holds. Off, reads of tiles without a stored summary fetch them whole.
    /// </summary>
    public bool TileSummaryWarmup { get; set; } = true;

    /// <summary>
    /// Full entry bundles (<c>tile/entries/N</c>) are immutable too; the most recently served are kept up to this many
    /// bytes, so they are served without the database (also while it is unavailable). 0 turns the cache off.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int EntryBundleCacheBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>
    /// Committed entries are immutable, so the most recently appended or read are kept up to this many bytes (bodies,
    /// signatures and about 256 bytes each beside them), and an inclusion-proof read of one of them needs no database
    /// round trip. 32 MiB holds about 25,000 entries of 1 KiB. 0 turns the cache off.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int EntryCacheBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>
    /// How many entry lookups by index (inclusion-proof reads whose entry is not cached) run at once per log; lookups
    /// arriving while these are in flight wait and go together in one statement (up to 64 entries) when one finishes,
    /// so under load PostgreSQL pays its cost per statement once per batch. A lookup on an idle service never waits.
    /// </summary>
    [Range(1, 64)]
    public int EntryLookupsInFlight { get; set; } = 2;
}
