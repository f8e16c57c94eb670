using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace TransparencyLog.Sigstore.Tests.Verification;

/// <summary>
/// A Fulcio-like PKI made in the test: root → intermediate → leaf with the Fulcio SAN and issuer extensions and an
/// embedded SCT from an in-test CT log key, built the way interop §2.2 describes (sign the SCT over the final TBS
/// without the SCT list, then issue the same certificate with the list appended).
/// </summary>
internal sealed class TestPki : IDisposable
{
    public const string Email = "alice@example.com";
    public const string OidcIssuer = "https://issuer.example.test";

    public TestPki(DateTimeOffset now)
    {
        Now = now;
        RootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Root = CreateCa("CN=test-root, O=tlog", RootKey, null, null, now.AddYears(-1), now.AddYears(10));
        IntermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        Intermediate = CreateCa("CN=test-intermediate, O=tlog", IntermediateKey, Root, RootKey, now.AddYears(-1), now.AddYears(5));
        CtLogKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    }

    public DateTimeOffset Now { get; }

    public ECDsa RootKey { get; }

    public X509Certificate2 Root { get; }

    public ECDsa IntermediateKey { get; }

    public X509Certificate2 Intermediate { get; }

    public ECDsa CtLogKey { get; }

    public byte[] CtLogSpki => CtLogKey.ExportSubjectPublicKeyInfo();

    /// <summary>A root + intermediate chain in trusted-root order (intermediate first).</summary>
    public IReadOnlyList<byte[]> Chain => [Intermediate.RawData, Root.RawData];

    public static X509Certificate2 CreateCa(string subject, ECDsa key, X509Certificate2? issuer, ECDsa? issuerKey, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, issuer is not null, issuer is null ? 0 : 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var ski = new X509SubjectKeyIdentifierExtension(request.PublicKey, false);
        request.CertificateExtensions.Add(ski);
        if (issuer is null || issuerKey is null)
        {
            return request.CreateSelfSigned(notBefore, notAfter);
        }

        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using var issued = request.Create(issuer, notBefore, notAfter, RandomNumberGenerator.GetBytes(16));
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>A Fulcio leaf for <paramref name="key"/>, issued by the intermediate (or another CA), with one SCT.</summary>
    public X509Certificate2 IssueLeaf(
        ECDsa key, DateTimeOffset notBefore, DateTimeOffset notAfter, string email = Email, string issuer = OidcIssuer,
        X509Certificate2? ca = null, ECDsa? ctLogKey = null, bool withSct = true)
    {
        ca ??= Intermediate;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;

        CertificateRequest Request()
        {
            var request = new CertificateRequest(new X500DistinguishedName(string.Empty), key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.3")], false));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
            var san = new SubjectAlternativeNameBuilder();
            san.AddEmailAddress(email);
            request.CertificateExtensions.Add(new X509Extension("2.5.29.17", san.Build().RawData, critical: true));
            request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.57264.1.1", Encoding.UTF8.GetBytes(issuer), false));
            var utf8 = new AsnWriter(AsnEncodingRules.DER);
            utf8.WriteCharacterString(UniversalTagNumber.UTF8String, issuer);
            request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.57264.1.8", utf8.Encode(), false));
            return request;
        }

        var precert = Request();
        using var withoutSct = precert.Create(ca, notBefore, notAfter, serial);
        if (!withSct)
        {
            return X509CertificateLoader.LoadCertificate(withoutSct.RawData);
        }

        var tbs = TbsOf(withoutSct.RawData);
        var sctList = SctList(ctLogKey ?? CtLogKey, notBefore.AddSeconds(1), tbs, ca);
        var final = Request();
        final.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.11129.2.4.2", sctList, false));
        using var certificate = final.Create(ca, notBefore, notAfter, serial);
        return X509CertificateLoader.LoadCertificate(certificate.RawData);
    }

    private static byte[] TbsOf(byte[] certificate)
    {
        var reader = new AsnReader(certificate, AsnEncodingRules.DER).ReadSequence();
        return reader.ReadEncodedValue().ToArray();
    }

    /// <summary>extnValue = OCTET STRING(uint16 listLen | uint16 sctLen | SCT).</summary>
    private static byte[] SctList(ECDsa logKey, DateTimeOffset time, byte[] tbs, X509Certificate2 issuer)
    {
        var issuerKeyHash = SHA256.HashData(issuer.PublicKey.ExportSubjectPublicKeyInfo());
        var millis = (ulong)time.ToUnixTimeMilliseconds();
        using var signed = new MemoryStream();
        signed.Write([0, 0]);
        signed.Write(BigEndian(millis, 8));
        signed.Write([0, 1]);
        signed.Write(issuerKeyHash);
        signed.Write(BigEndian((ulong)tbs.Length, 3));
        signed.Write(tbs);
        signed.Write([0, 0]);
        var signature = logKey.SignData(signed.ToArray(), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

        using var sct = new MemoryStream();
        sct.WriteByte(0);
        sct.Write(SHA256.HashData(logKey.ExportSubjectPublicKeyInfo()));
        sct.Write(BigEndian(millis, 8));
        sct.Write([0, 0, 4, 3]);
        sct.Write(BigEndian((ulong)signature.Length, 2));
        sct.Write(signature);
        var sctBytes = sct.ToArray();
        var list = new byte[4 + sctBytes.Length];
        BinaryPrimitives.WriteUInt16BigEndian(list, (ushort)(sctBytes.Length + 2));
        BinaryPrimitives.WriteUInt16BigEndian(list.AsSpan(2), (ushort)sctBytes.Length);
        sctBytes.CopyTo(list, 4);
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteOctetString(list);
        return writer.Encode();
    }

    private static byte[] BigEndian(ulong value, int size)
    {
        var bytes = new byte[size];
        for (var i = size - 1; i >= 0; i--)
        {
            bytes[i] = (byte)value;
            value >>= 8;
        }

        return bytes;
    }

    public void Dispose()
    {
        Root.Dispose();
        Intermediate.Dispose();
        RootKey.Dispose();
        IntermediateKey.Dispose();
        CtLogKey.Dispose();
    }
}
