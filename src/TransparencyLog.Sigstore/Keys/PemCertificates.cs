using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TransparencyLog.Sigstore.Keys;

/// <summary>
/// The one reader of certificates from PEM text (a CA's or TSA's chain file, a CT log's accepted roots): every
/// <c>CERTIFICATE</c> block in file order, nothing else.
/// </summary>
public static class PemCertificates
{
    /// <summary>
    /// The certificates of <paramref name="pem"/>, in order. A block with another label is skipped, or, when
    /// <paramref name="certificatesOnly"/>, a <see cref="FormatException"/> naming its label. A certificate that cannot
    /// be parsed is a <see cref="CryptographicException"/>; either way the certificates read so far are disposed.
    /// </summary>
    public static List<X509Certificate2> Read(ReadOnlySpan<char> pem, bool certificatesOnly = false)
    {
        var certificates = new List<X509Certificate2>();
        try
        {
            while (PemEncoding.TryFind(pem, out var fields))
            {
                var label = pem[fields.Label];
                if (label.SequenceEqual("CERTIFICATE"))
                {
                    var der = new byte[fields.DecodedDataLength];
                    if (!Convert.TryFromBase64Chars(pem[fields.Base64Data], der, out var written) || written != der.Length)
                    {
                        throw new CryptographicException("invalid base64 in a CERTIFICATE block");
                    }

                    certificates.Add(X509CertificateLoader.LoadCertificate(der));
                }
                else if (certificatesOnly)
                {
                    throw new FormatException($"holds a '{label}' PEM block; only CERTIFICATE is allowed");
                }

                pem = pem[fields.Location.End..];
            }

            return certificates;
        }
        catch
        {
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }

            throw;
        }
    }
}
