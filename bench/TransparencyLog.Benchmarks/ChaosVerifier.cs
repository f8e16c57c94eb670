using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Benchmarks;

/// <summary>
/// The verifier of the fault trials: after the last trial, with the service up, it reads the whole log through its
/// entry bundles (tlog-tiles), recomputes every root itself, and holds the log to what the writers recorded:
/// every acknowledged entry is present at its index with the same body; no two acknowledgements share an index;
/// indices are gap-free (every bundle up to the head is complete); every checkpoint any writer saw verifies with the
/// log's key, has the root this verifier computes for its size, and is consistent with the final head by the
/// service's own consistency proof. Prints the counts; exits 1 on any loss or inconsistency.
/// </summary>
internal static class ChaosVerifier
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = ChaosOptions.Parse(args);
        using var http = new HttpClient { BaseAddress = new Uri(options.Get("--url")), Timeout = TimeSpan.FromSeconds(60) };
        var acks = new List<Ack>();
        var checkpoints = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in options.All("--acks"))
        {
            foreach (var line in File.ReadLines(file).Where(static l => l.Length > 0))
            {
                using var record = JsonDocument.Parse(line);
                var root = record.RootElement;
                checkpoints.Add(root.GetProperty("checkpoint").GetString()!);
                if (root.GetProperty("type").GetString() == "ack")
                {
                    acks.Add(new Ack(
                        root.GetProperty("writer").GetString()!, root.GetProperty("index").GetInt64(),
                        root.GetProperty("uuid").GetString()!, Convert.FromBase64String(root.GetProperty("body").GetString()!)));
                }
            }
        }

        var verifierKey = await http.GetStringAsync("/api/v1/log/verifierKey");
        var verifier = new NoteVerifier(verifierKey.Trim());
        using var info = JsonDocument.Parse(await http.GetStringAsync("/api/v1/log"));
        var head = info.RootElement.GetProperty("signedTreeHead").GetString()!;
        if (!verifier.TryVerifyCheckpoint(head, out var final) || final is null)
        {
            Console.WriteLine("FAIL the final signed tree head does not verify with the log's key");
            return 1;
        }

        var problems = new List<string>();
        var seen = new List<Checkpoint>();
        foreach (var text in checkpoints)
        {
            if (verifier.TryVerifyCheckpoint(text, out var checkpoint) && checkpoint is not null)
            {
                seen.Add(checkpoint);
            }
            else
            {
                problems.Add($"a recorded checkpoint does not verify with the log's key: {text.Split('\n')[1]}");
            }
        }

        // Read every entry up to the final size, bundle by bundle; a short or missing bundle is a gap.
        var sizes = seen.Select(c => c.Size).Append(final.Size).ToHashSet();
        var bodies = new List<byte[]>(checked((int)final.Size));
        var roots = new Dictionary<long, Hash>();
        var range = new CompactRange();
        if (sizes.Contains(0))
        {
            roots[0] = Rfc6962.EmptyRoot;
        }

        for (long bundle = 0; bundle * TileMath.Width < final.Size; bundle++)
        {
            var width = (int)Math.Min(TileMath.Width, final.Size - (bundle * TileMath.Width));
            var path = "/" + new TileId(0, bundle, width).EntriesPath;
            using var response = await http.GetAsync(path);
            if (!response.IsSuccessStatusCode)
            {
                problems.Add($"gap: {path} answered {(int)response.StatusCode}");
                break;
            }

            var entries = ParseBundle(await response.Content.ReadAsByteArrayAsync());
            if (entries.Count != width)
            {
                problems.Add($"gap: {path} holds {entries.Count} entries, {width} expected");
                break;
            }

            foreach (var body in entries)
            {
                bodies.Add(body);
                range.Append(Rfc6962.HashLeaf(body));
                if (sizes.Contains(range.Size))
                {
                    roots[range.Size] = range.Root();
                }
            }
        }

        if (bodies.Count == final.Size && roots[final.Size] != Hash.FromBytes(final.RootHash))
        {
            problems.Add($"the root recomputed from all {final.Size} entries differs from the signed head's");
        }

        // Every acknowledgement: present, at its index, byte for byte; one acknowledgement per index.
        var lost = 0;
        foreach (var ack in acks)
        {
            if (ack.Index >= bodies.Count || !bodies[(int)ack.Index].AsSpan().SequenceEqual(ack.Body))
            {
                lost++;
                problems.Add($"lost: {ack.Writer}'s entry {ack.Index} ({ack.Uuid}) is {(ack.Index >= bodies.Count ? "beyond the log" : "not the body acknowledged")}");
            }
            else if (!ack.Uuid.EndsWith(Rfc6962.HashLeaf(ack.Body).ToString(), StringComparison.Ordinal))
            {
                problems.Add($"entry {ack.Index}: the acknowledged UUID {ack.Uuid} is not its leaf hash");
            }
        }

        var duplicates = acks.GroupBy(a => a.Index).Where(g => g.Count() > 1).ToList();
        foreach (var group in duplicates)
        {
            problems.Add($"fork: index {group.Key} was acknowledged {group.Count()} times");
        }

        // Every checkpoint seen: its root is the one of the log's prefix of that size, and the service proves it.
        var inconsistent = 0;
        foreach (var checkpoint in seen.DistinctBy(c => (c.Size, Convert.ToHexString(c.RootHash))))
        {
            var root = Hash.FromBytes(checkpoint.RootHash);
            var consistent = roots.TryGetValue(checkpoint.Size, out var recomputed) && recomputed == root
                && checkpoint.Size <= final.Size
                && await ProvedConsistentAsync(http, checkpoint.Size, root, final.Size, Hash.FromBytes(final.RootHash));
            if (!consistent)
            {
                inconsistent++;
                problems.Add($"inconsistent: the checkpoint of size {checkpoint.Size} root {root} is not a prefix of the final log");
            }
        }

        foreach (var problem in problems.Take(50))
        {
            Console.WriteLine("FAIL " + problem);
        }

        var writers = acks.GroupBy(a => a.Writer).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key}={g.Count()}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"verify: tree size {final.Size}, entries read {bodies.Count}, acknowledged {acks.Count} ({string.Join(' ', writers)}), lost {lost}, duplicate indices {duplicates.Count}, checkpoints seen {seen.Count}, inconsistent {inconsistent}, problems {problems.Count}"));
        return problems.Count == 0 ? 0 : 1;
    }

    private static async Task<bool> ProvedConsistentAsync(HttpClient http, long size, Hash root, long finalSize, Hash finalRoot)
    {
        if (size == 0 || size == finalSize)
        {
            return size != finalSize || root == finalRoot;
        }

        using var response = await http.GetAsync($"/api/v1/log/proof?firstSize={size}&lastSize={finalSize}");
        if (!response.IsSuccessStatusCode)
        {
            return false;
        }

        using var proof = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var hashes = proof.RootElement.GetProperty("hashes").EnumerateArray().Select(h => Hash.FromHex(h.GetString()!)).ToList();
        return ProofVerifier.VerifyConsistency(size, finalSize, hashes, root, finalRoot);
    }

    /// <summary>A tlog-tiles entry bundle: each entry as a big-endian uint16 length and the bytes.</summary>
    private static List<byte[]> ParseBundle(byte[] bundle)
    {
        var entries = new List<byte[]>();
        var offset = 0;
        while (offset + 2 <= bundle.Length)
        {
            var length = BinaryPrimitives.ReadUInt16BigEndian(bundle.AsSpan(offset));
            if (offset + 2 + length > bundle.Length)
            {
                break;
            }

            entries.Add(bundle.AsSpan(offset + 2, length).ToArray());
            offset += 2 + length;
        }

        return entries;
    }

    private sealed record Ack(string Writer, long Index, string Uuid, byte[] Body);

    /// <summary>
    /// The RFC 6962 tree of the leaves appended so far as its maximal perfect subtrees, largest first: the root of the
    /// prefix is those subtrees folded from the right (RFC 9162 §2.1.1), computed here independently of the service.
    /// </summary>
    private sealed class CompactRange
    {
        private readonly List<(Hash Hash, long Size)> _nodes = [];

        public long Size { get; private set; }

        public void Append(Hash leaf)
        {
            _nodes.Add((leaf, 1));
            Size++;
            while (_nodes.Count >= 2 && _nodes[^1].Size == _nodes[^2].Size)
            {
                var right = _nodes[^1];
                var left = _nodes[^2];
                _nodes.RemoveRange(_nodes.Count - 2, 2);
                _nodes.Add((Rfc6962.HashChildren(left.Hash, right.Hash), left.Size * 2));
            }
        }

        public Hash Root()
        {
            var root = _nodes[^1].Hash;
            for (var i = _nodes.Count - 2; i >= 0; i--)
            {
                root = Rfc6962.HashChildren(_nodes[i].Hash, root);
            }

            return root;
        }
    }
}
