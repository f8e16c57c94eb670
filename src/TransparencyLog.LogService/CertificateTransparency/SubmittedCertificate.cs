using System.Formats.Asn1;
using TransparencyLog.Sigstore.CertificateTransparency;

namespace TransparencyLog.LogService.CertificateTransparency;

/// <summary>
/// The submitted (pre)certificate, chain[0], read with one strict DER walk instead of a platform certificate load: the
/// log needs only its issuer name (for name chaining) and its poison extensions, and its signature is checked by the
/// issuer's cached key. A full <c>X509CertificateLoader</c> load cost more than the signature check itself and was
/// thrown away after one name comparison; issuers, which do need their extensions and keys, are still loaded (once,
/// then cached). The walk checks the X.509 structure (RFC 5280 §4.1): the three top-level fields, every TBS field's
/// tag in order, and each extension's shape; contents it does not use (serial, times, names, key) are not decoded.
/// </summary>
internal sealed class SubmittedCertificate
{
    private static readonly Asn1Tag VersionTag = new(TagClass.ContextSpecific, 0, isConstructed: true);
    private static readonly Asn1Tag IssuerUniqueIdTag = new(TagClass.ContextSpecific, 1);
    private static readonly Asn1Tag SubjectUniqueIdTag = new(TagClass.ContextSpecific, 2);
    private static readonly Asn1Tag ExtensionsTag = new(TagClass.ContextSpecific, 3, isConstructed: true);

    private SubmittedCertificate(ReadOnlyMemory<byte> issuerName, List<(bool Critical, ReadOnlyMemory<byte> Value)> poison)
    {
        IssuerName = issuerName;
        PoisonExtensions = poison;
    }

    /// <summary>The DER issuer Name, exactly as encoded in the TBS.</summary>
    public ReadOnlyMemory<byte> IssuerName { get; }

    /// <summary>Every CT poison extension (RFC 6962 §3.1): whether it is critical, and its value.</summary>
    public IReadOnlyList<(bool Critical, ReadOnlyMemory<byte> Value)> PoisonExtensions { get; }

    /// <exception cref="ChainRejectedException">The bytes are not one DER X.509 certificate.</exception>
    public static SubmittedCertificate Parse(byte[] der)
    {
        try
        {
            var outer = new AsnReader(der, AsnEncodingRules.DER);
            var certificate = outer.ReadSequence();
            if (outer.HasData)
            {
                throw new ChainRejectedException("chain[0] has trailing data after the certificate");
            }

            var tbs = certificate.ReadSequence();
            certificate.ReadSequence(); // signatureAlgorithm
            certificate.ReadBitString(out _);
            certificate.ThrowIfNotEmpty();
            return ParseTbs(tbs);
        }
        catch (AsnContentException)
        {
            throw new ChainRejectedException("chain[0] is not a DER X.509 certificate");
        }
    }

    private static SubmittedCertificate ParseTbs(AsnReader tbs)
    {
        if (tbs.PeekTag().HasSameClassAndValue(VersionTag))
        {
            var version = tbs.ReadSequence(VersionTag);
            version.ReadInteger();
            version.ThrowIfNotEmpty();
        }

        tbs.ReadIntegerBytes(); // serialNumber
        tbs.ReadSequence(); // signature
        var issuerName = tbs.PeekEncodedValue();
        tbs.ReadSequence(); // issuer
        tbs.ReadSequence(); // validity
        tbs.ReadSequence(); // subject
        tbs.ReadSequence(); // subjectPublicKeyInfo
        if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(IssuerUniqueIdTag))
        {
            tbs.ReadEncodedValue();
        }

        if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(SubjectUniqueIdTag))
        {
            tbs.ReadEncodedValue();
        }

        var poison = new List<(bool, ReadOnlyMemory<byte>)>();
        if (tbs.HasData)
        {
            var wrapper = tbs.ReadSequence(ExtensionsTag);
            var extensions = wrapper.ReadSequence();
            wrapper.ThrowIfNotEmpty();
            while (extensions.HasData)
            {
                var extension = extensions.ReadSequence();
                var oid = extension.ReadObjectIdentifier();
                var critical = extension.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean) && extension.ReadBoolean();
                var value = extension.ReadOctetString();
                extension.ThrowIfNotEmpty();
                if (oid == Precertificate.PoisonOid)
                {
                    poison.Add((critical, value));
                }
            }
        }

        tbs.ThrowIfNotEmpty();
        return new SubmittedCertificate(issuerName, poison);
    }
}
