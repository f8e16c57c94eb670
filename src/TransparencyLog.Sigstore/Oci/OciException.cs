namespace TransparencyLog.Sigstore.Oci;

/// <summary>What kind of failure an <see cref="OciException"/> reports; the CLI maps each to its exit code (cosign's numbers).</summary>
public enum OciFailure
{
    /// <summary>A registry, network or format error: the operation could not complete.</summary>
    Error,

    /// <summary>The caller's input is wrong: an invalid reference, an unknown predicate type.</summary>
    Usage,

    /// <summary>The image, tag or digest does not exist in the registry.</summary>
    ImageNotFound,

    /// <summary>The image has no signatures (or attestations) at all.</summary>
    NoSignatures,

    /// <summary>The image has signatures, but none verified against the policy.</summary>
    NoMatchingSignature,
}

/// <summary>An expected failure of registry access or image verification, with a stable machine-readable code.</summary>
public sealed class OciException(OciFailure failure, string message, string? code = null) : Exception(message)
{
    public OciFailure Failure { get; } = failure;

    /// <summary>A stable code such as <c>IMAGE_NOT_FOUND</c>, <c>REGISTRY_UNREACHABLE</c> or a verification code.</summary>
    public string? Code { get; } = code;
}
