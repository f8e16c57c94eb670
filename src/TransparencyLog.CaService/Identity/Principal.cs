namespace TransparencyLog.CaService.Identity;

/// <summary>The kind of the one subject alternative name a leaf certificate carries.</summary>
internal enum SanKind
{
    /// <summary>rfc822Name.</summary>
    Email,

    /// <summary>uniformResourceIdentifier.</summary>
    Uri,

    /// <summary>OtherName 1.3.6.1.4.1.57264.1.7 holding <c>user!domain</c>.</summary>
    Username,
}

/// <summary>The subject alternative name of a leaf certificate.</summary>
internal sealed record SubjectAlternativeName(SanKind Kind, string Value);

/// <summary>
/// A verified identity, ready to be written into a certificate. Built only from a token whose signature, issuer,
/// audience, lifetime and type-specific claims have been checked.
/// </summary>
/// <param name="Issuer">The token issuer, written to 1.3.6.1.4.1.57264.1.1 and 1.8.</param>
/// <param name="San">The single subject alternative name.</param>
/// <param name="ChallengeCandidates">
/// The strings a proof of possession may sign (the email claim and the subject, as present): sigstore clients sign
/// the email when the token has one and the subject otherwise, and older clients always the subject.
/// </param>
/// <param name="Extensions">
/// Fulcio extension values keyed by dotted OID (for example <c>1.3.6.1.4.1.57264.1.9</c>); only non-empty values.
/// The issuer extensions (1.1, 1.8) and the token subject (1.24) are included here too.
/// </param>
internal sealed record Principal(
    string Issuer,
    SubjectAlternativeName San,
    IReadOnlyList<string> ChallengeCandidates,
    IReadOnlyDictionary<string, string> Extensions);
