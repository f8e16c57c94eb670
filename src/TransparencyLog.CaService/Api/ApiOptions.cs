using System.ComponentModel.DataAnnotations;

namespace TransparencyLog.CaService.Api;

/// <summary>The <c>Api</c> configuration section: listening addresses, request bounds and rate limits.</summary>
internal sealed class ApiOptions
{
    public const string SectionName = "Api";

    /// <summary>The REST (HTTP/1.1) endpoint. Only http: TLS is terminated in front of the service.</summary>
    [Required]
    public string RestUrl { get; set; } = "http://127.0.0.1:5555";

    /// <summary>The gRPC endpoint (HTTP/2 cleartext, prior knowledge).</summary>
    [Required]
    public string GrpcUrl { get; set; } = "http://127.0.0.1:5554";

    /// <summary>Largest accepted REST request body, checked before parsing (Fulcio allows 4 MiB; a request is a
    /// token, a key and a signature, a few KiB).</summary>
    [Range(1024, 4 * 1024 * 1024)]
    public int MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Largest accepted gRPC message, checked on the length prefix before reading the message.</summary>
    [Range(1024, 4 * 1024 * 1024)]
    public int MaxGrpcMessageBytes { get; set; } = 64 * 1024;

    [Required]
    public RateLimitOptions RateLimits { get; init; } = new();
}

/// <summary>Fixed-window limits on certificate requests. Zero disables a limit.</summary>
internal sealed class RateLimitOptions
{
    /// <summary>Signing-certificate requests per client address per window.</summary>
    [Range(0, 1_000_000)]
    public int PerAddressPermits { get; set; } = 60;

    /// <summary>Certificates per verified identity (issuer and SAN) per window.</summary>
    [Range(0, 1_000_000)]
    public int PerIdentityPermits { get; set; } = 30;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}
