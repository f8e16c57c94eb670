using System.ComponentModel.DataAnnotations;

namespace TransparencyLog.DevIssuer;

/// <summary>The <c>DevIssuer</c> configuration section.</summary>
internal sealed class DevIssuerOptions
{
    public const string SectionName = "DevIssuer";

    /// <summary>Where to listen; also the issuer URL (<c>iss</c>). Must be a loopback address. Port 0 picks one.</summary>
    [Required]
    public string Url { get; set; } = "http://127.0.0.1:5556";

    /// <summary>When set, the signing key is kept in <c>dev-issuer-key.pem</c> here and survives restarts.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>
    /// When set, the issuer's entry for a CA (<c>{"issuers": [...]}</c>, an email issuer at <see cref="Url"/>) is
    /// written there as <c>dev-issuer.json</c> once it listens, and removed when it stops: point the CA's
    /// <c>Identity:IssuersDirectory</c> at the same directory and the CA trusts this issuer while it runs.
    /// </summary>
    public string? CaIssuersDirectory { get; set; }

    [Range(1, 86_400)]
    public int DefaultTtlSeconds { get; set; } = 600;

    [Range(1, 86_400)]
    public int MaxTtlSeconds { get; set; } = 3600;
}
