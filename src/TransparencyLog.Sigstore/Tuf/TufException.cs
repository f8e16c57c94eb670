namespace TransparencyLog.Sigstore.Tuf;

/// <summary>Stable reasons a TUF file or repository is refused; each maps to one TUF attack or rule.</summary>
public enum TufError
{
    /// <summary>Not TUF metadata of the expected shape (or a duplicate keyid, a float, ...).</summary>
    BadFormat,

    /// <summary>Fewer valid signatures than the role's threshold, or a signature that does not verify.</summary>
    Unsigned,

    /// <summary>A version that does not increase, or does not equal the referrer's entry (rollback, mix-and-match).</summary>
    BadVersion,

    /// <summary>Expired at the reference time (indefinite freeze), or expiring too soon to publish.</summary>
    Expired,

    /// <summary>A file whose length or SHA-256 differs from what the referrer lists.</summary>
    HashMismatch,

    /// <summary>A target the repository refuses by Sigstore's rules (media type, missing file, ...).</summary>
    BadTarget,

    /// <summary>The repository or file does not exist.</summary>
    NotFound,
}

/// <summary>A TUF check failed; <see cref="Error"/> is stable, the message says which rule and which file.</summary>
public sealed class TufException : Exception
{
    public TufException(TufError error, string message, Exception? inner = null)
        : base(message, inner)
    {
        Error = error;
    }

    public TufException()
        : this(TufError.BadFormat, "invalid TUF metadata")
    {
    }

    public TufException(string message)
        : this(TufError.BadFormat, message)
    {
    }

    public TufException(string message, Exception inner)
        : this(TufError.BadFormat, message, inner)
    {
    }

    public TufError Error { get; }

    /// <summary>The error as a stable snake-case code for API bodies and CLI output.</summary>
    public string Code => Error switch
    {
        TufError.BadFormat => "bad_format",
        TufError.Unsigned => "threshold_not_met",
        TufError.BadVersion => "bad_version",
        TufError.Expired => "expired",
        TufError.HashMismatch => "hash_mismatch",
        TufError.BadTarget => "bad_target",
        _ => "not_found",
    };
}
