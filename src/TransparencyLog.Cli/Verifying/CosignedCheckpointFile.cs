using System.CommandLine;
using System.Text.Json;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Merkle;

namespace TransparencyLog.Cli.Verifying;

/// <summary>
/// A cosigned checkpoint the log served beside an entry's inclusion proof (Rekor v1 <c>verification.cosignedCheckpoint</c>:
/// the note with its witness lines, and the consistency proof from the proof's tree size to it).
/// </summary>
internal sealed record CosignedBeside(string Note, IReadOnlyList<Hash> ConsistencyProof);

/// <summary>
/// <c>--cosigned-checkpoint FILE</c>: the log's entry answer saved beside the bundle (<c>GET /api/v1/log/entries/UUID</c>,
/// a retrieve answer, or the <c>cosignedCheckpoint</c> object alone), so <c>--witness-policy</c> is checked from what the
/// signer got, without asking the log again.
/// </summary>
internal static class CosignedCheckpointFile
{
    public const int MaxBytes = 1024 * 1024;

    private const int MaxProofHashes = 64;

    public static Option<string?> Option() => new("--cosigned-checkpoint")
    {
        Description = "With --witness-policy: take the witnessed checkpoint from this file (the log's entry answer, whose " +
            "verification.cosignedCheckpoint holds it, or that object alone) instead of fetching it from the log.",
        HelpName = "FILE",
    };

    /// <summary>Every cosigned checkpoint in the file at <paramref name="path"/>.</summary>
    public static IReadOnlyList<CosignedBeside> Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new CliException(ExitCodes.Usage, $"cosigned checkpoint file '{path}' does not exist");
        }

        if (new FileInfo(path).Length > MaxBytes)
        {
            throw new CliException(ExitCodes.Usage, $"cosigned checkpoint file '{path}' is larger than {MaxBytes} bytes");
        }

        var found = new List<CosignedBeside>();
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 16 });
            Collect(document.RootElement, found, 0);
        }
        catch (JsonException)
        {
            throw new CliException(ExitCodes.Usage, $"cosigned checkpoint file '{path}' is not JSON");
        }
        catch (FormatException ex)
        {
            throw new CliException(ExitCodes.Usage, $"cosigned checkpoint file '{path}': {ex.Message}");
        }

        return found.Count > 0
            ? found
            : throw new CliException(ExitCodes.Usage, $"cosigned checkpoint file '{path}' holds no cosignedCheckpoint (the log serves one only with a witness policy)");
    }

    private static void Collect(JsonElement element, List<CosignedBeside> found, int depth)
    {
        if (depth > 4)
        {
            return;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item, found, depth + 1);
                }

                break;
            case JsonValueKind.Object when element.TryGetProperty("checkpoint", out var note) && element.TryGetProperty("consistencyProof", out var proof):
                found.Add(Parse(note, proof));
                break;
            case JsonValueKind.Object when element.TryGetProperty("verification", out var verification) && verification.ValueKind == JsonValueKind.Object:
                if (verification.TryGetProperty("cosignedCheckpoint", out var cosigned))
                {
                    Collect(cosigned, found, depth + 1);
                }

                break;
            case JsonValueKind.Object:
                // A {uuid: entry} map.
                foreach (var property in element.EnumerateObject())
                {
                    Collect(property.Value, found, depth + 1);
                }

                break;
        }
    }

    private static CosignedBeside Parse(JsonElement note, JsonElement proof)
    {
        if (note.ValueKind != JsonValueKind.String || proof.ValueKind != JsonValueKind.Array || proof.GetArrayLength() > MaxProofHashes)
        {
            throw new FormatException($"a cosignedCheckpoint has a string checkpoint and at most {MaxProofHashes} consistencyProof hashes");
        }

        var hashes = new List<Hash>();
        foreach (var item in proof.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !Hash.TryFromHex(item.GetString(), out var hash))
            {
                throw new FormatException("a consistencyProof hash is not 64 hex digits");
            }

            hashes.Add(hash);
        }

        return new CosignedBeside(note.GetString()!, hashes);
    }
}
