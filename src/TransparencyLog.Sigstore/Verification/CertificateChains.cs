using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TransparencyLog.Sigstore.Verification;

/// <summary>
/// Path validation against one trusted chain (root last), at a given time, without revocation or downloads. Every
/// certificate of the built path must come from the leaf or that chain, never from a machine store.
/// </summary>
internal static class CertificateChains
{
    public static bool TryValidate(
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
