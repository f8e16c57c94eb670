using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Notes;

/// <summary>
/// c2sp.org/tlog-cosignature v1 (Ed25519): a witness's timestamped signature over a checkpoint. The signed message is
/// <c>cosignature/v1\ntime T\n</c> followed by the whole note text; the line is
/// <c>— name base64(keyID[4] ‖ uint64-BE T ‖ sig[64])</c>, with key ID = SHA-256(name ‖ 0x0A ‖ 0x04 ‖ key)[:4].
/// </summary>
public static class Cosignature
{
    /// <summary>The signature type byte of an Ed25519 cosignature key (a note key is 0x01).</summary>
    public const byte Ed25519CosignatureType = 0x04;

    /// <summary>keyID (4) + timestamp (8) + Ed25519 signature (64).</summary>
    public const int SignatureBlobSize = NoteKeys.KeyIdSize + 8 + 64;

    private const string Header = "cosignature/v1\n";

    /// <summary>The exact bytes a cosigner signs for <paramref name="noteText"/> at <paramref name="time"/>.</summary>
    public static byte[] Message(long time, string noteText)
    {
        ArgumentNullException.ThrowIfNull(noteText);
        ArgumentOutOfRangeException.ThrowIfNegative(time);
        return Encoding.UTF8.GetBytes(Header + "time " + time.ToString(CultureInfo.InvariantCulture) + "\n" + noteText);
    }

    /// <summary>SHA-256(name ‖ 0x0A ‖ 0x04 ‖ key)[:4].</summary>
    public static byte[] KeyId(string name, ReadOnlySpan<byte> ed25519Key)
    {
        ArgumentNullException.ThrowIfNull(name);
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var input = new byte[nameBytes.Length + 2 + ed25519Key.Length];
        nameBytes.CopyTo(input, 0);
        input[nameBytes.Length] = 0x0A;
        input[nameBytes.Length + 1] = Ed25519CosignatureType;
        ed25519Key.CopyTo(input.AsSpan(nameBytes.Length + 2));
        return SHA256.HashData(input)[..NoteKeys.KeyIdSize];
    }

    /// <summary>
    /// True when <paramref name="note"/> carries a cosignature of <paramref name="key"/> and every line under the key's
    /// name and ID verifies (a failing known line rejects the note, as c2sp.org/signed-note requires); <paramref name="time"/>
    /// is the newest timestamp.
    /// </summary>
    public static bool TryVerify(string note, CosignatureVerifierKey key, out long time)
    {
        ArgumentNullException.ThrowIfNull(key);
        time = 0;
        if (!SignedNote.TryParse(note, out var text, out var signatures))
        {
            return false;
        }

        var found = false;
        foreach (var signature in signatures)
        {
            if (signature.Name != key.Name || !signature.KeyId.AsSpan().SequenceEqual(key.KeyId))
            {
                continue;
            }

            if (!key.Verify(text, signature.Signature, out var t))
            {
                time = 0;
                return false;
            }

            time = Math.Max(time, t);
            found = true;
        }

        return found;
    }

    internal static bool TryReadTime(ReadOnlySpan<byte> signature, out long time, out ReadOnlySpan<byte> ed25519Signature)
    {
        time = 0;
        ed25519Signature = default;
        if (signature.Length != SignatureBlobSize - NoteKeys.KeyIdSize)
        {
            return false;
        }

        var raw = BinaryPrimitives.ReadUInt64BigEndian(signature);
        if (raw > long.MaxValue)
        {
            return false;
        }

        time = (long)raw;
        ed25519Signature = signature[8..];
        return true;
    }
}

/// <summary>An Ed25519 cosigner: a witness's own key, never a log key (the message omits the name, so one key must
/// serve one cosigner only).</summary>
public sealed class Cosigner
{
    private readonly LogSigner _key;

    public Cosigner(string name, LogSigner key)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(key);
        if (!NoteKeys.IsValidName(name))
        {
            throw new ArgumentException("a cosigner name must be non-empty and contain no spaces or '+'", nameof(name));
        }

        if (key.KeyType != LogKeyType.Ed25519)
        {
            throw new ArgumentException("a cosigner key must be Ed25519", nameof(key));
        }

