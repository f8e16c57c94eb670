using System.Text;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Notes;

/// <summary>
/// Verifies signed notes against a set of trusted keys, as c2sp.org/signed-note prescribes: unknown (name, key ID)
/// pairs are ignored, a known key whose signature fails rejects the note, and at least one known key must verify.
/// </summary>
public sealed class NoteVerifier
{
    private readonly IReadOnlyList<NoteVerifierKey> _keys;

    public NoteVerifier(IEnumerable<NoteVerifierKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = [.. keys];
        if (_keys.Count == 0)
        {
            throw new ArgumentException("at least one verifier key is required", nameof(keys));
        }
    }

    /// <summary>From a C2SP verifier key string.</summary>
    public NoteVerifier(string verifierKey)
        : this([NoteVerifierKey.Parse(verifierKey)])
    {
    }

    public NoteVerifier(string name, LogPublicKey key)
        : this([new NoteVerifierKey(name, key)])
    {
    }

    public bool Verify(string note) => TryVerify(note, out _);

    /// <summary>Verifies and returns the signed text (with its final newline).</summary>
    public bool TryVerify(string note, out string text)
    {
        text = string.Empty;
        if (!SignedNote.TryParse(note, out var body, out var signatures))
        {
            return false;
        }

        var message = Encoding.UTF8.GetBytes(body);
        var verified = 0;
        foreach (var signature in signatures)
        {
            foreach (var key in _keys)
            {
                if (key.Name != signature.Name || !key.KeyId.AsSpan().SequenceEqual(signature.KeyId))
                {
                    continue;
                }

                if (!key.Key.Verify(message, signature.Signature))
                {
                    return false;
                }

                verified++;
            }
        }

        if (verified == 0)
        {
            return false;
        }

        text = body;
        return true;
    }

    /// <summary>Verifies a signed checkpoint and parses its body.</summary>
    public bool TryVerifyCheckpoint(string note, out Checkpoint? checkpoint)
    {
        checkpoint = null;
        return TryVerify(note, out var text) && Checkpoint.TryParse(text, out checkpoint);
    }
}
