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
            key = Pkcs11Uri.IsPkcs11(keyPath) ? OpenToken(keyPath) : new SoftwareSigner(ReadKey(keyPath, chain[0], password, passwordConfigured));
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

    private static AsymmetricAlgorithm ReadKey(string path, X509Certificate2 leaf, ReadOnlySpan<char> password, bool passwordConfigured)
    {
        var pem = ReadText(path, "private key");
        if (!PemEncoding.TryFind(pem, out var fields))
        {
            throw Fail($"the private key file '{path}' holds no PEM block");
        }

        var label = pem.AsSpan()[fields.Label].ToString();
        var encrypted = label == "ENCRYPTED PRIVATE KEY";
        if (label is not ("PRIVATE KEY" or "EC PRIVATE KEY" or "RSA PRIVATE KEY") && !encrypted)
        {
            throw Fail($"the private key file '{path}' holds a '{label}' PEM block, not a private key");
        }

        if (encrypted && !passwordConfigured)
        {
            throw Fail("the TSA private key is encrypted but no password is configured (PrivateKeyPasswordFile or PrivateKeyPasswordEnvironmentVariable)");
        }

        AsymmetricAlgorithm key;
        using (var ecdsa = leaf.GetECDsaPublicKey())
        using (var rsa = ecdsa is null ? leaf.GetRSAPublicKey() : null)
        {
            key = ecdsa is not null ? ECDsa.Create() : rsa is not null ? RSA.Create() : throw Fail("the TSA certificate's key must be ECDSA or RSA");
        }

        try
        {
            if (encrypted)
            {
                key.ImportFromEncryptedPem(pem, password);
            }
            else
            {
                key.ImportFromPem(pem);
            }

            return key;
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            key.Dispose();
            throw encrypted
                ? Fail("the TSA private key cannot be decrypted: wrong password, or not a key of the TSA certificate's algorithm")
                : Fail("the TSA private key cannot be read as a key of the TSA certificate's algorithm");
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
