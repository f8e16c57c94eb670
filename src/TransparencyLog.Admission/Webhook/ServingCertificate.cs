using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TransparencyLog.Admission.Webhook;

/// <summary>
/// The serving certificate and key from PEM files (a mounted kubernetes.io/tls Secret, or what run.sh generated). They
/// are loaded once and again only when either file's write time changes, so a rotated Secret takes effect at the next
/// handshake while every handshake shares one certificate context: no PEM parsing, key import or chain building per
/// connection, and the TLS library can resume sessions.
/// </summary>
internal sealed class ServingCertificate(string certificatePath, string keyPath, ILogger<ServingCertificate> logger)
{
    private readonly Lock _lock = new();
    private Loaded? _loaded;

    /// <summary>The context for the next handshake: the files as last loaded, reloaded first when they changed.</summary>
    /// <exception cref="CryptographicException">The files do not hold a certificate and its key, and none was loaded before.</exception>
    public SslStreamCertificateContext Current()
    {
        var certificateWritten = File.GetLastWriteTimeUtc(certificatePath);
        var keyWritten = File.GetLastWriteTimeUtc(keyPath);
        var loaded = Volatile.Read(ref _loaded);
        if (loaded is not null && loaded.CertificateWritten == certificateWritten && loaded.KeyWritten == keyWritten)
        {
            return loaded.Context;
        }

        lock (_lock)
        {
            loaded = _loaded;
            if (loaded is null || loaded.CertificateWritten != certificateWritten || loaded.KeyWritten != keyWritten)
            {
                loaded = Reload(loaded, certificateWritten, keyWritten);
                Volatile.Write(ref _loaded, loaded);
            }

            return loaded.Context;
        }
    }

    /// <summary>
    /// A pair that does not load (a half-written file, a key of another certificate) keeps the previous one in
    /// force, with the new write times so it is not re-read on every handshake; the next change is tried again.
    /// </summary>
    private Loaded Reload(Loaded? previous, DateTime certificateWritten, DateTime keyWritten)
    {
        try
        {
            var context = Load(certificatePath, keyPath);
            if (previous is not null)
            {
                Log.ServingCertificateReloaded(logger, certificatePath, context.TargetCertificate.NotAfter.ToUniversalTime());
            }

            return new Loaded(certificateWritten, keyWritten, context);
        }
        catch (Exception ex) when (previous is not null && ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            Log.ServingCertificateRefused(logger, certificatePath, keyPath, ex.GetType().Name);
            return previous with { CertificateWritten = certificateWritten, KeyWritten = keyWritten };
        }
    }

    /// <summary>The leaf with its key, and the rest of the PEM chain (intermediates) sent with it.</summary>
    private static SslStreamCertificateContext Load(string certificatePath, string keyPath)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        // Re-imported so SChannel/OpenSSL get a key they can use for the handshake on every platform.
        var leaf = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        var chain = new X509Certificate2Collection();
        chain.ImportFromPemFile(certificatePath);
        var intermediates = new X509Certificate2Collection();
        foreach (var certificate in chain)
        {
            if (certificate.Thumbprint != leaf.Thumbprint)
            {
                intermediates.Add(certificate);
            }
        }

        return SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
    }

    private sealed record Loaded(DateTime CertificateWritten, DateTime KeyWritten, SslStreamCertificateContext Context);
}
