using TransparencyLog.Sigstore.Oci;

namespace TransparencyLog.Cli.Hosting;

/// <summary>Process exit codes; documented in docs/cli.md and stable for scripts.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The command could not complete: a service or network error, or an unreadable key, trust root or state file.</summary>
    public const int Error = 1;

    /// <summary>The command line is wrong: unknown or missing options, conflicting flags, a missing input file.</summary>
    public const int Usage = 2;

    /// <summary>A bundle did not verify (the reason and its code are printed).</summary>
    public const int VerificationFailed = 3;

    /// <summary>The log misbehaved: inconsistent or rolled-back tree, or a checkpoint whose signature does not verify.</summary>
    public const int LogInconsistent = 4;

    /// <summary>An image has no signatures (or attestations) at all; cosign's code.</summary>
    public const int NoSignatures = 10;

    /// <summary>The image, tag or digest does not exist in the registry; cosign's code.</summary>
    public const int ImageNotFound = 11;

    /// <summary>An image has signatures, but none verified against the policy (each reason is printed); cosign's code.</summary>
    public const int NoMatchingSignature = 12;

    /// <summary>The exit code of a registry or image-verification failure from the shared library.</summary>
    public static int For(OciFailure failure) => failure switch
    {
        OciFailure.Usage => Usage,
        OciFailure.ImageNotFound => ImageNotFound,
        OciFailure.NoSignatures => NoSignatures,
        OciFailure.NoMatchingSignature => NoMatchingSignature,
        _ => Error,
    };
}

/// <summary>An expected failure with its exit code; the message is printed as is.</summary>
internal sealed class CliException(int exitCode, string message, string? code = null) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>A stable machine-readable code (a verification code, or e.g. LOG_INCONSISTENT).</summary>
    public string? Code { get; } = code;
}
