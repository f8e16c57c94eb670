using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Sigstore.Verification;

/// <summary>
/// Verifies an RFC 3161 timestamp over a signature, as @sigstore/core does (<c>C:rfc3161/timestamp.js</c>) plus the
/// chain checks of sigstore-go: CMS SignedData with id-ct-TSTInfo, the first SignerInfo identified by
/// IssuerAndSerialNumber, signed attributes with a messageDigest over the TSTInfo, imprint over the signature bytes,
/// signer chained to a trusted TSA at genTime. Accepts a whole TimeStampResp or the bare token (ContentInfo).
/// Beyond sigstore-js: the ESS signingCertificateV2 attribute must name the trusted TSA certificate (RFC 3161 §2.4.1,
/// RFC 5035), so a token cannot be re-attributed to another certificate with the same issuer and serial. Certificates
/// embedded in the token are ignored: the signer is always the <c>certChain[0]</c> of a trusted TSA. No nonce is
/// required (sigstore clients send none).
/// </summary>
internal static class Rfc3161Timestamp
{
    private const string SignedDataOid = "1.2.840.113549.1.7.2";
    private const string TstInfoOid = "1.2.840.113549.1.9.16.1.4";
    private const string ContentTypeAttributeOid = "1.2.840.113549.1.9.3";
    private const string MessageDigestAttributeOid = "1.2.840.113549.1.9.4";
    private const string SigningCertificateV2AttributeOid = "1.2.840.113549.1.9.16.2.47";
    private const string Sha256Oid = "2.16.840.1.101.3.4.2.1";
    private const string TimeStampingEku = CertificateChains.TimeStampingEku;

    /// <summary>Returns the verified genTime.</summary>
    /// <exception cref="VerificationException">TIMESTAMP_ERROR with the specific reason.</exception>
    public static DateTimeOffset Verify(byte[] timestamp, ReadOnlySpan<byte> signedBytes, TrustedRoot root)
    {
        Token token;
        try
        {
            token = Parse(timestamp);
        }
        catch (AsnContentException ex)
        {
            throw Fail($"the RFC 3161 timestamp is not valid DER: {ex.Message}");
        }

        var contentDigest = Digest(token.DigestAlgorithm, token.TstInfo) ?? throw Fail($"unsupported timestamp digest algorithm {token.DigestAlgorithm}");
        if (!CryptographicOperations.FixedTimeEquals(contentDigest, token.MessageDigest))
        {
            throw Fail("the timestamp's messageDigest attribute does not match its TSTInfo");
        }

        var imprint = Digest(token.ImprintAlgorithm, signedBytes) ?? throw Fail($"unsupported message imprint algorithm {token.ImprintAlgorithm}");
        if (!imprint.AsSpan().SequenceEqual(token.Imprint))
        {
            throw Fail("the timestamp's message imprint is not the hash of this signature");
        }

        var reasons = new List<string>();
        foreach (var authority in root.TimestampAuthorities)
        {
            if (authority.CertChain.Count < 2)
            {
                reasons.Add("a TSA chain has no CA above the signing certificate");
                continue;
            }

            using var signer = X509CertificateLoader.LoadCertificate(authority.CertChain[0]);
            if (!signer.IssuerName.RawData.AsSpan().SequenceEqual(token.SignerIssuer)
                || new BigInteger(signer.SerialNumberBytes.Span, isUnsigned: false, isBigEndian: true) != token.SignerSerial)
            {
                continue;
            }

            if (!VerifySignedAttributes(signer, token))
            {
                throw Fail("the timestamp's CMS signature does not verify with the TSA certificate");
            }

            var certificateHash = Digest(token.EssCertificate.HashAlgorithm, signer.RawData)
                ?? throw Fail($"unsupported signingCertificateV2 hash algorithm {token.EssCertificate.HashAlgorithm}");
            if (!certificateHash.AsSpan().SequenceEqual(token.EssCertificate.CertificateHash)
                || (token.EssCertificate.Serial is { } essSerial && essSerial != token.SignerSerial))
            {
                throw Fail("the timestamp's signingCertificateV2 attribute does not name the trusted TSA certificate");
            }

            if (!authority.ValidFor.Contains(token.GenTime))
            {
                reasons.Add($"genTime {token.GenTime:O} is outside the TSA's validFor window");
                continue;
            }

            if (!CertificateChains.TryValidate(signer, authority.CertChain.Skip(1).ToList(), token.GenTime, TimeStampingEku, out var issuer, out var error))
            {
                reasons.Add($"the TSA certificate chain is not valid at genTime {token.GenTime:O}: {error}");
                continue;
            }

            issuer?.Dispose();
            return token.GenTime;
        }

        throw Fail(reasons.Count > 0
            ? string.Join("; ", reasons)
            : "the timestamp was signed by a certificate that is not a trusted timestamp authority");
    }

