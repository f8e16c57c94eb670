using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TransparencyLog.Sigstore.Verification;

/// <summary>
/// Path validation against one trusted chain (root last), at a given time, without revocation or downloads. Every
/// certificate of the built path must come from the leaf or that chain, never from a machine store. The one place
/// for chain checks: verifiers validate leaves with <see cref="TryValidate"/>; the CA and the TSA check their own
/// configured chains at start-up with <see cref="VerifyInOrder"/>, parameterised by the extended key usage.
/// Verification (<see cref="TryValidate"/>) never builds an <see cref="X509Chain"/>: <see cref="CertificatePath"/>
/// checks the path without the machine's trust store, which the platform chain builder loads on every build.
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

    /// <summary>
    /// Validates <paramref name="leaf"/> under <paramref name="trustedChain"/> (DER, root last) at <paramref name="time"/>,
    /// requiring <paramref name="requiredEku"/> when given; on success <paramref name="issuer"/> is a copy of the
    /// leaf's issuer, which the caller disposes.
    /// </summary>
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

        if (certificates.Count == 0)
        {
            error = "the trusted chain is empty";
            return false;
        }

        try
        {
            var path = CertificatePath.Build(leaf, certificates, time, requiredEku, out error);
            if (path is null)
            {
                return false;
            }

            issuer = X509CertificateLoader.LoadCertificate(path[1].RawDataMemory.Span);
            return true;
        }
        catch (CryptographicException)
        {
            error = "a certificate of the path has a malformed extension";
            return false;
        }
        finally
        {
            foreach (var c in certificates)
            {
                c.Dispose();
            }
        }
    }
}
