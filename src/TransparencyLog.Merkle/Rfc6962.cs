using System.Buffers;
using System.Security.Cryptography;

namespace TransparencyLog.Merkle;

/// <summary>The RFC 6962/9162 Merkle tree hash (MTH) over SHA-256, with its leaf and node domain separation.</summary>
public static class Rfc6962
{
    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    // Leaves up to this size (prefix included) are hashed from a fixed stack buffer, the rest from a pooled array;
    // beyond PooledLimit, streaming avoids renting (and so keeping) very large arrays.
    private const int StackLimit = 256;
    private const int PooledLimit = 1 << 20;

    // A compact range over at most 2^63 leaves has at most 63 nodes.
    private const int MaxCompactRangeNodes = 64;

    public static Hash EmptyRoot { get; } = Hash.FromBytes(SHA256.HashData(ReadOnlySpan<byte>.Empty));

    /// <summary>SHA-256(0x00 || <paramref name="leafData"/>).</summary>
    public static Hash HashLeaf(ReadOnlySpan<byte> leafData)
    {
        Span<byte> digest = stackalloc byte[Hash.Size];
        if (leafData.Length < StackLimit)
        {
            Span<byte> buffer = stackalloc byte[StackLimit];
            buffer[0] = LeafPrefix;
            leafData.CopyTo(buffer[1..]);
            SHA256.HashData(buffer[..(leafData.Length + 1)], digest);
        }
        else if (leafData.Length < PooledLimit)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(leafData.Length + 1);
            try
            {
                buffer[0] = LeafPrefix;
                leafData.CopyTo(buffer.AsSpan(1));
                SHA256.HashData(buffer.AsSpan(0, leafData.Length + 1), digest);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        else
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            sha.AppendData([LeafPrefix]);
            sha.AppendData(leafData);
            sha.GetHashAndReset(digest);
        }

        return Hash.FromBytes(digest);
    }

    /// <summary>SHA-256(0x01 || <paramref name="left"/> || <paramref name="right"/>).</summary>
    public static Hash HashChildren(in Hash left, in Hash right)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * Hash.Size)];
        buffer[0] = NodePrefix;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + Hash.Size)..]);
        Span<byte> digest = stackalloc byte[Hash.Size];
        SHA256.HashData(buffer, digest);
        return Hash.FromBytes(digest);
    }

    /// <summary>MTH of a list of leaf hashes (<see cref="EmptyRoot"/> for none), in O(n) time and O(log n) space.</summary>
    public static Hash RootFromLeafHashes(ReadOnlySpan<Hash> leafHashes)
    {
        if (leafHashes.IsEmpty)
        {
            return EmptyRoot;
        }

        // Keep the compact range of the leaves seen so far: one perfect subtree per set bit of the count, largest
        // first. Leaf i closes one subtree per trailing one bit of i.
        Span<Hash> range = stackalloc Hash[MaxCompactRangeNodes];
        var count = 0;
        for (var i = 0; i < leafHashes.Length; i++)
        {
            var node = leafHashes[i];
            for (var closed = i; (closed & 1) == 1; closed >>= 1)
            {
                node = HashChildren(range[--count], node);
            }

            range[count++] = node;
        }

        return FoldRightToLeft(range[..count]);
    }

    /// <summary>
    /// Folds a compact range (perfect subtrees, left to right, each smaller than the one before) into its MTH: the
    /// RFC splits at the largest power of two, which is exactly the leftmost subtree.
    /// </summary>
    internal static Hash FoldRightToLeft(ReadOnlySpan<Hash> compactRange)
    {
        var root = compactRange[^1];
        for (var i = compactRange.Length - 2; i >= 0; i--)
        {
            root = HashChildren(compactRange[i], root);
        }

        return root;
    }
}
