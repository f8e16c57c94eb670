using System.Security.Cryptography;

namespace TransparencyLog.LogService.Timestamping;

/// <summary>A message-imprint hash algorithm the authority accepts (the SHA-2 family of sigstore/timestamp-authority).</summary>
internal sealed class TimestampHashAlgorithm
{
    public static readonly TimestampHashAlgorithm Sha256 = new("sha256", "2.16.840.1.101.3.4.2.1", HashAlgorithmName.SHA256, 32);
    public static readonly TimestampHashAlgorithm Sha384 = new("sha384", "2.16.840.1.101.3.4.2.2", HashAlgorithmName.SHA384, 48);
    public static readonly TimestampHashAlgorithm Sha512 = new("sha512", "2.16.840.1.101.3.4.2.3", HashAlgorithmName.SHA512, 64);

    private const string Sha1Oid = "1.3.14.3.2.26";

    private TimestampHashAlgorithm(string name, string oid, HashAlgorithmName hashName, int digestSize)
    {
        Name = name;
        Oid = oid;
        HashName = hashName;
        DigestSize = digestSize;
    }

    public string Name { get; }

    public string Oid { get; }

    public HashAlgorithmName HashName { get; }

    public int DigestSize { get; }

    public byte[] Hash(ReadOnlySpan<byte> data) => CryptographicOperations.HashData(HashName, data);

    public override string ToString() => Name;

    public static TimestampHashAlgorithm FromOid(string oid) => oid switch
    {
        "2.16.840.1.101.3.4.2.1" => Sha256,
        "2.16.840.1.101.3.4.2.2" => Sha384,
        "2.16.840.1.101.3.4.2.3" => Sha512,
        Sha1Oid => throw new TimestampRequestException(TimestampRequestException.WeakHashAlgorithm),
        _ => throw new TimestampRequestException("unsupported hash algorithm"),
    };

    public static TimestampHashAlgorithm FromName(string name) => name.ToLowerInvariant() switch
    {
        "sha256" => Sha256,
        "sha384" => Sha384,
        "sha512" => Sha512,
        "sha1" => throw new TimestampRequestException(TimestampRequestException.WeakHashAlgorithm),
        _ => throw new TimestampRequestException("unsupported hash algorithm"),
    };
}
