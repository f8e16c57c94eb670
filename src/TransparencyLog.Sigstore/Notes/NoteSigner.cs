using System.Text;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Notes;

/// <summary>Signs note text under a name (the checkpoint origin; for sigstore-js, the log's host[:port]).</summary>
public sealed class NoteSigner
{
    private readonly LogSigner _key;

    public NoteSigner(string name, LogSigner key)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(key);
        if (!NoteKeys.IsValidName(name))
        {
            throw new ArgumentException("a note signer name must be non-empty and contain no spaces or '+'", nameof(name));
        }

        Name = name;
        _key = key;
        var publicKey = key.PublicKey;
        KeyHash = NoteKeys.KeyHash(name, publicKey);
        KeyId = KeyHash[..NoteKeys.KeyIdSize];
        VerifierKey = NoteKeys.VerifierKey(name, KeyId, publicKey);
    }

    public string Name { get; }

    /// <summary>
    /// The 32-byte hash whose first 4 bytes are <see cref="KeyId"/>: SHA-256(name || 0x0A || 0x01 || key) for
    /// Ed25519, SHA-256(DER SPKI) for ECDSA. Rekor v2 publishes it as the log ID.
    /// </summary>
    public byte[] KeyHash { get; }

    /// <summary>The 4-byte key hint that prefixes each signature.</summary>
    public byte[] KeyId { get; }

    /// <summary><c>name+hex8(keyId)+base64(type || key)</c>, as C2SP verifier keys are written.</summary>
    public string VerifierKey { get; }

    /// <summary>Ed25519 signs the text bytes; ECDSA signs SHA-256 of them (DER), which is what <c>Sign</c> does.</summary>
    internal ValueTask<byte[]> SignTextAsync(string text, CancellationToken cancellationToken) =>
        _key.SignAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
}
