using System.Text.RegularExpressions;

namespace TransparencyLog.Sigstore.Verification;

/// <summary>
/// Who must have signed: the certificate's SAN (URI, else email) and OIDC issuer, each either exactly equal to a
/// string or fully matching a regular expression. Expressions are anchored here (<c>^(?:…)$</c>), unlike sigstore-js
/// and cosign, so <c>alice@example\.com</c> cannot match <c>alice@example.com.evil</c>.
/// </summary>
public sealed class CertificateIdentityPolicy
{
    private static readonly TimeSpan s_matchTimeout = TimeSpan.FromSeconds(1);

    private CertificateIdentityPolicy(string? subject, Regex? subjectPattern, string? issuer, Regex? issuerPattern)
    {
        Subject = subject;
        SubjectPattern = subjectPattern;
        Issuer = issuer;
        IssuerPattern = issuerPattern;
    }

    public string? Subject { get; }

    public Regex? SubjectPattern { get; }

    public string? Issuer { get; }

    public Regex? IssuerPattern { get; }

    /// <summary>Exactly one of each pair is required: an identity policy that accepts anyone is a mistake, not a default.</summary>
    /// <exception cref="ArgumentException">A pair has neither or both, or a pattern is not a valid regular expression.</exception>
    public static CertificateIdentityPolicy Create(string? subject, string? subjectRegex, string? issuer, string? issuerRegex)
    {
        if ((subject is null) == (subjectRegex is null))
        {
            throw new ArgumentException("give exactly one of a certificate identity or a certificate identity regular expression");
        }

        if ((issuer is null) == (issuerRegex is null))
        {
            throw new ArgumentException("give exactly one of an OIDC issuer or an OIDC issuer regular expression");
        }

        return new CertificateIdentityPolicy(subject, Anchored(subjectRegex, "identity"), issuer, Anchored(issuerRegex, "issuer"));
    }

    private static Regex? Anchored(string? pattern, string what)
    {
        if (pattern is null)
        {
            return null;
        }

        try
        {
            // \A and \z, not ^ and $: in .NET '$' also matches before a final newline, so "alice@example\.com" would
            // accept the identity "alice@example.com\n".
            return new Regex($"\\A(?:{pattern})\\z", RegexOptions.CultureInvariant, s_matchTimeout);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"the {what} regular expression is invalid: {ex.Message}", ex);
        }
    }

    internal void Check(string? subject, string? issuer)
    {
        if (subject is null)
        {
            throw new VerificationException(VerificationErrorCode.UntrustedSigner, "the certificate has no URI or email subject alternative name");
        }

        if (!Matches(subject, Subject, SubjectPattern))
        {
            throw new VerificationException(
                VerificationErrorCode.UntrustedSigner,
                $"certificate identity \"{subject}\" does not match the expected {Describe(Subject, SubjectPattern)}");
        }

        if (issuer is null)
        {
            throw new VerificationException(VerificationErrorCode.UntrustedSigner, "the certificate has no OIDC issuer extension (1.3.6.1.4.1.57264.1.8 or .1.1)");
        }

        if (!Matches(issuer, Issuer, IssuerPattern))
        {
            throw new VerificationException(
                VerificationErrorCode.UntrustedSigner,
                $"certificate OIDC issuer \"{issuer}\" does not match the expected {Describe(Issuer, IssuerPattern)}");
        }
    }

    private static bool Matches(string value, string? exact, Regex? pattern)
    {
        if (exact is not null)
        {
            return string.Equals(value, exact, StringComparison.Ordinal);
        }

        try
        {
            return pattern is not null && pattern.IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }

    private static string Describe(string? exact, Regex? pattern) =>
        exact is not null ? $"\"{exact}\"" : $"pattern {pattern}";
}
