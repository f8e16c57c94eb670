using System.Globalization;
using System.Text;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Witness.Checkpoints;

/// <summary>
/// A parsed c2sp.org/tlog-witness add-checkpoint body: <c>old N</c>, up to 63 consistency proof hashes (base64, one
/// per line), an empty line, then the signed checkpoint note.
/// </summary>
internal sealed record AddCheckpointRequest(long OldSize, IReadOnlyList<Hash> Proof, string Note, string NoteText, Checkpoint Checkpoint)
{
    /// <summary>A consistency proof between trees of at most 2^63 leaves has at most 63 hashes.</summary>
    public const int MaxProofHashes = 63;

    /// <summary>Parses strictly: canonical decimal <c>old</c>, canonical base64 hashes, a syntactically valid signed
    /// checkpoint. Returns null with a reason otherwise.</summary>
    public static AddCheckpointRequest? Parse(ReadOnlySpan<byte> body, out string? error)
    {
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(body);
        }
        catch (DecoderFallbackException)
        {
            error = "the body is not UTF-8";
            return null;
        }

        var blank = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (blank < 0)
        {
            error = "the body has no empty line between the proof and the checkpoint";
            return null;
        }

        var header = text[..blank].Split('\n');
        var note = text[(blank + 2)..];
        if (!header[0].StartsWith("old ", StringComparison.Ordinal) || !TryParseSize(header[0][4..], out var old))
        {
            error = "the first line must be 'old <size>' in canonical decimal";
            return null;
        }

        if (header.Length - 1 > MaxProofHashes)
        {
            error = "a consistency proof has at most 63 hashes";
            return null;
        }

        var proof = new List<Hash>(header.Length - 1);
        foreach (var line in header[1..])
        {
            if (line.Length != 44 || !Hash.TryFromBase64(line, out var hash) || Convert.ToBase64String(hash.ToArray()) != line)
            {
                error = "each proof line must be the canonical base64 of a 32-byte hash";
                return null;
            }

            proof.Add(hash);
        }

        if (!SignedNote.TryParse(note, out var noteText, out _) || !Checkpoint.TryParse(noteText, out var checkpoint) || checkpoint is null)
        {
            error = "the checkpoint is not a valid signed note";
            return null;
        }

        error = null;
        return new AddCheckpointRequest(old, proof, note, noteText, checkpoint);
    }

    private static bool TryParseSize(string text, out long size)
    {
        size = 0;
        return text.Length is > 0 and <= 19
            && (text.Length == 1 || text[0] != '0')
            && text.All(char.IsAsciiDigit)
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out size);
    }
}
