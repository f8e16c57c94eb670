using TransparencyLog.LogService.Proofs;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Tests.Storage;

/// <summary>
/// A full level-0 tile's summary (its 16 nodes at height 4) with one group's 16 leaves answers every node an inclusion
/// proof of an entry in that group needs, with the same hashes as the whole tile; leaves that do not match the summary
/// are refused; the summaries stay within their bytes.
/// </summary>
public sealed class TileSummaryTests
{
    [Fact]
    public void ForGroup_EveryGroup_SameNodesAsTheWholeTile()
    {
        var leaves = Leaves(TileMath.Width, 7);
        var whole = new TileNodes(leaves);
        var summary = TileSummaries.Summarize(leaves);
        Assert.Equal(whole.Summary, summary);

        for (var group = 0; group < TileSummaries.Groups; group++)
        {
            var part = TileNodes.ForGroup(summary, group, leaves[(group * 16)..((group + 1) * 16)])!;
            Assert.Equal(TileMath.Width, part.Width);
            var answered = 0;
            for (var count = 1; count <= TileMath.Width; count *= 2)
            {
                for (var offset = 0; offset < TileMath.Width; offset += count)
                {
                    var inGroup = offset >= group * 16 && offset + count <= (group + 1) * 16;
                    Assert.Equal(inGroup || count >= 16, part.Has(offset, count));
                    if (part.Has(offset, count))
                    {
                        Assert.Equal(whole.Node(offset, count), part.Node(offset, count));
                        answered++;
                    }
                }
            }

            // The group's 31 nodes and the 31 nodes of 16 entries or more (the group's root counted once).
            Assert.Equal(31 + 31 - 1, answered);
            Assert.Throws<InvalidOperationException>(() => part.Entries);
            Assert.Throws<InvalidOperationException>(() => part.Node((group * 16 + 16) % TileMath.Width, 1));
        }
    }

    [Fact]
    public void ForGroup_EveryInclusionProofInTheTile_SameProofAsTheWholeTile()
    {
        var leaves = Leaves(TileMath.Width, 3);
        var whole = new TileNodes(leaves);
        var summary = TileSummaries.Summarize(leaves);
        foreach (var size in new long[] { TileMath.Width, 1000, 65_536 + 77 })
        {
            for (var index = 0; index < TileMath.Width; index++)
            {
                var part = TileNodes.ForGroup(summary, index / 16, leaves[(index / 16 * 16)..((index / 16 * 16) + 16)])!;
                foreach (var node in ProofPlanner.Inclusion(index, size).Nodes)
                {
                    var (level, tile, offset, count) = TileMath.Locate(node);
                    if (level == 0 && tile == 0)
                    {
                        Assert.True(part.Has(offset, count), $"node {node} of entry {index}'s proof at size {size}");
                        Assert.Equal(whole.Node(offset, count), part.Node(offset, count));
                    }
                }
            }
        }
    }

    [Fact]
    public void ForGroup_LeavesNotUnderTheSummary_Null()
    {
        var leaves = Leaves(TileMath.Width, 1);
        var summary = TileSummaries.Summarize(leaves);
        var group = leaves[32..48];

        Assert.Null(TileNodes.ForGroup(summary, 1, group));
        group[5] = Rfc6962.HashLeaf([1, 2, 3]);
        Assert.Null(TileNodes.ForGroup(summary, 2, group));
        Assert.NotNull(TileNodes.ForGroup(summary, 2, leaves[32..48]));
    }

    [Fact]
    public void Remember_MoreSummariesThanItsBytes_HoldsAtMostItsBytesNewestLast()
    {
        var summaries = new TileSummaries(100 * TileSummaries.BytesEach);
        var summary = TileSummaries.Summarize(Leaves(TileMath.Width, 0));
        for (var tile = 0; tile < 1_000; tile++)
        {
            summaries.Remember(1, tile, summary);
        }

        Assert.Equal(100, summaries.Capacity);
        Assert.Equal(100, summaries.Count);
        Assert.True(summaries.TryGet(1, 999, out _));
        Assert.False(summaries.TryGet(1, 0, out _));
        Assert.False(summaries.TryGet(2, 999, out _));
        Assert.Throws<ArgumentException>(() => summaries.Remember(1, 5, summary[..15]));
    }

    [Fact]
    public void Summarize_PartialTile_Refused()
    {
        Assert.Throws<ArgumentException>(() => TileSummaries.Summarize(Leaves(255, 0)));
    }

    private static Hash[] Leaves(int count, int seed) =>
        [.. Enumerable.Range(0, count).Select(i => Rfc6962.HashLeaf(BitConverter.GetBytes((seed * 1_000) + i)))];
}
