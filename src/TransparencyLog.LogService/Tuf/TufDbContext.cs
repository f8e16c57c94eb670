using Microsoft.EntityFrameworkCore;

namespace TransparencyLog.LogService.Tuf;

/// <summary>One published metadata file (<c>tuf_metadata</c>): stored once, served byte for byte.</summary>
internal sealed class TufMetadataRow
{
    public required string Role { get; init; }

    public required long Version { get; init; }

    public required byte[] Bytes { get; init; }

    public required byte[] Sha256 { get; init; }

    public required DateTimeOffset Expires { get; init; }

    public required DateTimeOffset PublishedAt { get; init; }
}

/// <summary>One target file (<c>tuf_target</c>), served as <c>targets/&lt;sha256&gt;.&lt;name&gt;</c>.</summary>
internal sealed class TufTargetRow
{
    public required byte[] Sha256 { get; init; }

    public required string Name { get; init; }

    public required long Length { get; init; }

    public required byte[] Bytes { get; init; }
}

/// <summary>The TUF repository's tables (schema in <c>migrations/0006_tuf.sql</c>, never EF migrations).</summary>
internal sealed class TufDbContext(DbContextOptions<TufDbContext> options) : DbContext(options)
{
    public DbSet<TufMetadataRow> Metadata => Set<TufMetadataRow>();

    public DbSet<TufTargetRow> Targets => Set<TufTargetRow>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<TufMetadataRow>(entity =>
        {
            entity.ToTable("tuf_metadata");
            entity.HasKey(static m => new { m.Role, m.Version });
            entity.Property(static m => m.Role).HasColumnName("role");
            entity.Property(static m => m.Version).HasColumnName("version");
            entity.Property(static m => m.Bytes).HasColumnName("bytes");
            entity.Property(static m => m.Sha256).HasColumnName("sha256");
            entity.Property(static m => m.Expires).HasColumnName("expires");
            entity.Property(static m => m.PublishedAt).HasColumnName("published_at");
        });
        modelBuilder.Entity<TufTargetRow>(entity =>
        {
            entity.ToTable("tuf_target");
            entity.HasKey(static t => new { t.Sha256, t.Name });
            entity.Property(static t => t.Sha256).HasColumnName("sha256");
            entity.Property(static t => t.Name).HasColumnName("name");
            entity.Property(static t => t.Length).HasColumnName("length");
            entity.Property(static t => t.Bytes).HasColumnName("bytes");
        });
    }
}
