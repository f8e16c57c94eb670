using System.ComponentModel.DataAnnotations;

namespace TransparencyLog.LogService.CertificateTransparency;

/// <summary>
/// What the RFC 6962 log accepts. Section <c>CertificateTransparency</c>; the log's name and key are in
/// <c>Logs:Ct</c> like every other log's.
/// </summary>
internal sealed class CertificateTransparencyOptions : IValidatableObject
{
    public const string Section = "CertificateTransparency";

    /// <summary>
    /// PEM file of the accepted root certificates (the CA's roots). Re-read when it changes; a missing file means no
    /// roots yet, so a CA that writes its development root at its first start can be pointed at here.
    /// </summary>
    [Required]
    public string RootsPath { get; set; } = "";

    /// <summary>Most certificates in one submitted chain, the submitted certificate included.</summary>
    [Range(1, 16)]
    public int MaxChainLength { get; set; } = 10;

    /// <summary>Largest DER certificate accepted; a leaf's Merkle leaf must still fit the 65,535-byte entry limit.</summary>
    [Range(256, 65_000)]
    public int MaxCertificateBytes { get; set; } = 32 * 1024;

    /// <summary>Most entries one <c>get-entries</c> call returns; clients page with further calls.</summary>
    [Range(1, 1000)]
    public int MaxGetEntries { get; set; } = 256;

    /// <summary>
    /// The request body limit, derived so a chain of the largest certificates in base64 JSON always fits:
    /// nothing is read beyond it.
    /// </summary>
    public int MaxRequestBytes => (MaxChainLength * ((MaxCertificateBytes + 2) / 3 * 4 + 8)) + 1024;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // The chain is stored as the entry's extra_data, whose column holds at most 1 MiB.
        if ((long)MaxChainLength * (MaxCertificateBytes + 3) + 6 > 1024 * 1024)
        {
            yield return new ValidationResult(
                "MaxChainLength × MaxCertificateBytes must stay under 1 MiB (the stored chain's limit)",
                [nameof(MaxChainLength), nameof(MaxCertificateBytes)]);
        }
    }
}
