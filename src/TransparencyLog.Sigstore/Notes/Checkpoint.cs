using System.Globalization;
using System.Text;

namespace TransparencyLog.Sigstore.Notes;

/// <summary>
/// A c2sp.org/tlog-checkpoint body: origin, tree size and RFC 6962 root hash, plus optional extension lines
/// (Rekor v1 adds <c>Timestamp: …</c>). This is the note text; signatures are added by <see cref="SignedNote"/>.
/// </summary>
public sealed record Checkpoint(string Origin, long Size, byte[] RootHash, IReadOnlyList<string> Extensions)
{
    public const int RootHashSize = 32;

    public Checkpoint(string origin, long size, byte[] rootHash)
        : this(origin, size, rootHash, [])
    {
    }

    /// <summary><c>origin\nsize\nbase64(root)\n[extension\n]*</c></summary>
    /// <exception cref="InvalidOperationException">A field cannot be represented in a checkpoint.</exception>
    public string ToNoteText()
    {
        if (Origin.Length == 0 || Origin.Contains('\n', StringComparison.Ordinal))
        {
            throw new InvalidOperationException("checkpoint origin must be a non-empty single line");
        }

        if (Size < 0)
        {
            throw new InvalidOperationException("checkpoint size must not be negative");
        }

        if (RootHash.Length != RootHashSize)
        {
            throw new InvalidOperationException("checkpoint root hash must be 32 bytes");
        }

        var builder = new StringBuilder()
            .Append(Origin).Append('\n')
            .Append(Size.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(Convert.ToBase64String(RootHash)).Append('\n');
        foreach (var extension in Extensions)
        {
            if (extension.Length == 0 || extension.Contains('\n', StringComparison.Ordinal))
            {
                throw new InvalidOperationException("checkpoint extension lines must be non-empty single lines");
            }

            builder.Append(extension).Append('\n');
        }

        return builder.ToString();
    }

    /// <summary>
    /// Parses a checkpoint body strictly: decimal size without leading zeros, canonical base64 of exactly
    /// 32 bytes, non-empty extension lines, final newline.
    /// </summary>
    public static bool TryParse(string noteText, out Checkpoint? checkpoint)
    {
        checkpoint = null;
        if (string.IsNullOrEmpty(noteText) || noteText[^1] != '\n')
        {
            return false;
        }

        var lines = noteText[..^1].Split('\n');
        if (lines.Length < 3 || lines[0].Length == 0)
        {
            return false;
        }

        if (!TryParseSize(lines[1], out var size) || !TryParseRoot(lines[2], out var root))
        {
            return false;
        }

        var extensions = lines[3..];
        if (extensions.Any(static e => e.Length == 0))
        {
            return false;
        }

        checkpoint = new Checkpoint(lines[0], size, root, extensions);
        return true;
    }

    private static bool TryParseSize(string text, out long size)
    {
        size = 0;
        if (text.Length == 0 || text.Length > 19 || (text.Length > 1 && text[0] == '0') || !text.All(char.IsAsciiDigit))
        {
            return false;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out size);
    }

    private static bool TryParseRoot(string text, out byte[] root)
    {
        root = new byte[RootHashSize];

        // Exactly 44 characters of canonical base64; the re-encode check rejects non-zero padding bits.
        return text.Length == 44
            && Convert.TryFromBase64String(text, root, out var written)
            && written == RootHashSize
            && Convert.ToBase64String(root) == text;
    }
}
