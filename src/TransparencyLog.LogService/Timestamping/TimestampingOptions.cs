using System.ComponentModel.DataAnnotations;

namespace TransparencyLog.LogService.Timestamping;

/// <summary>Configuration of the RFC 3161 timestamp authority, bound from the <c>Timestamping</c> section.</summary>
public sealed record TimestampingOptions
{
    public const string SectionName = "Timestamping";

    /// <summary>The Sigstore TSA policy, used when a request names no policy.</summary>
    public const string SigstoreDefaultPolicyOid = "1.3.6.1.4.1.57264.2";

    /// <summary><c>development</c> (generated P-256 root and TSA certificate) or <c>file</c> (PEM chain; PEM key or <c>pkcs11:</c> URI).</summary>
    [Required]
    public string Backend { get; init; } = TimestampingBackends.Development;

    /// <summary>File backend: PEM certificates, TSA certificate first, root last.</summary>
    public string? CertificateChainPath { get; init; }

    /// <summary>File backend: PEM private key of the TSA certificate (PKCS#8, SEC1 or PKCS#1; PKCS#8 may be encrypted),
    /// or an RFC 7512 <c>pkcs11:</c> URI naming the key in a PKCS#11 token (its PIN from <c>pin-source=file:</c> or
    /// <c>x-pin-env=</c> in the URI).</summary>
    public string? PrivateKeyPath { get; init; }

    /// <summary>File backend: file whose content (trailing newline ignored) decrypts an encrypted private key.</summary>
    public string? PrivateKeyPasswordFile { get; init; }

    /// <summary>File backend: name of an environment variable holding the private key password.</summary>
    public string? PrivateKeyPasswordEnvironmentVariable { get; init; }

    /// <summary>Policy written into tokens whose request names none. Always accepted.</summary>
    [Required]
    public string DefaultPolicyOid { get; init; } = SigstoreDefaultPolicyOid;

    /// <summary>Further policies a request may ask for, in addition to <see cref="DefaultPolicyOid"/>.</summary>
    public IReadOnlyList<string> AcceptedPolicyOids { get; init; } = [];

    /// <summary>Largest request body accepted, checked before parsing.</summary>
    [Range(256, 1024 * 1024)]
    public int MaxRequestBytes { get; init; } = 64 * 1024;

    /// <summary>Largest JSON request body accepted (sigstore-js sends about 80 bytes).</summary>
    [Range(128, 64 * 1024)]
    public int MaxJsonRequestBytes { get; init; } = 1024;

    /// <summary>When a request asks for certificates, include intermediates and root as well as the TSA certificate.</summary>
    public bool IncludeChainInResponse { get; init; }

    public TimestampingDevelopmentOptions Development { get; init; } = new();
}

/// <summary>Options of the development backend.</summary>
public sealed record TimestampingDevelopmentOptions
{
    /// <summary>
    /// Directory where the generated chain and key are kept, so the trust root survives restarts. When unset, a new
    /// root is generated at every start.
    /// </summary>
    public string? StateDirectory { get; init; }
}

internal static class TimestampingBackends
{
    public const string Development = "development";
    public const string File = "file";
}
