using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace TransparencyLog.CaService.Issuance;

/// <summary>
/// Development CA: a P-256 root (10 years) and a P-256 intermediate (pathlen 0, EKU codeSigning) generated at
/// start-up. With a state directory the pair is written there on first start and reused afterwards, so clients'
/// trusted roots stay valid across restarts. The root key is discarded: nothing but the intermediate ever signs.
/// </summary>
internal static class EphemeralCaBackend
{
    private const string ChainFile = "ca-chain.pem";
    private const string KeyFile = "ca-key.pem";
    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(3650);

    public static CaSigner Create(IssuanceOptions options, DateTimeOffset now)
    {
        var directory = options.Development.StateDirectory;
        if (!string.IsNullOrWhiteSpace(directory)
            && File.Exists(Path.Combine(directory, ChainFile))
            && File.Exists(Path.Combine(directory, KeyFile)))
        {
            return Load(directory, now);
        }

        var (key, chain) = Generate(now);
        if (!string.IsNullOrWhiteSpace(directory))
        {
            Save(directory, key, chain);
        }

        CaChainValidator.Validate(chain, key, now);
        return CaSigner.InProcess(key, chain);
    }

    internal static (ECDsa Key, List<X509Certificate2> Chain) Generate(DateTimeOffset now)
    {
        // Backdated a little so a client whose clock runs slightly behind still sees a valid chain.
        var notBefore = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero)
            .AddMinutes(-5);
        var notAfter = notBefore + Lifetime;

        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootName = new X500DistinguishedName("CN=TransparencyLog Development Root, O=TransparencyLog");
        var rootRequest = new CertificateRequest(rootName, rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 1, true));
        rootRequest.CertificateExtensions.Add(
            new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var rootSki = new X509SubjectKeyIdentifierExtension(rootRequest.PublicKey, false);
        rootRequest.CertificateExtensions.Add(rootSki);
        var rootGenerator = X509SignatureGenerator.CreateForECDsa(rootKey);
        var root = rootRequest.Create(rootName, rootGenerator, notBefore, notAfter, RandomSerial());

        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var name = new X500DistinguishedName("CN=TransparencyLog Development Intermediate, O=TransparencyLog");
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(
            new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(TransparencyLog.Sigstore.Verification.CertificateChains.CodeSigningEku)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromSubjectKeyIdentifier(rootSki));
        var intermediate = request.Create(rootName, rootGenerator, notBefore, notAfter, RandomSerial());
        return (key, [intermediate, root]);
    }

    private static CaSigner Load(string directory, DateTimeOffset now)
    {
        var chain = FileCaBackend.ReadChain(Path.Combine(directory, ChainFile));
        var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(Path.Combine(directory, KeyFile)));
        CaChainValidator.Validate(chain, key, now);
        return CaSigner.InProcess(key, chain);
    }

    private static void Save(string directory, ECDsa key, List<X509Certificate2> chain)
    {
        Directory.CreateDirectory(directory);
        var pem = new StringBuilder();
        foreach (var certificate in chain)
        {
            pem.Append(PemEncoding.WriteString("CERTIFICATE", certificate.RawData)).Append('\n');
        }

        File.WriteAllText(Path.Combine(directory, ChainFile), pem.ToString());
        var keyPath = Path.Combine(directory, KeyFile);
        var fileOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(keyPath, Encoding.ASCII, fileOptions);
        writer.Write(PemEncoding.WriteString("PRIVATE KEY", key.ExportPkcs8PrivateKey()));
        writer.Write('\n');
    }

    private static byte[] RandomSerial()
    {
        // 160 bits, positive and minimally encoded (top bit clear, next bit set).
        var serial = RandomNumberGenerator.GetBytes(20);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        return serial;
    }
}
