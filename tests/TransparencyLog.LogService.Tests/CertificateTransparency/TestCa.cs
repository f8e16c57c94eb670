using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.Sigstore.CertificateTransparency;

namespace TransparencyLog.LogService.Tests.CertificateTransparency;

/// <summary>A root and an intermediate CA that issue leaves and precertificates, as a Fulcio-like CA would.</summary>
internal sealed class TestCa : IDisposable
{
    private readonly ECDsa _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public TestCa(string name)
    {
        var now = DateTimeOffset.UtcNow;
        var rootRequest = new CertificateRequest($"CN={name} root, O=test", _rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var selfSigned = rootRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(10));
        // Kept without its key, so issuing always goes through CopyWithPrivateKey like the intermediate.
        Root = X509CertificateLoader.LoadCertificate(selfSigned.RawData);

        Intermediate = IssueCa($"CN={name} intermediate, O=test", _intermediateKey, Root);
    }

    public X509Certificate2 Root { get; }

    public X509Certificate2 Intermediate { get; }

    public byte[] IntermediateKeyHash => SHA256.HashData(Intermediate.PublicKey.ExportSubjectPublicKeyInfo());

    public string RootPem => Root.ExportCertificatePem() + "\n";

    /// <summary>A code-signing leaf from the intermediate; with <paramref name="poison"/> a precertificate.</summary>
    public byte[] IssueLeaf(bool poison, X509Certificate2? issuer = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var san = new SubjectAlternativeNameBuilder();
        san.AddEmailAddress($"{Guid.NewGuid():N}@example.com");
        request.CertificateExtensions.Add(san.Build(critical: true));
        if (poison)
        {
            request.CertificateExtensions.Add(new X509Extension(Precertificate.PoisonOid, [0x05, 0x00], critical: true));
        }

        var now = DateTimeOffset.UtcNow;
        using var issuerWithKey = (issuer ?? Intermediate).CopyWithPrivateKey(_intermediateKey);
        using var leaf = request.Create(issuerWithKey, now.AddSeconds(-1), now.AddMinutes(10), RandomNumberGenerator.GetBytes(16));
        return leaf.RawData;
    }

    /// <summary>A CA certificate with this intermediate's name but another key: leaves it appears to issue do not verify.</summary>
    public X509Certificate2 ImpostorIntermediate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return IssueCa(Intermediate.Subject, key, Root);
    }

    /// <summary>
    /// A certificate with this intermediate's name whose basicConstraints value is not DER (a truncated BOOLEAN):
    /// it loads, and throws only when the extension is decoded.
    /// </summary>
    public X509Certificate2 IntermediateWithMalformedBasicConstraints()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(Intermediate.Subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509Extension("2.5.29.19", [0x30, 0x03, 0x01, 0x01], critical: true));
        var now = DateTimeOffset.UtcNow;
        using var rootWithKey = Root.CopyWithPrivateKey(_rootKey);
        return request.Create(rootWithKey, now.AddDays(-1), now.AddYears(5), RandomNumberGenerator.GetBytes(16));
    }

    public IReadOnlyList<byte[]> Chain(byte[] leaf) => [leaf, Intermediate.RawData, Root.RawData];

    public void Dispose()
    {
        Root.Dispose();
        Intermediate.Dispose();
        _rootKey.Dispose();
        _intermediateKey.Dispose();
    }

    private X509Certificate2 IssueCa(string subject, ECDsa key, X509Certificate2 root)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        var now = DateTimeOffset.UtcNow;
        using var rootWithKey = root.CopyWithPrivateKey(_rootKey);
        return request.Create(rootWithKey, now.AddDays(-1), now.AddYears(5), RandomNumberGenerator.GetBytes(16));
    }
}
