using System.Globalization;
using System.Security.Cryptography;

namespace TransparencyLog.Sigstore.Rekor;

/// <summary>
/// Rekor v1 entry identifiers: the UUID is hex(leaf hash) (64 hex); the entry ID prefixes the 16-hex tree ID
/// (80 hex). Lookups accept either form.
/// </summary>
public static class EntryUuid
{
    public const int UuidLength = 64;
    public const int EntryIdLength = 80;

    /// <summary>RFC 6962 leaf hash of a canonical body: SHA-256(0x00 || body).</summary>
    public static byte[] LeafHash(ReadOnlySpan<byte> canonicalBody)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData([0x00]);
        hash.AppendData(canonicalBody);
        return hash.GetHashAndReset();
    }

    public static string FromLeafHash(ReadOnlySpan<byte> leafHash)
    {
        if (leafHash.Length != 32)
        {
            throw new ArgumentException("a leaf hash is 32 bytes", nameof(leafHash));
        }

        return Convert.ToHexStringLower(leafHash);
    }

    public static string EntryId(long treeId, ReadOnlySpan<byte> leafHash) =>
        treeId.ToString("x16", CultureInfo.InvariantCulture) + FromLeafHash(leafHash);

    /// <summary>Parses a 64-hex UUID or an 80-hex entry ID (tree ID then UUID); hex of either case.</summary>
    public static bool TryParse(string? id, out long? treeId, out byte[] leafHash)
    {
        treeId = null;
        leafHash = [];
        if (id is null || (id.Length != UuidLength && id.Length != EntryIdLength) || !id.All(char.IsAsciiHexDigit))
        {
            return false;
        }

        if (id.Length == EntryIdLength)
        {
            treeId = long.Parse(id.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        }

        leafHash = Convert.FromHexString(id.AsSpan(id.Length - UuidLength));
        return true;
    }
}
