using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TransparencyLog.Sigstore.Verification;

/// <summary>
/// Path validation against one trusted chain (root last), at a given time, without revocation or downloads. Every
/// certificate of the built path must come from the leaf or that chain, never from a machine store. The one place
/// for chain checks: verifiers validate leaves with <see cref="TryValidate"/>; the CA and the TSA check their own
/// configured chains at start-up with <see cref="VerifyInOrder"/>, parameterised by the extended key usage.
/// </summary>
public static class CertificateChains
{
    /// <summary>id-kp-codeSigning: what the CA's leaves (and so its intermediates) must carry.</summary>
    public const string CodeSigningEku = "1.3.6.1.5.5.7.3.3";

    /// <summary>id-kp-timeStamping: what a TSA certificate must carry (alone and critical).</summary>
    public const string TimeStampingEku = "1.3.6.1.5.5.7.3.8";

    /// <summary>
    /// Builds the path from <c>chain[0]</c> to <c>chain[^1]</c> (trusted as the root) at <paramref name="now"/> for
    /// <paramref name="requiredEku"/>, without revocation (a private PKI has no endpoints to ask), and requires the
    /// built path to be exactly the configured chain in order: that is the chain the service publishes, and verifiers
    /// read its first certificate as the signer. Returns null when it holds, else why not.
    /// </summary>
    public static string? VerifyInOrder(IReadOnlyList<X509Certificate2> chain, DateTimeOffset now, string requiredEku)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chain.Count, 1);
        using var builder = new X509Chain();
        var policy = builder.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.Add(chain[^1]);
        for (var i = 1; i < chain.Count - 1; i++)
        {
            policy.ExtraStore.Add(chain[i]);
        }

        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTime = now.UtcDateTime;
        policy.VerificationTimeIgnored = false;
        policy.ApplicationPolicy.Add(new Oid(requiredEku));
        if (!builder.Build(chain[0]))
        {
            return "it does not verify from the first certificate to the last: "
                + string.Join("; ", builder.ChainStatus.Select(static s => s.StatusInformation.Trim()).Where(static s => s.Length > 0).Distinct());
        }

        var built = builder.ChainElements;
        return built.Count == chain.Count && built.Select(static e => e.Certificate.RawData).Zip(chain, static (a, b) => a.AsSpan().SequenceEqual(b.RawData)).All(static same => same)
            ? null
            : "it is not in order from the first certificate to the root, or holds unrelated certificates";
    }

    internal static bool TryValidate(
        X509Certificate2 leaf, IReadOnlyList<byte[]> trustedChain, DateTimeOffset time, string? requiredEku, out X509Certificate2? issuer, out string error)
    {
        issuer = null;
        var certificates = new List<X509Certificate2>();
        try
        {
            foreach (var der in trustedChain)
            {
                certificates.Add(X509CertificateLoader.LoadCertificate(der));
            }
        }
        catch (CryptographicException)
        {
            foreach (var c in certificates)
            {
                c.Dispose();
            }

            error = "the trusted chain holds an invalid certificate";
            return false;
        }

        using var chain = new X509Chain();
        try
        {
            var policy = chain.ChainPolicy;
            policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            policy.CustomTrustStore.Add(certificates[^1]);
            foreach (var intermediate in certificates.Take(certificates.Count - 1))
            {
                policy.ExtraStore.Add(intermediate);
            }

            policy.RevocationMode = X509RevocationMode.NoCheck;
            policy.DisableCertificateDownloads = true;
            policy.VerificationTime = time.UtcDateTime;
            policy.VerificationTimeIgnored = false;
            if (requiredEku is not null)
            {
                policy.ApplicationPolicy.Add(new Oid(requiredEku));
            }

            if (!chain.Build(leaf))
            {
                var reasons = chain.ChainStatus
                    .Where(static s => s.Status != X509ChainStatusFlags.NoError)
                    .Select(static s => s.StatusInformation.Trim())
                    .Where(static s => s.Length > 0)
                    .Distinct();
                error = string.Join("; ", reasons);
                if (error.Length == 0)
                {
                    error = "no valid path to the trusted root";
                }

                return false;
            }

            // A path through a certificate outside the trusted chain (e.g. a system intermediate) does not count.
            foreach (var element in chain.ChainElements.Skip(1))
            {
                if (!certificates.Any(c => c.RawDataMemory.Span.SequenceEqual(element.Certificate.RawDataMemory.Span)))
                {
                    error = "the path leaves the trusted chain";
                    return false;
                }
            }

            issuer = chain.ChainElements.Count > 1
                ? X509CertificateLoader.LoadCertificate(chain.ChainElements[1].Certificate.RawData)
                : null;
            error = issuer is null ? "the certificate is itself a trusted root, not an issued certificate" : string.Empty;
            return issuer is not null;
        }
        finally
        {
            // Element 0 is the caller's leaf; the rest are copies owned here.
            foreach (var element in chain.ChainElements.Skip(1))
            {
                element.Certificate.Dispose();
            }

            foreach (var c in certificates)
            {
                c.Dispose();
            }
        }
    }
}
