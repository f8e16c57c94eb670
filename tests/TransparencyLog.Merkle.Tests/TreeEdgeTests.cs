namespace TransparencyLog.Merkle.Tests;

public sealed class TreeEdgeTests
{
    // Past one full level-1 tile (65,536 leaves), so level-1 tiles fill and level 2 appears.
    private const int LeafCount = 70_000;

    private static readonly Hash[] Leaves =
        [.. Enumerable.Range(0, LeafCount).Select(i => Rfc6962.HashLeaf(NaiveMerkle.LeafData(i)))];

    private static readonly InMemoryTiles FromScratch = new(Leaves);

    // Roots of every prefix, computed once; the per-append checks below would otherwise be quadratic.
    private static readonly Hash[] PrefixRoots = ComputePrefixRoots();

    [Fact]
    public void Empty_Always_HasEmptyRootAndNoTiles()
    {
        var edge = TreeEdge.Empty;

        Assert.Equal(0, edge.Size);
        Assert.Equal(Rfc6962.EmptyRoot, edge.Root);
        Assert.Empty(edge.PartialTiles);
        Assert.Empty(edge.Append([]));
        Assert.NotSame(edge, TreeEdge.Empty);
    }

    [Fact]
    public void ReferenceRoots_SampledSizes_MatchNaiveMth()
    {
        var naive = new NaiveMerkle(LeafCount);
        var random = new Random(1);

        foreach (var size in new[] { 0, 1, 256, 65_535, 65_536, 65_537, LeafCount }.Concat(Enumerable.Range(0, 30).Select(_ => random.Next(LeafCount))))
        {
            Assert.Equal(naive.Root(size), PrefixRoots[size]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(257)]
    [InlineData(1000)]
    [InlineData(65_536)]
    public void Append_FixedBatches_MatchesFromScratchRootsAndTiles(int batch) =>
        AppendAndCheck(Enumerable.Repeat(batch, (LeafCount / batch) + 1));

    [Fact]
    public void Append_RandomBatches_MatchesFromScratchRootsAndTiles()
    {
        var random = new Random(9162);
        int[] sizes = [1, 7, 255, 256, 257, 1000, 4096, 0, 3];
        AppendAndCheck(Enumerable.Range(0, 400).Select(_ => sizes[random.Next(sizes.Length)] + random.Next(2)));
    }

    [Fact]
    public void Constructor_FromReturnedPartialTiles_ResumesIdentically()
    {
        var random = new Random(40);
        var edge = TreeEdge.Empty;
        var position = 0;
        while (position < LeafCount)
        {
            var batch = Math.Min(LeafCount - position, random.Next(1, 3000));
            edge.Append(Leaves.AsSpan(position, batch));
            position += batch;

            // What the sequencer does between batches: drop the edge, reload it from the stored partial tiles.
            edge = new TreeEdge(edge.Size, edge.PartialTiles);
            Assert.Equal(PrefixRoots[position], edge.Root);
        }
    }

    [Fact]
    public void Constructor_WrongPartialWidth_ThrowsArgumentException()
    {
        var tile = new Hash[5];

        Assert.Throws<ArgumentException>(() => new TreeEdge(6, [tile]));
        Assert.Throws<ArgumentException>(() => new TreeEdge(5, []));
        Assert.Throws<ArgumentException>(() => new TreeEdge(5, [tile, new Hash[1]]));
        Assert.Throws<ArgumentException>(() => new TreeEdge(256 + 5, [tile]));
        Assert.Equal(5, new TreeEdge(5, [tile, [], []]).Size);
        Assert.Equal(256, new TreeEdge(256, [[], new Hash[1]]).Size);
    }

    [Fact]
    public void Constructor_KnownPartialTiles_ComputesRoot()
    {
        var size = 256 + 3;
        var level1 = TileMath.FoldPerfect(Leaves.AsSpan(0, 256));

        var edge = new TreeEdge(size, [Leaves[256..size], [level1]]);

        Assert.Equal(Rfc6962.RootFromLeafHashes(Leaves.AsSpan(0, size)), edge.Root);
    }

    private static void AppendAndCheck(IEnumerable<int> batches)
    {
        var edge = TreeEdge.Empty;
        var stored = new Dictionary<(int Level, long Index), Hash[]>();
        var position = 0;
        var appends = 0;
        foreach (var requested in batches)
        {
            var batch = Math.Min(requested, LeafCount - position);
            var changed = edge.Append(Leaves.AsSpan(position, batch));
            position += batch;

            Assert.Equal(position, edge.Size);
            if (++appends % 101 == 0 || batch >= 255)
            {
                // Checking after every single-leaf append would dominate the test's runtime; a prime stride still
                // lands on every alignment.
                Assert.Equal(PrefixRoots[position], edge.Root);
            }

            Assert.Equal(changed.OrderBy(c => c.Tile.Level).ThenBy(c => c.Tile.Index).Select(c => c.Tile), changed.Select(c => c.Tile));
            foreach (var (tile, entries) in changed)
            {
                Assert.Equal(tile.Width, entries.Length);
                Assert.True(stored.TryAdd((tile.Level, tile.Index), entries) || !IsFull(stored[(tile.Level, tile.Index)]));
                stored[(tile.Level, tile.Index)] = entries;
            }

            if (position == LeafCount)
            {
                break;
            }
        }

        Assert.Equal(PrefixRoots[LeafCount], edge.Root);

        // Every tile the appends wrote, in its last state, is exactly the from-scratch tile set.
        var expected = FromScratch.All.ToList();
        Assert.Equal(expected.Select(t => t.Tile), TileMath.TilesForTreeSize(LeafCount));
        Assert.Equal(expected.Count, stored.Count);
        foreach (var (tile, entries) in expected)
        {
            Assert.Equal(entries, stored[(tile.Level, tile.Index)]);
        }
    }

    private static Hash[] ComputePrefixRoots()
    {
        // The same compact-range method as RootFromLeafHashes, kept incremental; ReferenceRoots_SampledSizes_MatchNaiveMth
        // ties it to the naive MTH.
        var roots = new Hash[LeafCount + 1];
        roots[0] = Rfc6962.EmptyRoot;
        var range = new List<Hash>();
        for (var i = 0; i < LeafCount; i++)
        {
            var node = Leaves[i];
            for (var closed = i; (closed & 1) == 1; closed >>= 1)
            {
                node = Rfc6962.HashChildren(range[^1], node);
                range.RemoveAt(range.Count - 1);
            }

            range.Add(node);
            var root = range[^1];
            for (var j = range.Count - 2; j >= 0; j--)
            {
                root = Rfc6962.HashChildren(range[j], root);
            }

            roots[i + 1] = root;
        }

        return roots;
    }

    private static bool IsFull(Hash[] entries) => entries.Length == TileMath.Width;
}
