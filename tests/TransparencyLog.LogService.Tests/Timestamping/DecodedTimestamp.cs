using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TransparencyLog.LogService.Tests.Timestamping;

/// <summary>
/// A TimeStampResp taken apart field by field, independently of the production encoder, following RFC 3161 and
/// RFC 5652 and reading only the positions sigstore-js reads. Any layout deviation fails the decoding.
/// </summary>
internal sealed class DecodedTimestamp
{
    private static readonly Asn1Tag Context0 = new(TagClass.ContextSpecific, 0, true);

    public DecodedTimestamp(byte[] response)
    {
        var reader = new AsnReader(response, AsnEncodingRules.DER);
        var resp = reader.ReadSequence();
        Assert.False(reader.HasData);
        var status = resp.ReadSequence();
        Assert.Equal(0, (int)status.ReadInteger());
        Assert.False(status.HasData);
        var contentInfo = resp.ReadSequence();
        Assert.False(resp.HasData);

        Assert.Equal("1.2.840.113549.1.7.2", contentInfo.ReadObjectIdentifier());
        var signedData = contentInfo.ReadSequence(Context0).ReadSequence();
        SignedDataVersion = (int)signedData.ReadInteger();
        var digestAlgorithms = signedData.ReadSetOf();
        DigestAlgorithmOid = digestAlgorithms.ReadSequence().ReadObjectIdentifier();
        Assert.False(digestAlgorithms.HasData);

        var encapsulated = signedData.ReadSequence();
        Assert.Equal("1.2.840.113549.1.9.16.1.4", encapsulated.ReadObjectIdentifier());
        var eContent = encapsulated.ReadSequence(Context0);
        EContentTagByte = eContent.PeekEncodedValue().Span[0];
        TstInfoDer = eContent.ReadOctetString();

        if (signedData.PeekTag().HasSameClassAndValue(Context0))
        {
            var certificates = signedData.ReadSetOf(Context0);
            while (certificates.HasData)
            {
                Certificates.Add(X509CertificateLoader.LoadCertificate(certificates.ReadEncodedValue().Span));
            }
        }

        var signerInfos = signedData.ReadSetOf();
        Assert.False(signedData.HasData);
        var signerInfo = signerInfos.ReadSequence();
        Assert.False(signerInfos.HasData);
        SignerInfoVersion = (int)signerInfo.ReadInteger();
        SidTag = signerInfo.PeekTag();
        var sid = signerInfo.ReadSequence(); // IssuerAndSerialNumber (SubjectKeyIdentifier would be [0])
        SidIssuer = sid.ReadEncodedValue().ToArray();
        SidSerial = sid.ReadIntegerBytes().ToArray();
        SignerDigestAlgorithmOid = signerInfo.ReadSequence().ReadObjectIdentifier();

        // The signature covers the attributes re-tagged as a SET (RFC 5652 §5.4).
        SignedAttributesDer = signerInfo.ReadEncodedValue().ToArray();
        Assert.Equal(0xA0, SignedAttributesDer[0]);
        SignedAttributesDer[0] = 0x31;
        var attributes = new AsnReader(SignedAttributesDer, AsnEncodingRules.DER).ReadSetOf();
        while (attributes.HasData)
        {
            var attribute = attributes.ReadSequence();
            var oid = attribute.ReadObjectIdentifier();
            var values = attribute.ReadSetOf();
            Attributes.Add(oid, values.ReadEncodedValue().ToArray());
            Assert.False(values.HasData);
        }

        var signatureAlgorithm = signerInfo.ReadSequence();
        SignatureAlgorithmOid = signatureAlgorithm.ReadObjectIdentifier();
        Assert.False(signatureAlgorithm.HasData);
        Signature = signerInfo.ReadOctetString();
        Assert.False(signerInfo.HasData);

        // TSTInfo { version, policy, messageImprint, serialNumber, genTime, accuracy, ordering?, nonce?, tsa [0] }
        var tstInfoReader = new AsnReader(TstInfoDer, AsnEncodingRules.DER);
        var tstInfo = tstInfoReader.ReadSequence();
        Assert.False(tstInfoReader.HasData);
        Assert.Equal(1, (int)tstInfo.ReadInteger());
        Policy = tstInfo.ReadObjectIdentifier();
        var imprint = tstInfo.ReadSequence();
        var imprintAlgorithm = imprint.ReadSequence();
        ImprintAlgorithmOid = imprintAlgorithm.ReadObjectIdentifier();
        ImprintHasNullParameters = imprintAlgorithm.HasData;
        HashedMessage = imprint.ReadOctetString();
        SerialNumber = tstInfo.ReadIntegerBytes().ToArray();
        var genTime = tstInfo.ReadEncodedValue();
        Assert.Equal(0x18, genTime.Span[0]);
        GenTimeText = System.Text.Encoding.ASCII.GetString(genTime.Span[2..]);
        var accuracy = tstInfo.ReadSequence();
        AccuracySeconds = (int)accuracy.ReadInteger();
        Assert.False(accuracy.HasData);
        Assert.False(tstInfo.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean)); // ordering FALSE is omitted in DER
        if (tstInfo.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
        {
            Nonce = tstInfo.ReadInteger();
        }

        var tsa = tstInfo.ReadSequence(Context0).ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 4, true));
        TsaName = tsa.ReadEncodedValue().ToArray();
        Assert.False(tstInfo.HasData);
    }

    public int SignedDataVersion { get; }

    public string DigestAlgorithmOid { get; }

    public byte EContentTagByte { get; }

    public byte[] TstInfoDer { get; }

    public List<X509Certificate2> Certificates { get; } = [];

    public int SignerInfoVersion { get; }

    public Asn1Tag SidTag { get; }

    public byte[] SidIssuer { get; }

    public byte[] SidSerial { get; }

    public string SignerDigestAlgorithmOid { get; }

    /// <summary>The signed attributes with the SET tag, as signed.</summary>
    public byte[] SignedAttributesDer { get; }

    public Dictionary<string, byte[]> Attributes { get; } = [];

    public string SignatureAlgorithmOid { get; }

    public byte[] Signature { get; }

    public string Policy { get; }

    public string ImprintAlgorithmOid { get; }

    public bool ImprintHasNullParameters { get; }

    public byte[] HashedMessage { get; }

    public byte[] SerialNumber { get; }

    /// <summary>The GeneralizedTime characters exactly as encoded.</summary>
    public string GenTimeText { get; }

    public int AccuracySeconds { get; }

    public BigInteger? Nonce { get; }

    public byte[] TsaName { get; }

    /// <summary>Checks the ECDSA-SHA256 DER signature over the signed attributes with the TSA certificate's key.</summary>
    public bool SignatureVerifies(X509Certificate2 tsaCertificate)
    {
        using var key = tsaCertificate.GetECDsaPublicKey() ?? throw new InvalidOperationException("not an ECDSA certificate");
        return key.VerifyData(SignedAttributesDer, Signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }
}
