using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.LogService.Storage;
using TransparencyLog.LogService.Witnessing;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Rekor;

/// <summary>Reads entries together with an inclusion proof against one signed tree head (and the cosigned checkpoint beside it).</summary>
internal sealed class EntryReader(EntryStore entries, EntryLookups lookups, EntryCache cache, LogHeads heads, ProofService proofs, TileStore tiles, CosignedCheckpoints cosigned)
{
    public async Task<VerifiedEntry?> ByIndexAsync(LogInstance log, long index, CancellationToken cancellationToken)
    {
        var head = await heads.GetAsync(log.Id, fresh: false, cancellationToken);
        if (index >= head.Size)
        {
            // Possibly appended by another process since the cached head was read (or not yet replayed by a standby).
            head = await heads.GetNewestAsync(log.Id, cancellationToken);
            if (index >= head.Size)
            {
                return null;
            }
        }

        // The proof's lower eight levels lie in the entry's level-0 tile. When it is not cached at the width this head
        // needs, what the proof needs of it comes with the entry in one round trip: the whole tile while the cache has
        // room for it (then the tile's later reads need no tile at all); once the cache is full (large logs have more
        // level-0 tiles than it holds), for a full tile whose summary is held, only the entry's group of 16 leaves. A cached entry with its tile cached needs no round trip; the head above covers it, so it is
        // committed.
        var tile = new TileKey(0, index / TileMath.Width);
        var width = (int)Math.Min(TileMath.Width, head.Size - (tile.Index * TileMath.Width));
        if (tiles.Holds(log.Id, tile, width))
        {
            if (cache.TryGet(log.Id, index, out var cached))
            {
                return await WithProofAsync(log, cached, head, null, cancellationToken);
            }

            var (found, _) = await lookups.GetAsync(log.Id, index, TilePart.None, cancellationToken);
            return found is null ? null : await WithProofAsync(log, Cached(log, found), head, null, cancellationToken);
        }

        // A full tile's summary is in its row (migration 0015) or, for a tile stored before it and not filled yet, held
        // in memory when this process saw the tile whole.
        var part = width == TileMath.Width && !tiles.HasRoomForFullTile ? TilePart.Group : TilePart.Whole;
        var (stored, hashes) = await lookups.GetAsync(log.Id, index, part, cancellationToken);
        if (stored is null)
        {
            return null;
        }

        TileNodes? entryTile = null;
        if (part == TilePart.Group && GroupAndSummary(log.Id, tile.Index, hashes) is var (leaves, summary))
        {
            var group = (int)(index % TileMath.Width) / TileSummaries.GroupWidth;
            // Null when the group's leaves do not hash to the summary: then the proof reads the tile as any other (so
            // does a group without a summary, or shorter than 16 leaves, which the head's full tile rules out).
            entryTile = TileNodes.ForGroup(summary, group, leaves);
        }
        else if (part == TilePart.Whole && hashes is not null)
        {
            entryTile = tiles.Read(log.Id, tile, TileStore.Decode(hashes));
        }

        return await WithProofAsync(log, Cached(log, stored), head, entryTile, cancellationToken);
    }

    /// <summary>The group's 16 leaves and the tile's summary, from the row's answer or the summaries held; else null.</summary>
    private (Hash[] Leaves, Hash[] Summary)? GroupAndSummary(int logId, long tile, byte[]? answer)
    {
        const int GroupBytes = TileSummaries.GroupWidth * Hash.Size;
        if (answer is null || answer.Length < GroupBytes)
        {
            return null;
        }

        var leaves = TileStore.Decode(answer.AsSpan(0, GroupBytes));
        if (answer.Length == 2 * GroupBytes)
        {
            return (leaves, TileStore.Decode(answer.AsSpan(GroupBytes)));
        }

        return tiles.Summaries.TryGet(logId, tile, out var held) ? (leaves, held) : null;
    }

    private StoredEntry Cached(LogInstance log, StoredEntry stored)
    {
        cache.Add(log.Id, stored);
        return stored;
    }

    public async Task<VerifiedEntry?> ByLeafHashAsync(LogInstance log, Hash leafHash, CancellationToken cancellationToken)
    {
        var stored = await entries.GetByLeafHashAsync(log.Id, leafHash, cancellationToken);
        if (stored is null)
        {
            return null;
        }

        var head = await heads.GetAsync(log.Id, fresh: false, cancellationToken);
        if (stored.Index >= head.Size)
        {
            head = await heads.GetNewestAsync(log.Id, cancellationToken);
        }

        return await WithProofAsync(log, stored, head, null, cancellationToken);
    }

    /// <param name="entryTile">The nodes of the entry's level-0 tile this read fetched (whole, or its group), if any.</param>
    private async Task<VerifiedEntry> WithProofAsync(LogInstance log, StoredEntry stored, TreeHead head, TileNodes? entryTile, CancellationToken cancellationToken)
    {
        var proof = await proofs.InclusionAsync(log.Id, stored.Index, head.Size, cancellationToken, entryTile);

        // Check our own answer before giving it out: a proof that fails here would fail at every verifier.
        if (!ProofVerifier.VerifyInclusion(stored.Index, head.Size, stored.LeafHash, proof, head.Root))
        {
            throw new LogStorageException($"log {log.Name}: inclusion proof for entry {stored.Index} at size {head.Size} does not verify");
        }

        var beside = await cosigned.BesideAsync(log, head, cancellationToken);
        return new VerifiedEntry(stored.Index, stored.Body, stored.IntegratedTime, stored.EntrySignature, stored.LeafHash, head, proof, beside);
    }
}
