using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Keys.Pkcs11;

namespace TransparencyLog.LogService.Timestamping;

/// <summary>Reads (and, for the development backend, writes) a TSA chain and private key as PEM files.</summary>
internal static class TsaKeyFiles
{
    // Operator files, but still bounded: a chain or key is a few kilobytes.
    private const long MaxFileBytes = 1024 * 1024;

    /// <summary>
    /// Loads and validates a chain (TSA certificate first) and its key: a PEM file, or a <c>pkcs11:</c> URI naming a
    /// key in a PKCS#11 token (its PIN named by the URI). Throws with a clear message on any problem.
    /// </summary>
    public static TimestampSigner Load(string chainPath, string keyPath, ReadOnlySpan<char> password, bool passwordConfigured, DateTimeOffset now)
    {
        var chain = ReadChain(chainPath);
        ISigner? key = null;
        try
        {
            key = Pkcs11Uri.IsPkcs11(keyPath) ? OpenToken(keyPath) : ReadKey(keyPath, password, passwordConfigured);
            TsaCertificateValidator.Validate(chain, key, now);
            return new TimestampSigner(chain, key);
        }
        catch
        {
            key?.Dispose();
            foreach (var certificate in chain)
            {
                certificate.Dispose();
            }

            throw;
        }
    }

    private static Pkcs11Signer OpenToken(string uri)
    {
        try
        {
            return Pkcs11Signer.Open(uri);
        }
        catch (KeyLoadException e)
        {
            // KeyLoadException messages name the token and object, never the PIN.
            throw Fail("the TSA key cannot be opened in its PKCS#11 token: " + e.Message.TrimEnd('.'));
        }
    }

    public static List<X509Certificate2> ReadChain(string path)
    {
        var text = ReadText(path, "certificate chain");
        List<X509Certificate2> chain;
        try
        {
            chain = PemCertificates.Read(text, certificatesOnly: true);
        }
        catch (FormatException e)
        {
            throw Fail($"the certificate chain file '{path}' {e.Message}");
        }
        catch (CryptographicException)
        {
            throw Fail($"the certificate chain file '{path}' holds a certificate that cannot be parsed");
        }

        if (chain.Count == 0)
        {
            throw Fail($"the certificate chain file '{path}' holds no PEM certificate");
        }

        return chain;
    }

    public static void WriteChain(string path, IEnumerable<X509Certificate2> chain) =>
        File.WriteAllText(path, string.Concat(chain.Select(c => PemEncoding.WriteString("CERTIFICATE", c.RawData) + "\n")));

    /// <summary>Writes an unencrypted PKCS#8 key readable by the owner only (development state, never production keys).</summary>
    public static void WritePrivateKey(string path, AsymmetricAlgorithm key)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, options);
        writer.Write(PemEncoding.WriteString("PRIVATE KEY", key.ExportPkcs8PrivateKey()));
        writer.Write('\n');
    }

    private static SoftwareSigner ReadKey(string path, ReadOnlySpan<char> password, bool passwordConfigured)
    {
        var pem = ReadText(path, "private key");
        if (PrivateKeyPem.IsEncrypted(pem) && !passwordConfigured)
        {
            throw Fail("the TSA private key is encrypted but no password is configured (PrivateKeyPasswordFile or PrivateKeyPasswordEnvironmentVariable)");
        }

        try
        {
            return PrivateKeyPem.Load(pem, password);
        }
        catch (KeyLoadException e)
        {
            // KeyLoadException messages never hold key material or the password.
            throw Fail($"the TSA private key file '{path}' cannot be used: {e.Message.TrimEnd('.')}");
        }
    }

    private static string ReadText(string path, string what)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaxFileBytes)
            {
                throw Fail($"the {what} file '{path}' is larger than {MaxFileBytes} bytes");
            }

            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Fail($"the {what} file '{path}' cannot be read ({e.GetType().Name})");
        }
    }

    private static InvalidOperationException Fail(string message) => new($"Timestamping: {message}.");
}
