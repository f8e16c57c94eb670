namespace TransparencyLog.Sigstore.Keys;

internal static class Oids
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
    public const string HmacWithSha1 = "1.2.840.113549.2.7";
    public const string HmacWithSha256 = "1.2.840.113549.2.9";
    public const string HmacWithSha384 = "1.2.840.113549.2.10";
    public const string HmacWithSha512 = "1.2.840.113549.2.11";
    public const string Aes128Cbc = "2.16.840.1.101.3.4.1.2";
    public const string Aes192Cbc = "2.16.840.1.101.3.4.1.22";
    public const string Aes256Cbc = "2.16.840.1.101.3.4.1.42";
}
