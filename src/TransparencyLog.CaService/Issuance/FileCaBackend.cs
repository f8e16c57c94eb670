using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Keys.Pkcs11;

namespace TransparencyLog.CaService.Issuance;

/// <summary>
/// Loads the CA from disk: a PEM chain (issuing CA first … root) and the issuing CA's encrypted PKCS#8 key. The
/// password is read once from a file or an environment variable and never logged.
/// </summary>
internal static class FileCaBackend
{
    public static CaSigner Load(IssuanceOptions options, DateTimeOffset now)
    {
        var chain = ReadChain(options.ChainPath ?? throw Fail("Issuance:ChainPath is not set."));
        if (options.PrivateKeyPath is { } uri && Pkcs11Uri.IsPkcs11(uri))
        {
            return LoadPkcs11(uri, chain, now);
        }

        var password = ReadPassword(options);
        var keyPem = ReadFile(options.PrivateKeyPath ?? throw Fail("Issuance:PrivateKeyPath is not set."), "private key");
        var key = ImportEncryptedKey(keyPem, password);
        try
        {
            CaChainValidator.Validate(chain, key, now);
            return new CaSigner(key, chain);
        }
        catch
        {
            key.Dispose();
            foreach (var certificate in chain)
            {
                certificate.Dispose();
            }

            throw;
        }
    }

    /// <summary>The issuing CA's key in a PKCS#11 token (<c>Issuance:PrivateKeyPath</c> is a <c>pkcs11:</c> URI).</summary>
    private static CaSigner LoadPkcs11(string uri, List<X509Certificate2> chain, DateTimeOffset now)
    {
        ISigner? signer = null;
        try
        {
            signer = Pkcs11Signer.Open(uri);
            CaChainValidator.Validate(chain, signer, now);
            return new CaSigner(signer, chain);
        }
        catch (Exception e) when (e is KeyLoadException or InvalidOperationException)
        {
            signer?.Dispose();
            foreach (var certificate in chain)
            {
                certificate.Dispose();
            }

            throw e is KeyLoadException ? Fail(e.Message) : e;
        }
    }

    /// <summary>Every <c>CERTIFICATE</c> block of a PEM file, in file order.</summary>
    internal static List<X509Certificate2> ReadChain(string path)
    {
        var text = ReadFile(path, "certificate chain");
        var chain = PemCertificates.Read(text);
        return chain.Count > 0 ? chain : throw Fail($"{path} holds no PEM CERTIFICATE.");
    }

    /// <summary>The issuing CA's key: encrypted PKCS#8 only, so a CA key never rests on disk in the clear.</summary>
    internal static SoftwareSigner ImportEncryptedKey(string pem, string password)
    {
        if (!PrivateKeyPem.IsEncrypted(pem))
        {
            throw Fail("the private key file must hold a PEM ENCRYPTED PRIVATE KEY (encrypted PKCS#8).");
        }

        try
        {
            return PrivateKeyPem.Load(pem, password);
        }
        catch (KeyLoadException e)
        {
            // KeyLoadException messages never hold key material or the password.
            throw Fail("the private key could not be decrypted or used: " + e.Message + ".");
        }
    }

    private static string ReadPassword(IssuanceOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.PrivateKeyPasswordFile))
        {
            // Editors and `echo` add a final line break that is not part of the password.
            return ReadFile(options.PrivateKeyPasswordFile, "private key password").TrimEnd('\r', '\n');
        }

        var variable = options.PrivateKeyPasswordEnvironmentVariable;
        var password = string.IsNullOrWhiteSpace(variable) ? null : Environment.GetEnvironmentVariable(variable);
        return !string.IsNullOrEmpty(password)
            ? password
            : throw Fail("no private key password: set Issuance:PrivateKeyPasswordFile or the variable named by Issuance:PrivateKeyPasswordEnvironmentVariable.");
    }

    private static string ReadFile(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"Issuance CA configuration: cannot read the {what} file {path}.", e);
        }
    }

    private static InvalidOperationException Fail(string reason) => new($"Issuance CA configuration: {reason}");
}
