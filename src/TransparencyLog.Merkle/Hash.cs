using System.Buffers;
using System.Buffers.Binary;

namespace TransparencyLog.Merkle;

/// <summary>A 32-byte SHA-256 value, compared by value. <see cref="ToString"/> gives lowercase hex.</summary>
/// <remarks>
/// Held as four words rather than a <c>byte[]</c> so that hashes can be copied, compared and stored in arrays
/// without allocating. <c>default(Hash)</c> is the all-zero value.
/// </remarks>
public readonly struct Hash : IEquatable<Hash>
{
    public const int Size = 32;

    private const int HexLength = Size * 2;
    private const int Base64Length = (Size + 2) / 3 * 4;

    // Big-endian words: the byte order of the hash is preserved, whatever the machine.
    private readonly ulong _w0;
    private readonly ulong _w1;
    private readonly ulong _w2;
    private readonly ulong _w3;

    private Hash(ReadOnlySpan<byte> bytes)
    {
        _w0 = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _w1 = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _w2 = BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]);
        _w3 = BinaryPrimitives.ReadUInt64BigEndian(bytes[24..]);
    }

    /// <exception cref="ArgumentException"><paramref name="bytes"/> is not exactly 32 bytes long.</exception>
    public static Hash FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
        {
            throw new ArgumentException($"A hash is {Size} bytes; got {bytes.Length}.", nameof(bytes));
        }

        return new Hash(bytes);
    }

    /// <exception cref="FormatException"><paramref name="hex"/> is not 64 hexadecimal digits.</exception>
    public static Hash FromHex(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        return TryFromHex(hex, out var hash)
            ? hash
            : throw new FormatException($"A hash is {HexLength} hexadecimal digits.");
    }

    /// <summary>Parses exactly 64 hexadecimal digits, either case; nothing else (no prefix, no whitespace).</summary>
    public static bool TryFromHex(string? hex, out Hash hash)
    {
        hash = default;
        if (hex is null || hex.Length != HexLength)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Size];
        if (Convert.FromHexString(hex, bytes, out _, out var written) != OperationStatus.Done || written != Size)
        {
            return false;
        }

        hash = new Hash(bytes);
        return true;
    }

    /// <summary>
    /// Parses standard, padded base64 of exactly 32 bytes. Only the canonical encoding is accepted (no whitespace,
    /// unused trailing bits zero), so a hash has one textual form in checkpoints and API payloads.
    /// </summary>
    public static bool TryFromBase64(string? b64, out Hash hash)
    {
        hash = default;
        if (b64 is null || b64.Length != Base64Length)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Size];
        if (!Convert.TryFromBase64String(b64, bytes, out var written) || written != Size)
        {
            return false;
        }

        // The decoder ignores non-zero padding bits; re-encoding exposes them.
        Span<char> canonical = stackalloc char[Base64Length];
        if (!Convert.TryToBase64Chars(bytes, canonical, out _) || !canonical.SequenceEqual(b64))
        {
            return false;
        }

        hash = new Hash(bytes);
        return true;
    }

    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than 32 bytes.</exception>
    public void CopyTo(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"The destination needs {Size} bytes.", nameof(destination));
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination, _w0);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _w1);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _w2);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _w3);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Size];
        CopyTo(bytes);
        return bytes;
    }

    public string ToBase64()
    {
        Span<byte> bytes = stackalloc byte[Size];
        CopyTo(bytes);
        return Convert.ToBase64String(bytes);
    }

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    // Hashes are public values: a constant-time comparison would protect nothing.
    public bool Equals(Hash other) =>
        _w0 == other._w0 && _w1 == other._w1 && _w2 == other._w2 && _w3 == other._w3;

    public override bool Equals(object? obj) => obj is Hash other && Equals(other);

    // Seeded combination: hashes can come from clients, so dictionary keys must not be collidable on purpose.
    public override int GetHashCode() => HashCode.Combine(_w0, _w1, _w2, _w3);

    public static bool operator ==(Hash left, Hash right) => left.Equals(right);

    public static bool operator !=(Hash left, Hash right) => !left.Equals(right);
}
