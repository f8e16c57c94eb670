using Microsoft.EntityFrameworkCore;

namespace TransparencyLog.Witness.State;

/// <summary>The witness's tables (schema in migrations/0007_witness.sql, never EF migrations).</summary>
internal sealed class WitnessDbContext(DbContextOptions<WitnessDbContext> options) : DbContext(options)
{
    public DbSet<WitnessedLog> Logs => Set<WitnessedLog>();

    public DbSet<WitnessState> States => Set<WitnessState>();

    public DbSet<WitnessEvidence> Evidence => Set<WitnessEvidence>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<WitnessedLog>(log =>
        {
            log.ToTable("witness_log");
            log.HasKey(l => l.Origin);
            log.Property(l => l.Origin).HasColumnName("origin");
            log.Property(l => l.OriginHash).HasColumnName("origin_hash");
            log.Property(l => l.AddedAt).HasColumnName("added_at");
        });
        modelBuilder.Entity<WitnessState>(state =>
        {
            state.ToTable("witness_state");
            state.HasKey(s => s.Origin);
            state.Property(s => s.Origin).HasColumnName("origin");
            state.Property(s => s.TreeSize).HasColumnName("tree_size");
            state.Property(s => s.RootHash).HasColumnName("root_hash");
            state.Property(s => s.Note).HasColumnName("note");
            state.Property(s => s.CosignedAt).HasColumnName("cosigned_at");
        });
        modelBuilder.Entity<WitnessEvidence>(evidence =>
        {
            evidence.ToTable("witness_evidence");
            evidence.HasKey(e => e.Id);
            evidence.Property(e => e.Id).HasColumnName("id").UseIdentityAlwaysColumn();
            evidence.Property(e => e.Origin).HasColumnName("origin");
            evidence.Property(e => e.ReceivedAt).HasColumnName("received_at");
            evidence.Property(e => e.Reason).HasColumnName("reason");
            evidence.Property(e => e.OldSize).HasColumnName("old_size");
            evidence.Property(e => e.Note).HasColumnName("note");
        });
    }
}

/// <summary>A log origin the witness has ever cosigned for; never removed.</summary>
internal sealed class WitnessedLog
{
    public required string Origin { get; init; }

    public required byte[] OriginHash { get; init; }

    public DateTimeOffset AddedAt { get; init; }
}

/// <summary>The one checkpoint the witness last cosigned for an origin (size 0 and the empty root before the first).</summary>
internal sealed class WitnessState
{
    public required string Origin { get; init; }

    public long TreeSize { get; set; }

    public required byte[] RootHash { get; set; }

    public string Note { get; set; } = "";

    public DateTimeOffset? CosignedAt { get; set; }
}

/// <summary>A log-signed note the witness refused to cosign (a bad proof or a second root for one size).</summary>
internal sealed class WitnessEvidence
{
    public long Id { get; init; }

    public required string Origin { get; init; }

    public DateTimeOffset ReceivedAt { get; init; }

    public required string Reason { get; init; }

    public long OldSize { get; init; }

    public required string Note { get; init; }
}
