using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using TransparencyLog.LogService.Http;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Witnessing;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Rekor;

/// <summary>
/// An entry with everything a Rekor v1 client needs to verify it offline, and, with a witness policy, the cosigned
/// checkpoint beside its proof.
/// </summary>
internal sealed record VerifiedEntry(
    long Index, byte[] Body, long IntegratedTime, byte[]? SignedEntryTimestamp, Hash LeafHash, TreeHead Head, IReadOnlyList<Hash> InclusionProof,
    CosignedCheckpoint? Cosigned = null);

/// <summary>
/// Writes Rekor v1 <c>LogEntry</c> JSON. Every field is always present (sigstore-js calls methods on each one), and the
/// proof, root, size and checkpoint all describe the same tree head. The proof's checkpoint carries the log's signature
/// only; a cosigned one goes beside it in <c>verification.cosignedCheckpoint</c> (<c>checkpoint</c>, <c>treeSize</c>,
/// <c>consistencyProof</c> from the proof's tree, hex), a field Rekor clients do not know and skip.
/// </summary>
internal static class RekorEntryWriter
{
    /// <summary>Writer options: non-ASCII (the checkpoint's em dash) and '+' written as themselves, as Rekor does.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string EntryId(LogInstance log, Hash leafHash) =>
        log.TreeId.ToString("x16", CultureInfo.InvariantCulture) + leafHash.ToString();

    public static void WriteMap(Utf8JsonWriter writer, LogInstance log, IEnumerable<VerifiedEntry> entries)
    {
        writer.WriteStartObject();
        foreach (var entry in entries)
        {
            writer.WritePropertyName(EntryId(log, entry.LeafHash));
            WriteEntry(writer, log, entry);
        }

        writer.WriteEndObject();
    }

    public static byte[] Map(LogInstance log, params VerifiedEntry[] entries)
    {
        var buffer = new ArrayBufferWriter<byte>(Capacity(entries));
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            WriteMap(writer, log, entries);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// One entry's answer (what <see cref="Map"/> writes) as an HTTP result, written into a pooled buffer and sent with
    /// its length: the proof reads' path, which otherwise allocated the JSON twice (the writer's buffer and its copy).
    /// </summary>
    public static IResult Result(LogInstance log, VerifiedEntry entry) => new EntryResult(log, entry);

    // Sized for the usual single entry (its base64 body, checkpoint and proof), so the writer never regrows it.
    private static int Capacity(ReadOnlySpan<VerifiedEntry> entries)
    {
        var capacity = 512;
        foreach (var entry in entries)
        {
            capacity += (entry.Body.Length * 4 / 3) + entry.Head.Checkpoint.Length + (70 * entry.InclusionProof.Count) + 256;
        }

        return capacity;
    }

    private static void WriteEntry(Utf8JsonWriter writer, LogInstance log, VerifiedEntry entry)
    {
        writer.WriteStartObject();
        writer.WriteBase64String("body", entry.Body);
        writer.WriteNumber("integratedTime", entry.IntegratedTime);
        writer.WriteString("logID", log.Signer.LogIdHex);
        // Rekor's virtual index across shards; the proof below keeps the index within this shard's tree.
        writer.WriteNumber("logIndex", log.ShardStart + entry.Index);
        writer.WriteStartObject("verification");
        writer.WriteStartObject("inclusionProof");
        writer.WriteString("checkpoint", entry.Head.Checkpoint);
        writer.WriteStartArray("hashes");
        foreach (var hash in entry.InclusionProof)
        {
            WriteHex(writer, hash);
        }

        writer.WriteEndArray();
        writer.WriteNumber("logIndex", entry.Index);
        writer.WritePropertyName("rootHash");
        WriteHex(writer, entry.Head.Root);
        writer.WriteNumber("treeSize", entry.Head.Size);
        writer.WriteEndObject();
        if (entry.SignedEntryTimestamp is { } set)
        {
            writer.WriteBase64String("signedEntryTimestamp", set);
        }

        if (entry.Cosigned is { } cosigned)
        {
            writer.WriteStartObject("cosignedCheckpoint");
            writer.WriteString("checkpoint", cosigned.Note);
            writer.WriteNumber("treeSize", cosigned.Size);
            writer.WriteStartArray("consistencyProof");
            foreach (var hash in cosigned.ConsistencyProof)
            {
                WriteHex(writer, hash);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>A hash as lowercase hex, formatted on the stack (a proof has up to 64 of them per answer).</summary>
    private static void WriteHex(Utf8JsonWriter writer, Hash hash)
    {
        Span<byte> bytes = stackalloc byte[Hash.Size];
        Span<char> hex = stackalloc char[Hash.Size * 2];
        hash.CopyTo(bytes);
        Convert.TryToHexStringLower(bytes, hex, out _);
        writer.WriteStringValue(hex);
    }

    private sealed class EntryResult(LogInstance log, VerifiedEntry entry) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            using var buffer = new PooledBufferWriter(Capacity([entry]));
            using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            {
                WriteMap(writer, log, [entry]);
            }

            var response = httpContext.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/json";
            response.ContentLength = buffer.WrittenMemory.Length;
            await response.Body.WriteAsync(buffer.WrittenMemory);
        }
    }
}
