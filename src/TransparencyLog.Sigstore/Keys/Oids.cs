namespace TransparencyLog.Sigstore.Keys;

/// <summary>The key-type and curve OIDs of SubjectPublicKeyInfo (signature-algorithm OIDs: <see cref="SignatureAlgorithms"/>).</summary>
public static class Oids
{
    public const string EcPublicKey = "1.2.840.10045.2.1";
    public const string P256 = "1.2.840.10045.3.1.7";
    public const string P384 = "1.3.132.0.34";
    public const string P521 = "1.3.132.0.35";
    public const string Ed25519 = "1.3.101.112";
    public const string Rsa = "1.2.840.113549.1.1.1";
    public const string RsaPss = "1.2.840.113549.1.1.10";

    public const string Pbes2 = "1.2.840.113549.1.5.13";
    public const string Pbkdf2 = "1.2.840.113549.1.5.12";
}
