using System.Text;

namespace TransparencyLog.Sigstore.Notes;

/// <summary>c2sp.org/signed-note: text, a blank line, then one <c>— name base64(keyId || sig)</c> line per signature.</summary>
public static class SignedNote
{
    /// <summary>Upper bound on a whole note: generous for post-quantum signatures, small enough to parse eagerly.</summary>
    public const int MaxNoteBytes = 1024 * 1024;

    /// <summary>C2SP asks verifiers to accept at least 16; witnesses and grease lines stay well under this.</summary>
    public const int MaxSignatureLines = 100;

    private const string LinePrefix = "\u2014 ";

    /// <exception cref="ArgumentException">The text is empty, lacks a final newline, ends in a blank line, or holds control characters.</exception>
    public static ValueTask<string> SignAsync(string text, NoteSigner signer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signer);
        return SignAsync(text, [signer], cancellationToken);
    }

    /// <inheritdoc cref="SignAsync(string, NoteSigner, CancellationToken)"/>
    public static async ValueTask<string> SignAsync(string text, IReadOnlyList<NoteSigner> signers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(signers);
        if (!IsValidText(text))
        {
            throw new ArgumentException(
                "note text must be non-empty, end with a newline, not end with a blank line, and contain no control characters other than newline",
                nameof(text));
        }

        if (signers.Count == 0)
        {
            throw new ArgumentException("at least one signer is required", nameof(signers));
        }

        var builder = new StringBuilder(text).Append('\n');
        foreach (var signer in signers)
        {
            var signature = await signer.SignTextAsync(text, cancellationToken);
            var blob = new byte[signer.KeyId.Length + signature.Length];
            signer.KeyId.CopyTo(blob, 0);
            signature.CopyTo(blob, signer.KeyId.Length);
            builder.Append(LinePrefix).Append(signer.Name).Append(' ').Append(Convert.ToBase64String(blob)).Append('\n');
        }

        return builder.ToString();
    }

    /// <summary>
    /// Splits a note at its last blank line into text (with its final newline) and signature lines. Checks only
    /// syntax; use <see cref="NoteVerifier"/> to check signatures.
    /// </summary>
    public static bool TryParse(string note, out string text, out IReadOnlyList<NoteSignature> signatures)
    {
        text = string.Empty;
        signatures = [];
        if (note is null || note.Length > MaxNoteBytes || Encoding.UTF8.GetByteCount(note) > MaxNoteBytes)
        {
            return false;
        }

        var split = note.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0)
        {
            return false;
        }

        var body = note[..(split + 1)];
        var block = note[(split + 2)..];
        if (!IsValidText(body) || block.Length == 0 || block[^1] != '\n')
        {
            return false;
        }

        var lines = block[..^1].Split('\n');
        if (lines.Length > MaxSignatureLines)
        {
            return false;
        }

        var parsed = new List<NoteSignature>(lines.Length);
        foreach (var line in lines)
        {
            if (!TryParseLine(line, out var signature))
            {
                return false;
            }

            parsed.Add(signature);
        }

        text = body;
        signatures = parsed;
        return true;
    }

    private static bool TryParseLine(string line, out NoteSignature signature)
    {
        signature = new NoteSignature(string.Empty, [], []);
        if (!line.StartsWith(LinePrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = line[LinePrefix.Length..].Split(' ');
        if (parts.Length != 2 || !NoteKeys.IsValidName(parts[0]))
        {
            return false;
        }

        byte[] blob;
        try
        {
            blob = Convert.FromBase64String(parts[1]);
        }
        catch (FormatException)
        {
            return false;
        }

        if (blob.Length <= NoteKeys.KeyIdSize)
        {
            return false;
        }

        signature = new NoteSignature(parts[0], blob[..NoteKeys.KeyIdSize], blob[NoteKeys.KeyIdSize..]);
        return true;
    }

    internal static bool IsValidText(string text) =>
        text.Length > 0
        && text[^1] == '\n'
        && !text.EndsWith("\n\n", StringComparison.Ordinal)
        && !text.Any(static c => char.IsControl(c) && c != '\n');
}
