using Microsoft.Extensions.Options;

namespace TransparencyLog.CaService.Issuance;

/// <summary>Where the CA key lives.</summary>
internal enum CaBackend
{
    /// <summary>A PEM chain and an encrypted PKCS#8 key on disk.</summary>
    File,

    /// <summary>A root and intermediate generated at start-up; for development only.</summary>
    Ephemeral,
}

/// <summary>How the SCT reaches the client.</summary>
internal enum SctMode
{
    /// <summary>Precertificate flow; the leaf carries the SCT list (what sigstore clients require).</summary>
    Embedded,

    /// <summary>The final certificate is submitted with add-chain and the SCT is returned beside it.</summary>
    Detached,
}

/// <summary>Options of certificate issuance, configuration section <c>Issuance</c>.</summary>
internal sealed record IssuanceOptions
{
    public const string SectionName = "Issuance";

    public CaBackend Backend { get; init; } = CaBackend.File;

    /// <summary>PEM file: the issuing CA certificate first, then any intermediates, then the self-signed root.</summary>
    public string? ChainPath { get; init; }

    /// <summary>PEM <c>ENCRYPTED PRIVATE KEY</c> (PKCS#8) of the issuing CA.</summary>
    public string? PrivateKeyPath { get; init; }

    /// <summary>File holding the key password (trailing line break ignored).</summary>
    public string? PrivateKeyPasswordFile { get; init; }

    /// <summary>Name of an environment variable holding the key password, used when no password file is set.</summary>
    public string? PrivateKeyPasswordEnvironmentVariable { get; init; }

    /// <summary>Base URL of the RFC 6962 CT log (for example <c>http://ctlog:6962/test</c>); empty for no CT.</summary>
    public string? CtLogUrl { get; init; }

    /// <summary>PEM <c>PUBLIC KEY</c> of the CT log; every returned SCT is verified with it.</summary>
    public string? CtLogPublicKeyPath { get; init; }

    public SctMode SctMode { get; init; } = SctMode.Embedded;

    /// <summary>Timeout of one CT log submission attempt (a healthy log answers in milliseconds).</summary>
    public TimeSpan CtLogTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Total time for submitting to the CT log, retries with backoff included, after which the CA answers 503
    /// (UNAVAILABLE) with Retry-After. Resubmitting is safe: a CT log answers a chain it holds with its first SCT.
    /// Under <see cref="SigstoreClientTimeout"/>, so a client hears the 503 and its Retry-After rather than timing out.
    /// </summary>
    public TimeSpan CtLogRetryBudget { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>How long sigstore clients (cosign, sigstore-js, sigstore-python) wait for the CA by default.</summary>
    public static readonly TimeSpan SigstoreClientTimeout = TimeSpan.FromSeconds(5);

    public DevelopmentOptions Development { get; init; } = new();
}

/// <summary>Options of the ephemeral development CA.</summary>
internal sealed record DevelopmentOptions
{
    /// <summary>If set, the generated root, intermediate and key are kept here so the trust root survives restarts.</summary>
    public string? StateDirectory { get; init; }
}

/// <summary>Cross-field checks of <see cref="IssuanceOptions"/>, run at start-up.</summary>
internal sealed class IssuanceOptionsValidator : IValidateOptions<IssuanceOptions>
{
    public ValidateOptionsResult Validate(string? name, IssuanceOptions options)
    {
        var failures = new List<string>();
        if (options.Backend == CaBackend.File)
        {
            if (string.IsNullOrWhiteSpace(options.ChainPath))
            {
                failures.Add("Issuance:ChainPath is required with the File backend.");
            }

            if (string.IsNullOrWhiteSpace(options.PrivateKeyPath))
            {
                failures.Add("Issuance:PrivateKeyPath is required with the File backend.");
            }

            // A pkcs11: URI names its PIN itself (pin-source= or x-pin-env=).
            if (string.IsNullOrWhiteSpace(options.PrivateKeyPasswordFile)
                && string.IsNullOrWhiteSpace(options.PrivateKeyPasswordEnvironmentVariable)
                && !TransparencyLog.Sigstore.Keys.Pkcs11.Pkcs11Uri.IsPkcs11(options.PrivateKeyPath))
            {
                failures.Add("Issuance:PrivateKeyPasswordFile or Issuance:PrivateKeyPasswordEnvironmentVariable is required with the File backend.");
            }
        }

        if (!string.IsNullOrWhiteSpace(options.CtLogUrl))
        {
            if (!Uri.TryCreate(options.CtLogUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                failures.Add("Issuance:CtLogUrl must be an absolute http(s) URL.");
            }

            if (string.IsNullOrWhiteSpace(options.CtLogPublicKeyPath))
            {
                failures.Add("Issuance:CtLogPublicKeyPath is required when Issuance:CtLogUrl is set.");
            }
        }

        if (options.CtLogTimeout <= TimeSpan.Zero || options.CtLogTimeout > TimeSpan.FromMinutes(1))
        {
            failures.Add("Issuance:CtLogTimeout must be positive and at most one minute.");
        }

        if (options.CtLogRetryBudget <= TimeSpan.Zero || options.CtLogRetryBudget > TimeSpan.FromMinutes(5))
        {
            failures.Add("Issuance:CtLogRetryBudget must be positive and at most five minutes.");
        }

        if (!Enum.IsDefined(options.Backend) || !Enum.IsDefined(options.SctMode))
        {
            failures.Add("Issuance:Backend or Issuance:SctMode has an unknown value.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