    private static VerificationException Fail(string message) => new(VerificationErrorCode.Timestamp, message);

    private static bool VerifySignedAttributes(X509Certificate2 signer, Token token)
    {
        var spki = signer.PublicKey.ExportSubjectPublicKeyInfo();
        HashAlgorithmName? hash = token.SignatureAlgorithm switch
        {
            "1.2.840.10045.4.3.2" or "1.2.840.113549.1.1.11" => HashAlgorithmName.SHA256,
            "1.2.840.10045.4.3.3" or "1.2.840.113549.1.1.12" => HashAlgorithmName.SHA384,
            "1.2.840.10045.4.3.4" or "1.2.840.113549.1.1.13" => HashAlgorithmName.SHA512,
            "1.3.101.112" => null,
            _ => HashName(token.DigestAlgorithm), // rsaEncryption / ecPublicKey: the digest algorithm decides
        };
        return SignatureKey.Verify(spki, token.SignedAttributes, token.Signature, hash);
    }

    private static HashAlgorithmName? HashName(string oid) => oid switch
    {
        "2.16.840.1.101.3.4.2.1" => HashAlgorithmName.SHA256,
        "2.16.840.1.101.3.4.2.2" => HashAlgorithmName.SHA384,
        "2.16.840.1.101.3.4.2.3" => HashAlgorithmName.SHA512,
        _ => null,
    };

    private static byte[]? Digest(string oid, ReadOnlySpan<byte> data) => HashName(oid) switch
    {
        { } name when name == HashAlgorithmName.SHA256 => SHA256.HashData(data),
        { } name when name == HashAlgorithmName.SHA384 => SHA384.HashData(data),
        { } name when name == HashAlgorithmName.SHA512 => SHA512.HashData(data),
        _ => null,
    };

    private sealed record Token(
        byte[] TstInfo,
        string DigestAlgorithm,
        byte[] SignerIssuer,
        BigInteger SignerSerial,
        byte[] SignedAttributes,
        byte[] MessageDigest,
        string SignatureAlgorithm,
        byte[] Signature,
        string ImprintAlgorithm,
        byte[] Imprint,
        DateTimeOffset GenTime,
        EssCertificateId EssCertificate);

    /// <summary>The first ESSCertIDv2 of the signingCertificateV2 attribute; <see cref="Serial"/> only when issuerSerial is present.</summary>
    private sealed record EssCertificateId(string HashAlgorithm, byte[] CertificateHash, BigInteger? Serial);

    private static Token Parse(byte[] der)
    {
        var outer = new AsnReader(der, AsnEncodingRules.DER);
        var sequence = outer.ReadSequence();
        outer.ThrowIfNotEmpty();

        // TimeStampResp = SEQUENCE { PKIStatusInfo SEQUENCE, TimeStampToken }; ContentInfo starts with an OID.
        AsnReader contentInfo;
        if (sequence.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
        {
            var status = sequence.ReadSequence();
            var code = status.ReadInteger();
            if (code > 1)
            {
                throw Fail($"the TSA refused the request (PKIStatus {code})");
            }

            if (!sequence.HasData)
            {
                throw Fail("the timestamp response holds no token");
            }

            contentInfo = sequence.ReadSequence();
        }
        else
        {
            contentInfo = sequence;
        }

        if (contentInfo.ReadObjectIdentifier() != SignedDataOid)
        {
            throw Fail("the timestamp token is not CMS SignedData");
        }

        var signedData = contentInfo.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, true)).ReadSequence();
        signedData.ReadInteger();
        signedData.ReadSetOf(skipSortOrderValidation: true);
        var encapsulated = signedData.ReadSequence();
        if (encapsulated.ReadObjectIdentifier() != TstInfoOid)
        {
            throw Fail("the timestamp token does not hold a TSTInfo");
        }