        Name = name;
        _key = key;
        var raw = NoteKeys.KeyMaterial(key.PublicKey);
        KeyId = Cosignature.KeyId(name, raw);
        var typed = new byte[1 + raw.Length];
        typed[0] = Cosignature.Ed25519CosignatureType;
        raw.CopyTo(typed, 1);
        VerifierKey = $"{name}+{Convert.ToHexStringLower(KeyId)}+{Convert.ToBase64String(typed)}";
    }

    public string Name { get; }

    public byte[] KeyId { get; }

    /// <summary>The C2SP verifier key with type 0x04, as witness policies and witness-network pages publish it.</summary>
    public string VerifierKey { get; }

    /// <summary>The whole signature line (with its final newline) for <paramref name="noteText"/> at <paramref name="time"/>.</summary>
    public async ValueTask<string> SignLineAsync(string noteText, long time, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(time);
        var signature = await _key.SignAsync(Cosignature.Message(time, noteText), cancellationToken);
        var blob = new byte[Cosignature.SignatureBlobSize];
        KeyId.CopyTo(blob, 0);
        BinaryPrimitives.WriteUInt64BigEndian(blob.AsSpan(NoteKeys.KeyIdSize), (ulong)time);
        signature.CopyTo(blob, NoteKeys.KeyIdSize + 8);
        return $"\u2014 {Name} {Convert.ToBase64String(blob)}\n";
    }
}

/// <summary>A witness's cosignature key, parsed from a C2SP verifier key of type 0x04 (or 0x01, re-keyed as 0x04 the way
/// transparency-dev/formats <c>NewVerifierForCosignatureV1</c> does).</summary>
public sealed class CosignatureVerifierKey
{
    private readonly byte[] _key;

    private CosignatureVerifierKey(string name, byte[] key)
    {
        Name = name;
        _key = key;
        KeyId = Cosignature.KeyId(name, key);
        var typed = new byte[1 + key.Length];
        typed[0] = Cosignature.Ed25519CosignatureType;
        key.CopyTo(typed, 1);
        VerifierKey = $"{name}+{Convert.ToHexStringLower(KeyId)}+{Convert.ToBase64String(typed)}";
    }

    public string Name { get; }

    public byte[] KeyId { get; }

    /// <summary>The canonical 0x04 form.</summary>
    public string VerifierKey { get; }

    /// <exception cref="FormatException">Malformed, another key type, or a key ID that matches neither derivation.</exception>
    public static CosignatureVerifierKey Parse(string verifierKey)
    {
        ArgumentNullException.ThrowIfNull(verifierKey);
        var parts = verifierKey.Split('+', 3);
        if (parts.Length != 3 || parts[1].Length != 8 || !parts[1].All(char.IsAsciiHexDigit) || !NoteKeys.IsValidName(parts[0]))
        {
            throw new FormatException("a verifier key has the form name+hex8+base64");
        }

        byte[] typed;
        try
        {
            typed = Convert.FromBase64String(parts[2]);
        }
        catch (FormatException ex)
        {
            throw new FormatException("invalid base64 in the verifier key", ex);
        }

        if (typed.Length != 33 || typed[0] is not (Cosignature.Ed25519CosignatureType or NoteKeys.Ed25519Type))
        {
            throw new FormatException("a cosignature verifier key holds type 0x04 (or 0x01) and a 32-byte Ed25519 key");
        }

        var key = typed[1..];
        var expected = typed[0] == Cosignature.Ed25519CosignatureType
            ? Cosignature.KeyId(parts[0], key)
            : NoteKeys.KeyId(parts[0], LogPublicKey.FromEd25519(key));
        if (!string.Equals(Convert.ToHexStringLower(expected), parts[1], StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException("the verifier key's key ID does not match its name and key");
        }

        return new CosignatureVerifierKey(parts[0], key);
    }

    /// <summary>Checks one signature (the bytes after the key ID) over <paramref name="noteText"/>.</summary>
    public bool Verify(string noteText, ReadOnlySpan<byte> signature, out long time)
    {
        ArgumentNullException.ThrowIfNull(noteText);
        return Cosignature.TryReadTime(signature, out time, out var ed25519)
            && Ed25519Verification.VerifyPure(_key, Cosignature.Message(time, noteText), ed25519);
    }
}
