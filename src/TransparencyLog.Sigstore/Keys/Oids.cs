namespace TransparencyLog.Sigstore.Keys;

/// <summary>
/// The key-type and curve OIDs of SubjectPublicKeyInfo and the X.509 extensions every certificate reader and writer
/// here names (signature-algorithm OIDs: <see cref="SignatureAlgorithms"/>).
/// </summary>
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

    /// <summary>RSASSA-PSS's mask generation function (RFC 8017 appendix B.2.1).</summary>
    public const string Mgf1 = "1.2.840.113549.1.1.8";

    // X.509 certificate extensions (RFC 5280 §4.2.1).
    public const string BasicConstraints = "2.5.29.19";
    public const string KeyUsage = "2.5.29.15";
    public const string ExtendedKeyUsage = "2.5.29.37";
    public const string AnyExtendedKeyUsage = "2.5.29.37.0";
    public const string SubjectAltName = "2.5.29.17";
}