        var tstInfo = encapsulated.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, true)).ReadOctetString();
        while (signedData.HasData && signedData.PeekTag().TagClass == TagClass.ContextSpecific)
        {
            signedData.ReadEncodedValue(); // certificates [0], crls [1]: the trust root supplies the chain
        }

        var signerInfos = signedData.ReadSetOf(skipSortOrderValidation: true);
        if (!signerInfos.HasData)
        {
            throw Fail("the timestamp token has no SignerInfo");
        }

        var signerInfo = signerInfos.ReadSequence();
        signerInfo.ReadInteger();
        if (!signerInfo.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
        {
            throw Fail("the timestamp's SignerInfo must identify the signer by IssuerAndSerialNumber");
        }

        var sid = signerInfo.ReadSequence();
        var issuer = sid.ReadEncodedValue().ToArray();
        var serial = sid.ReadInteger();
        var digestAlgorithm = signerInfo.ReadSequence().ReadObjectIdentifier();

        var attributesTag = new Asn1Tag(TagClass.ContextSpecific, 0, true);
        if (!signerInfo.HasData || !signerInfo.PeekTag().HasSameClassAndValue(attributesTag))
        {
            throw Fail("the timestamp's SignerInfo has no signed attributes");
        }

        // The signature covers the attributes with their universal SET tag, not the [0] they are stored under.
        var attributesEncoded = signerInfo.PeekEncodedValue().ToArray();
        attributesEncoded[0] = 0x31;
        var attributes = signerInfo.ReadSetOf(skipSortOrderValidation: true, attributesTag);
        byte[]? messageDigest = null;
        EssCertificateId? essCertificate = null;
        while (attributes.HasData)
        {
            var attribute = attributes.ReadSequence();
            var type = attribute.ReadObjectIdentifier();
            var values = attribute.ReadSetOf(skipSortOrderValidation: true);
            if (type == MessageDigestAttributeOid)
            {
                messageDigest = values.ReadOctetString();
            }
            else if (type == ContentTypeAttributeOid && values.ReadObjectIdentifier() != TstInfoOid)
            {
                throw Fail("the timestamp's contentType attribute is not id-ct-TSTInfo");
            }
            else if (type == SigningCertificateV2AttributeOid)
            {
                essCertificate = ReadSigningCertificateV2(values);
            }
        }

        var signatureAlgorithm = signerInfo.ReadSequence().ReadObjectIdentifier();
        var signature = signerInfo.ReadOctetString();

        var info = new AsnReader(tstInfo, AsnEncodingRules.DER).ReadSequence();
        info.ReadInteger();
        info.ReadObjectIdentifier();
        var messageImprint = info.ReadSequence();
        var imprintAlgorithm = messageImprint.ReadSequence().ReadObjectIdentifier();
        var imprint = messageImprint.ReadOctetString();
        info.ReadInteger();
        var genTime = ReadGenTime(info);

        return new Token(
            tstInfo, digestAlgorithm, issuer, serial, attributesEncoded,
            messageDigest ?? throw Fail("the timestamp's signed attributes have no messageDigest"),
            signatureAlgorithm, signature, imprintAlgorithm, imprint, genTime,
            essCertificate ?? throw Fail("the timestamp's signed attributes have no signingCertificateV2 (RFC 5035 ESSCertIDv2) naming the TSA certificate"));
    }

    /// <summary>
    /// genTime as @sigstore/core accepts it: <c>YYYYMMDDhhmmss[.fff]Z</c>. DER drops trailing zeros of fractional
    /// seconds (<c>.490</c> becomes <c>.49</c>), which sigstore-js rejects, so such a token would verify here and fail
    /// there; refusing it keeps the two verifiers in agreement.
    /// </summary>
    private static DateTimeOffset ReadGenTime(AsnReader info)
    {
        if (!info.PeekTag().HasSameClassAndValue(Asn1Tag.GeneralizedTime))
        {
            throw Fail("the timestamp's genTime is not a GeneralizedTime");
        }

        var text = System.Text.Encoding.ASCII.GetString(info.PeekContentBytes().Span);
        var time = info.ReadGeneralizedTime();
        var fraction = text.Length > 15 && text[14] == '.' ? text[15..^1] : string.Empty;
        if ((text.Length != 15 && fraction.Length != 3) || text[^1] != 'Z')
        {
            throw Fail($"the timestamp's genTime {text} has fractional seconds other than whole milliseconds (sigstore clients reject it)");
        }

        return time;
    }

    private static EssCertificateId ReadSigningCertificateV2(AsnReader values)
    {
        // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies OPTIONAL }; the first names the signer.
        var certs = values.ReadSequence().ReadSequence();
        if (!certs.HasData)
        {
            throw Fail("the timestamp's signingCertificateV2 attribute lists no certificate");
        }

        // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256, certHash OCTET STRING, issuerSerial OPTIONAL }
        var id = certs.ReadSequence();
        var hashAlgorithm = Sha256Oid;
        if (id.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
        {
            hashAlgorithm = id.ReadSequence().ReadObjectIdentifier();
        }

        var hash = id.ReadOctetString();
        BigInteger? serial = null;
        if (id.HasData)
        {
            var issuerSerial = id.ReadSequence();
            issuerSerial.ReadSequence(); // GeneralNames: the serial and certHash already pin the certificate
            serial = issuerSerial.ReadInteger();
        }

        return new EssCertificateId(hashAlgorithm, hash, serial);
    }
}
