namespace TransparencyLog.Sigstore.Verification;

/// <summary>
/// Verification failed. <see cref="Code"/> is one of <see cref="VerificationErrorCode"/> (the codes @sigstore/verify
/// uses, so reports line up across clients); the message says what exactly failed and never holds secrets.
/// </summary>
public sealed class VerificationException : Exception
{
    public VerificationException(string code, string message)
        : base(message)
    {
        Code = code;
    }

    public VerificationException(string code, string message, Exception innerException)
        : base(message, innerException)
    {
        Code = code;
    }

    public string Code { get; }

    public override string ToString() => $"{Code}: {Message}";
}

/// <summary>Stable failure codes, in the order the verifier checks.</summary>
public static class VerificationErrorCode
{
    /// <summary>The bundle is malformed or of an unsupported shape.</summary>
    public const string Bundle = "BUNDLE_ERROR";

    /// <summary>An RFC 3161 timestamp does not verify, or too few verified timestamps.</summary>
    public const string Timestamp = "TIMESTAMP_ERROR";

    /// <summary>The signing certificate does not chain to a trusted CA at every verified time.</summary>
    public const string Certificate = "CERTIFICATE_ERROR";

    /// <summary>An embedded SCT does not verify, or too few verified SCTs.</summary>
    public const string Sct = "SCT_ERROR";

    /// <summary>The checkpoint signature or the Merkle inclusion proof does not verify.</summary>
    public const string TlogInclusionProof = "TLOG_INCLUSION_PROOF_ERROR";

    /// <summary>The signed entry timestamp (SET) does not verify.</summary>
    public const string TlogInclusionPromise = "TLOG_INCLUSION_PROMISE_ERROR";

    /// <summary>A tlog entry has neither a SET nor an inclusion proof.</summary>
    public const string TlogMissingInclusion = "TLOG_MISSING_INCLUSION_ERROR";

    /// <summary>The logged body does not describe this bundle's signature.</summary>
    public const string TlogBody = "TLOG_BODY_ERROR";

    /// <summary>Too few transparency log entries.</summary>
    public const string Tlog = "TLOG_ERROR";

    /// <summary>The artifact signature does not verify.</summary>
    public const string Signature = "SIGNATURE_ERROR";

    /// <summary>The attestation's subjects do not include the artifact.</summary>
    public const string Subject = "SUBJECT_ERROR";

    /// <summary>The signer's identity or issuer is not the one the policy requires.</summary>
    public const string UntrustedSigner = "UNTRUSTED_SIGNER_ERROR";

    /// <summary>The trust material or the policy cannot be used (no matching key, bad regex, key-based bundle without a key).</summary>
    public const string TrustMaterial = "TRUST_MATERIAL_ERROR";
}
