using System.Security.Cryptography;

namespace TransparencyLog.Merkle.Tests;

/// <summary>
/// RFC 6962 §2.1 written out literally (MTH, PATH, SUBPROOF), with its own SHA-256 calls, as an independent
/// reference for the production code. Subtree hashes are cached because the exhaustive tests ask for them often.
/// </summary>
internal sealed class NaiveMerkle
{
    private readonly byte[][] _leafHashes;
    private readonly Dictionary<(int Start, int End), byte[]> _cache = [];

    public NaiveMerkle(int leafCount)
    {
        _leafHashes = new byte[leafCount][];
        for (var i = 0; i < leafCount; i++)
        {
            _leafHashes[i] = Sha256([0x00], LeafData(i));
        }
    }

    public static byte[] LeafData(int i) => [(byte)i, (byte)(i >> 8), (byte)(i >> 16), 0x4c];

    public Hash Leaf(int i) => Hash.FromBytes(_leafHashes[i]);

    public Hash Root(int n) => Hash.FromBytes(Mth(0, n));

    /// <summary>The hash of a perfect node, by its definition as the MTH of the leaves it covers.</summary>
    public Hash Node(NodeId node)
    {
        var start = (int)(node.Index << node.Level);
        return Hash.FromBytes(Mth(start, start + (1 << node.Level)));
    }

    /// <summary>PATH(m, D[n]).</summary>
    public List<Hash> Path(int m, int n) => [.. Path(m, 0, n).Select(b => Hash.FromBytes(b))];

    /// <summary>PROOF(m, D[n]) = SUBPROOF(m, D[n], true).</summary>
    public List<Hash> Proof(int m, int n) => [.. Subproof(m, 0, n, true).Select(b => Hash.FromBytes(b))];

    // MTH(D[start:end]).
    private byte[] Mth(int start, int end)
    {
        var n = end - start;
        if (n == 0)
        {
            return SHA256.HashData(Array.Empty<byte>());
        }

        if (n == 1)
        {
            return _leafHashes[start];
        }

        if (_cache.TryGetValue((start, end), out var cached))
        {
            return cached;
        }

        var k = LargestPowerOfTwoBelow(n);
        var hash = Sha256([0x01], Mth(start, start + k), Mth(start + k, end));
        _cache[(start, end)] = hash;
        return hash;
    }

    // PATH(m, D[start:end]), m relative to start.
    private List<byte[]> Path(int m, int start, int end)
    {
        var n = end - start;
        if (n == 1)
        {
            return [];
        }

        var k = LargestPowerOfTwoBelow(n);
        if (m < k)
        {
            var path = Path(m, start, start + k);
            path.Add(Mth(start + k, end));
            return path;
        }
        else
        {
            var path = Path(m - k, start + k, end);
            path.Add(Mth(start, start + k));
            return path;
        }
    }

    // SUBPROOF(m, D[start:end], b).
    private List<byte[]> Subproof(int m, int start, int end, bool b)
    {
        var n = end - start;
        if (m == n)
        {
            return b ? [] : [Mth(start, end)];
        }

        var k = LargestPowerOfTwoBelow(n);
        if (m <= k)
        {
            var proof = Subproof(m, start, start + k, b);
            proof.Add(Mth(start + k, end));
            return proof;
        }
        else
        {
            var proof = Subproof(m - k, start + k, end, false);
            proof.Add(Mth(start, start + k));
            return proof;
        }
    }

    private static int LargestPowerOfTwoBelow(int n)
    {
        var k = 1;
        while (k * 2 < n)
        {
            k *= 2;
        }

        return k;
    }

    private static byte[] Sha256(params byte[][] parts) => SHA256.HashData(parts.SelectMany(p => p).ToArray());
}
