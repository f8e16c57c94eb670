using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.LogService.Timestamping;

/// <summary>
/// The development backend: a P-256 root and a TSA certificate minted at start-up. With a state directory they are
/// written once and reused, so a trusted root handed to clients stays valid across restarts.
/// </summary>
internal static class DevelopmentTsaCertificates
{
    public const string ChainFileName = "tsa-chain.pem";
    public const string KeyFileName = "tsa-key.pem";

    public static TimestampSigner LoadOrCreate(string? stateDirectory, TimeProvider time, ILogger logger)
    {
        var now = time.GetUtcNow();
        if (string.IsNullOrWhiteSpace(stateDirectory))
        {
            var (chain, key) = Create(now);
            var signer = new SoftwareSigner(key);
            TsaCertificateValidator.Validate(chain, signer, now);
            Log.DevelopmentCertificatesGenerated(logger, "memory");
            return new TimestampSigner(chain, signer);
        }

        var chainPath = Path.Combine(stateDirectory, ChainFileName);
        var keyPath = Path.Combine(stateDirectory, KeyFileName);
        if (!File.Exists(chainPath) || !File.Exists(keyPath))
        {
            Directory.CreateDirectory(stateDirectory);
            var (chain, key) = Create(now);
            using (key)
            {
                // Key first: a chain file without its key would be unusable on the next start.
                File.Delete(keyPath);
                TsaKeyFiles.WritePrivateKey(keyPath, key);
                TsaKeyFiles.WriteChain(chainPath, chain);
            }

            foreach (var certificate in chain)
            {
                certificate.Dispose();
            }

            Log.DevelopmentCertificatesGenerated(logger, stateDirectory);
        }

        return TsaKeyFiles.Load(chainPath, keyPath, password: default, passwordConfigured: false, now);
    }

    private static (List<X509Certificate2> Chain, ECDsa Key) Create(DateTimeOffset now)
    {
        // Whole seconds, a little in the past: certificate times carry no fraction, and a clock slightly behind ours
        // must still accept the certificate.
        var notBefore = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero).AddMinutes(-5);

        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=TransparencyLog Development TSA Root, O=TransparencyLog", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        rootRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(rootRequest.PublicKey, false));
        using var root = rootRequest.CreateSelfSigned(notBefore, notBefore.AddYears(20));

        var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest("CN=TransparencyLog Development TSA, O=TransparencyLog", leafKey, HashAlgorithmName.SHA256);
        leafRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        leafRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(Oids.TimeStampingPurpose)], true));
        leafRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(leafRequest.PublicKey, false));
        leafRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root, true, false));

        // Positive and minimal: top bit clear, second bit set.
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        using var leaf = leafRequest.Create(root, notBefore, notBefore.AddYears(10), serial);

        // Public copies only: the root key is dropped here and never leaves this method.
        return ([X509CertificateLoader.LoadCertificate(leaf.RawData), X509CertificateLoader.LoadCertificate(root.RawData)], leafKey);
    }
}
