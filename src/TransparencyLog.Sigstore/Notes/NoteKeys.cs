using System.Security.Cryptography;
using System.Text;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Notes;

/// <summary>Key IDs and verifier-key encodings shared by <see cref="NoteSigner"/> and <see cref="NoteVerifierKey"/>.</summary>
internal static class NoteKeys
{
    public const byte Ed25519Type = 0x01;
    public const byte EcdsaType = 0x02;
    public const int KeyIdSize = 4;

    public static bool IsValidName(string name) =>
        name.Length > 0 && !name.Contains('+', StringComparison.Ordinal) && !name.Any(char.IsWhiteSpace) && !name.Any(char.IsControl);

    /// <summary>The public key bytes after the type byte: the raw 32-byte key for Ed25519, DER SPKI for ECDSA.</summary>
    public static byte[] KeyMaterial(LogPublicKey key) => key.KeyType == LogKeyType.Ed25519
        ? key.Ed25519Key ?? throw new InvalidOperationException("Ed25519 key without raw key bytes")
        : key.Spki;

    public static byte TypeByte(LogKeyType type) => type == LogKeyType.Ed25519 ? Ed25519Type : EcdsaType;

    /// <summary>
    /// Ed25519 (C2SP): SHA-256(name || 0x0A || 0x01 || key)[:4]. ECDSA (type 0x02, transparency-dev/witness and
    /// Rekor v1): SHA-256(DER SPKI)[:4], independent of the name; sigstore-js matches it against logID[:4].
    /// </summary>
    public static byte[] KeyId(string name, LogPublicKey key) => KeyHash(name, key)[..KeyIdSize];

    /// <summary>
    /// The untruncated hash the key ID is cut from. Rekor v2 (rekor-tiles <c>note.KeyHash</c>) uses it as the log ID
    /// in <c>TransparencyLogEntry.logId</c>, so a trusted root's <c>logId.keyId[:4]</c> is the checkpoint key hint.
    /// </summary>
    public static byte[] KeyHash(string name, LogPublicKey key)
    {
        if (key.KeyType == LogKeyType.EcdsaP256)
        {
            return key.LogId;
        }

        var nameBytes = Encoding.UTF8.GetBytes(name);
        var material = KeyMaterial(key);
        var input = new byte[nameBytes.Length + 2 + material.Length];
        nameBytes.CopyTo(input, 0);
        input[nameBytes.Length] = 0x0A;
        input[nameBytes.Length + 1] = Ed25519Type;
        material.CopyTo(input, nameBytes.Length + 2);
        return SHA256.HashData(input);
    }

    public static string VerifierKey(string name, byte[] keyId, LogPublicKey key)
    {
        var material = KeyMaterial(key);
        var typed = new byte[1 + material.Length];
        typed[0] = TypeByte(key.KeyType);
        material.CopyTo(typed, 1);
        return $"{name}+{Convert.ToHexStringLower(keyId)}+{Convert.ToBase64String(typed)}";
    }
}
