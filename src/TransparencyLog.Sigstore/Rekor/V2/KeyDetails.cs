using System.Security.Cryptography;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Sigstore.Rekor.V2;

/// <summary>
/// One allowed <c>dev.sigstore.common.v1.PublicKeyDetails</c> value: the key it requires and the digest it signs.
/// </summary>
/// <param name="Name">The enum name, as protobuf-JSON writes it and as the stored body keeps it.</param>
/// <param name="Number">The enum number (protobuf-JSON also accepts enums as numbers).</param>
/// <param name="AlgorithmOid">SubjectPublicKeyInfo algorithm the key must have.</param>
/// <param name="CurveOid">For ECDSA, the named curve the key must be on.</param>
/// <param name="RsaBits">For RSA, the exact modulus size.</param>
/// <param name="Hash">The digest a hashedrekord carries and the hash ECDSA/RSA sign with.</param>
/// <param name="HashName">The <c>HashAlgorithm</c> enum name stored in <c>data.algorithm</c>.</param>
internal sealed record KeyDetails(
    string Name, int Number, string AlgorithmOid, string? CurveOid, int RsaBits, HashAlgorithmName Hash, string HashName)
{
    public const string PureEd25519 = "PKIX_ED25519";

    /// <summary>
    /// rekor-tiles' default client signing algorithms (<c>internal/algorithmregistry</c>). Pure Ed25519 is absent:
    /// it cannot sign a precomputed digest, so a hashedrekord with it could never be checked.
    /// </summary>
    public static readonly IReadOnlyList<KeyDetails> Allowed =
    [
        new("PKIX_RSA_PKCS1V15_2048_SHA256", 9, Oids.Rsa, null, 2048, HashAlgorithmName.SHA256, "SHA2_256"),
        new("PKIX_RSA_PKCS1V15_3072_SHA256", 10, Oids.Rsa, null, 3072, HashAlgorithmName.SHA256, "SHA2_256"),
        new("PKIX_RSA_PKCS1V15_4096_SHA256", 11, Oids.Rsa, null, 4096, HashAlgorithmName.SHA256, "SHA2_256"),
        new("PKIX_ECDSA_P256_SHA_256", 5, Oids.EcPublicKey, Oids.P256, 0, HashAlgorithmName.SHA256, "SHA2_256"),
        new("PKIX_ECDSA_P384_SHA_384", 12, Oids.EcPublicKey, Oids.P384, 0, HashAlgorithmName.SHA384, "SHA2_384"),
        new("PKIX_ECDSA_P521_SHA_512", 13, Oids.EcPublicKey, Oids.P521, 0, HashAlgorithmName.SHA512, "SHA2_512"),
        new("PKIX_ED25519_PH", 8, Oids.Ed25519, null, 0, HashAlgorithmName.SHA512, "SHA2_512"),
    ];

    public static string AllowedNames => string.Join(", ", Allowed.Select(static d => d.Name));

    /// <summary>Bytes of the digest this algorithm signs (and a hashedrekord must carry).</summary>
    public int DigestSize => Hash == HashAlgorithmName.SHA512 ? 64 : Hash == HashAlgorithmName.SHA384 ? 48 : 32;

    public static KeyDetails? Find(string name) => Allowed.FirstOrDefault(d => d.Name == name);

    public static KeyDetails? Find(int number) => Allowed.FirstOrDefault(d => d.Number == number);
}
