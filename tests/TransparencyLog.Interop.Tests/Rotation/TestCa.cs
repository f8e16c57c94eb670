using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace TransparencyLog.Interop.Tests.Rotation;

/// <summary>
/// A CA certificate and its key, made by a test that keeps the root key (the development CA discards its own), so it
/// can issue a new intermediate under the same root and later replace the root.
/// </summary>
internal sealed class TestCa : IDisposable
{
    private const string CodeSigningEku = "1.3.6.1.5.5.7.3.3";

    private TestCa(ECDsa key, X509Certificate2 certificate)
    {
        Key = key;
        Certificate = certificate;
    }

    public ECDsa Key { get; }

    public X509Certificate2 Certificate { get; }

    public static TestCa Root(string commonName)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var name = new X500DistinguishedName($"CN={commonName}, O=TransparencyLog rotation test");
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 1, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var (notBefore, notAfter) = Window();
        return new TestCa(key, request.CreateSelfSigned(notBefore, notAfter.AddDays(30)));
    }

    /// <summary>An issuing CA under <paramref name="root"/>, as the CA service requires it (pathlen 0, codeSigning EKU, SKI and AKI).</summary>
    public static TestCa Intermediate(string commonName, TestCa root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var name = new X500DistinguishedName($"CN={commonName}, O=TransparencyLog rotation test");
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(CodeSigningEku)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(root.Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var (notBefore, notAfter) = Window();
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var issued = request.Create(root.Certificate, notBefore, notAfter, serial);
        return new TestCa(key, X509CertificateLoader.LoadCertificate(issued.RawData));
    }

    /// <summary>
    /// Puts <paramref name="issuing"/> and its <paramref name="root"/> where <c>./run.sh</c>'s development CA keeps its
    /// chain and key (<c>DATA/keys/ca</c>), which it loads at its next start; the CT log reads its accepted roots there too.
    /// </summary>
    public static void Install(string dataDirectory, TestCa issuing, TestCa root)
    {
        ArgumentNullException.ThrowIfNull(issuing);
        ArgumentNullException.ThrowIfNull(root);
        var directory = Directory.CreateDirectory(Path.Combine(dataDirectory, "keys", "ca")).FullName;
        var chain = new StringBuilder()
            .Append(PemEncoding.WriteString("CERTIFICATE", issuing.Certificate.RawData)).Append('\n')
            .Append(PemEncoding.WriteString("CERTIFICATE", root.Certificate.RawData)).Append('\n');
        File.WriteAllText(Path.Combine(directory, "ca-chain.pem"), chain.ToString());
        var keyPath = Path.Combine(directory, "ca-key.pem");
        File.WriteAllText(keyPath, PemEncoding.WriteString("PRIVATE KEY", issuing.Key.ExportPkcs8PrivateKey()) + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    public void Dispose()
    {
        Key.Dispose();
        Certificate.Dispose();
    }

    /// <summary>An hour back (clock skew) to 30 days ahead; a root gets 30 more days, so its intermediates end within it.</summary>
    private static (DateTimeOffset NotBefore, DateTimeOffset NotAfter) Window()
    {
        var now = DateTimeOffset.UtcNow;
        return (now.AddHours(-1), now.AddDays(30));
    }
}
