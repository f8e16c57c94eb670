using System.Globalization;
using System.Text.Json;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Rekor;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.RekorV2;

/// <summary>
/// Writes a <c>dev.sigstore.rekor.v1.TransparencyLogEntry</c> in protobuf-JSON: int64 as strings, bytes as
/// standard base64. There is no inclusion promise; <c>integratedTime</c> is 0 because a v2 log vouches for no time.
/// The proof, <c>rootHash</c>, <c>treeSize</c> and the checkpoint all describe the same tree head.
/// </summary>
internal static class TransparencyLogEntryWriter
{
    public static byte[] Write(
        LogInstance log, long index, string kind, string apiVersion, byte[] body, TreeHead head, IReadOnlyList<Hash> proof)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, RekorEntryWriter.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("logIndex", Int64(index));
            writer.WriteStartObject("logId");
            writer.WriteBase64String("keyId", log.CheckpointKeyHash);
            writer.WriteEndObject();
            writer.WriteStartObject("kindVersion");
            writer.WriteString("kind", kind);
            writer.WriteString("version", apiVersion);
            writer.WriteEndObject();
            writer.WriteString("integratedTime", "0");
            writer.WriteStartObject("inclusionProof");
            writer.WriteString("logIndex", Int64(index));
            writer.WriteBase64String("rootHash", head.Root.ToArray());
            writer.WriteString("treeSize", Int64(head.Size));
            writer.WriteStartArray("hashes");
            foreach (var hash in proof)
            {
                writer.WriteBase64StringValue(hash.ToArray());
            }

            writer.WriteEndArray();
            writer.WriteStartObject("checkpoint");
            writer.WriteString("envelope", head.Checkpoint);
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteBase64String("canonicalizedBody", body);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static string Int64(long value) => value.ToString(CultureInfo.InvariantCulture);
}
