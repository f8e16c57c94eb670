using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Notes;

/// <summary>A trusted (name, key ID, public key) triple, usually parsed from a C2SP verifier key string.</summary>
public sealed class NoteVerifierKey
{
    public NoteVerifierKey(string name, LogPublicKey key)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(key);
        if (!NoteKeys.IsValidName(name))
        {
            throw new ArgumentException("a note key name must be non-empty and contain no spaces or '+'", nameof(name));
        }

        Name = name;
        Key = key;
        KeyId = NoteKeys.KeyId(name, key);
    }

    public string Name { get; }

    public byte[] KeyId { get; }

    public LogPublicKey Key { get; }

    public string VerifierKey => NoteKeys.VerifierKey(Name, KeyId, Key);

    /// <summary>Parses <c>name+hex8+base64(type || key)</c> (types 0x01 Ed25519 and 0x02 ECDSA) and checks the key ID.</summary>
    /// <exception cref="FormatException">Malformed, an unsupported type, or a key ID that does not match the key.</exception>
    public static NoteVerifierKey Parse(string verifierKey)
    {
        ArgumentNullException.ThrowIfNull(verifierKey);
        // Names never contain '+', but base64 may: split on the first two only.
        var parts = verifierKey.Split('+', 3);
        if (parts.Length != 3 || parts[1].Length != 8 || !parts[1].All(char.IsAsciiHexDigit))
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

        if (typed.Length < 2)
        {
            throw new FormatException("the verifier key holds no key");
        }

        LogPublicKey key;
        try
        {
            key = typed[0] switch
            {
                NoteKeys.Ed25519Type => LogPublicKey.FromEd25519(typed.AsSpan(1)),
                NoteKeys.EcdsaType => LogPublicKey.FromSpki(typed[1..]),
                _ => throw new FormatException($"unsupported verifier key type 0x{typed[0]:x2}"),
            };
        }
        catch (KeyLoadException ex)
        {
            throw new FormatException($"invalid key in the verifier key: {ex.Message}", ex);
        }

        NoteVerifierKey result;
        try
        {
            result = new NoteVerifierKey(parts[0], key);
        }
        catch (ArgumentException ex)
        {
            throw new FormatException("invalid name in the verifier key", ex);
        }

        if (!string.Equals(Convert.ToHexStringLower(result.KeyId), parts[1], StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException("the verifier key's key ID does not match its name and key");
        }

        return result;
    }
}
