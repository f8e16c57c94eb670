using System.Formats.Asn1;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Options;
using TransparencyLog.CaService.CertificateTransparency;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Identity;
using TransparencyLog.Sigstore.CertificateTransparency;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.CaService.Issuance;

/// <summary>A freshly issued certificate and what the client needs beside it.</summary>
/// <param name="ChainPem">Leaf, intermediates, root; one PEM string each, <c>\n</c> line endings, 64 columns.</param>
/// <param name="DetachedSct">The AddChainResponse JSON (UTF-8) in detached mode; null when embedded or without CT.</param>
/// <param name="SctLogIndex">The log index, when the CT log reports one (static-CT <c>leaf_index</c>).</param>
/// <param name="SerialHex">Lowercase hex of the serial number, for audit logs.</param>
internal sealed record IssuedCertificate(
    IReadOnlyList<string> ChainPem,
    byte[]? DetachedSct,
    long? SctLogIndex,
    string SerialHex);

/// <summary>
/// Issues Fulcio-profile code-signing certificates. The TBSCertificate is written field by field so the
/// precertificate and the final certificate differ only in their last extension (poison vs SCT list): removing
/// either gives byte-identical TBS structures, which is what an embedded SCT signs and a verifier re-derives.
/// </summary>
internal sealed partial class CertificateIssuer : IDisposable
{
    /// <summary>Fulcio's leaf lifetime; NotAfter is exactly NotBefore plus this.</summary>
    public static readonly TimeSpan Validity = TimeSpan.FromMinutes(10);

    private const string FulcioArc = "1.3.6.1.4.1.57264.1.";
    private const string IssuerV1Oid = FulcioArc + "1";
    private const string IssuerV2Oid = FulcioArc + "8";

    private readonly CaSigner _signer;
    private readonly CtLogClient _ctLog;
    private readonly SctMode _sctMode;
    private readonly TimeProvider _time;
    private readonly ILogger<CertificateIssuer> _logger;
    private readonly byte[] _issuerName;
    private readonly byte[] _issuerKeyIdentifier;
    private readonly byte[] _issuerKeyHash;
    private readonly IReadOnlyList<byte[]> _caChainDer;
    private readonly IReadOnlyList<string> _caChainPem;
    private readonly ECDsa? _issuingEcdsaKey;
    private readonly RSA? _issuingRsaKey;
    private readonly Lock _issuingKeyLock = new();

    public CertificateIssuer(
        CaSigner signer,
        CtLogClient ctLog,
        IOptions<IssuanceOptions> options,
        TimeProvider time,
        ILogger<CertificateIssuer> logger)
    {
        _signer = signer;
        _ctLog = ctLog;
        _sctMode = options.Value.SctMode;
        _time = time;
        _logger = logger;
        var issuing = signer.IssuingCertificate;
        // Byte-identical to the CA's subject: verifiers match issuer and subject Names as bytes, not as strings.
        _issuerName = issuing.SubjectName.RawData;
        _issuerKeyIdentifier = issuing.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single()
            .SubjectKeyIdentifierBytes.ToArray();
        _issuerKeyHash = SHA256.HashData(issuing.PublicKey.ExportSubjectPublicKeyInfo());
        // The chain is fixed for the signer's lifetime, so its public key is imported once.
        _issuingEcdsaKey = issuing.GetECDsaPublicKey();
        _issuingRsaKey = _issuingEcdsaKey is null ? issuing.GetRSAPublicKey() : null;
        _caChainDer = signer.Chain.Select(c => c.RawData).ToList();
        _caChainPem = _caChainDer.Select(ToPem).ToList();
        TrustBundle = [_caChainPem];
        LogCaReady(logger, issuing.Subject, issuing.NotAfter.ToUniversalTime(), ctLog.IsConfigured ? _sctMode.ToString() : "none");
    }

    /// <summary>The CA chains without a leaf (intermediates … root, PEM). One chain: rotation replaces it.</summary>
    public IReadOnlyList<IReadOnlyList<string>> TrustBundle { get; }

    public async Task<IssuedCertificate> IssueAsync(Principal principal, SubmittedKey key, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(key);

        var extensions = new List<byte[]>
        {
            // Fulcio's order: KU, EKU, SKI, AKI, SAN, 1.1–1.6, 1.8–1.24, then poison or SCT list last.
            Extension(Oids.KeyUsage, critical: true, KeyUsageDigitalSignature()),
            Extension(Oids.ExtendedKeyUsage, critical: false, ExtendedKeyUsageCodeSigning()),
            Extension("2.5.29.14", critical: false, SubjectKeyIdentifier(key.SpkiDer)),
            Extension("2.5.29.35", critical: false, AuthorityKeyIdentifier(_issuerKeyIdentifier)),
            // Critical because the subject is empty (RFC 5280 §4.2.1.6).
            Extension(Oids.SubjectAltName, critical: true, SubjectAlternativeNames(principal.San)),
        };
        extensions.AddRange(FulcioExtensions(principal));

        var serial = RandomSerial();
        var now = _time.GetUtcNow();
        // A whole second, not after now: clients compare integratedTime (seconds) with NotBefore.
        var notBefore = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
        var tbs = new TbsTemplate(serial, _signer.SignatureAlgorithm, _issuerName, notBefore, notBefore + Validity, key.SpkiDer);

        byte[] leaf;
        byte[]? detachedSct = null;
        SignedCertificateTimestamp? sct = null;
        if (_ctLog.IsConfigured && _sctMode == SctMode.Embedded)
        {
            var poison = Extension(Precertificate.PoisonOid, critical: true, [0x05, 0x00]);
            var precertificate = await SignCertificateAsync(tbs.Encode([.. extensions, poison]), ct);
            sct = await _ctLog.AddPreChainAsync([precertificate, .. _caChainDer], ct);

            var tbsWithoutSct = tbs.Encode(extensions);
            var signedData = CtSignedData.ForPrecertificate(sct.TimestampMs, _issuerKeyHash, tbsWithoutSct, sct.Extensions);
            if (!_ctLog.Verify(sct, signedData))
            {
                LogSctRejected(_logger, Convert.ToHexStringLower(serial));
                throw new CaException(CaErrorCode.CertificateTransparencyFailed, "Error entering certificate in CTL.");
            }

            var sctList = Extension(SctList.Oid, critical: false, SctList.EncodeExtensionValue([sct]));
            leaf = await SignCertificateAsync(tbs.Encode([.. extensions, sctList]), ct);
        }
        else if (_ctLog.IsConfigured)
        {
            leaf = await SignCertificateAsync(tbs.Encode(extensions), ct);
            sct = await _ctLog.AddChainAsync([leaf, .. _caChainDer], ct);
            var signedData = CtSignedData.ForCertificate(sct.TimestampMs, leaf, sct.Extensions);
            if (!_ctLog.Verify(sct, signedData))
            {
                LogSctRejected(_logger, Convert.ToHexStringLower(serial));
                throw new CaException(CaErrorCode.CertificateTransparencyFailed, "Error entering certificate in CTL.");
            }

            detachedSct = Encoding.UTF8.GetBytes(sct.ToAddChainResponseJson());
        }
        else
        {
            leaf = await SignCertificateAsync(tbs.Encode(extensions), ct);
        }

        long? logIndex = sct is not null && sct.TryGetLeafIndex(out var index) ? index : null;
        // No log line here: the API's audit event (CertificateIssued) is the one record of an issuance.
        return new IssuedCertificate([ToPem(leaf), .. _caChainPem], detachedSct, logIndex, Convert.ToHexStringLower(serial));
    }

    /// <summary>PEM with <c>\n</c> line endings, 64-column base64 and a final line break (what clients split on).</summary>
    internal static string ToPem(byte[] der) => PemEncoding.WriteString("CERTIFICATE", der) + "\n";

    private async Task<byte[]> SignCertificateAsync(byte[] tbs, CancellationToken ct)
    {
        var signature = await _signer.SignAsync(tbs, ct);
        if (!_signer.SignsInProcess && !VerifiesWithIssuingKey(tbs, signature))
        {
            // A signer (some day a KMS) that returns a bad signature must not produce an unverifiable certificate.
            throw new CaException(CaErrorCode.Internal, "error communicating with CA backend");
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteEncodedValue(tbs);
            writer.WriteEncodedValue(_signer.SignatureAlgorithm);
            writer.WriteBitString(signature);
        }

        return writer.Encode();
    }

    public void Dispose()
    {
        _issuingEcdsaKey?.Dispose();
        _issuingRsaKey?.Dispose();
    }

    private bool VerifiesWithIssuingKey(byte[] tbs, byte[] signature)
    {
        // One verification at a time: .NET does not promise that one key object verifies on several threads at once.
        lock (_issuingKeyLock)
        {
            if (_issuingEcdsaKey is { } ecdsa)
            {
                var hash = ecdsa.KeySize switch
                {
                    384 => HashAlgorithmName.SHA384,
                    521 => HashAlgorithmName.SHA512,
                    _ => HashAlgorithmName.SHA256,
                };
                return ecdsa.VerifyData(tbs, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
            }

            return _issuingRsaKey is not null
                && _issuingRsaKey.VerifyData(tbs, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        }
    }

    private static byte[] Extension(string oid, bool critical, byte[] value)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(oid);
            if (critical)
            {
                // DER omits the DEFAULT FALSE.
                writer.WriteBoolean(true);
            }

            writer.WriteOctetString(value);
        }

        return writer.Encode();
    }

    private static byte[] KeyUsageDigitalSignature()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteBitString([0x80], unusedBitCount: 7);
        return writer.Encode();
    }

    private static byte[] ExtendedKeyUsageCodeSigning()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(TransparencyLog.Sigstore.Verification.CertificateChains.CodeSigningEku);
        }

        return writer.Encode();
    }

    /// <summary>RFC 7093 §2 method 1: the leftmost 160 bits of the SHA-256 of the subjectPublicKey bits.</summary>
    private static byte[] SubjectKeyIdentifier(byte[] spkiDer)
    {
        var spki = new AsnReader(spkiDer, AsnEncodingRules.DER).ReadSequence();
        spki.ReadSequence();
        var publicKey = spki.ReadBitString(out _);
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteOctetString(SHA256.HashData(publicKey).AsSpan(0, 20));
        return writer.Encode();
    }

    private static byte[] AuthorityKeyIdentifier(byte[] issuerKeyIdentifier)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteOctetString(issuerKeyIdentifier, new Asn1Tag(TagClass.ContextSpecific, 0));
        }

        return writer.Encode();
    }

    private static byte[] SubjectAlternativeNames(SubjectAlternativeName san)
    {
        if (string.IsNullOrEmpty(san.Value) || (san.Kind == SanKind.Username && !san.Value.Contains('!', StringComparison.Ordinal)))
        {
            throw new CaException(CaErrorCode.InvalidRequest, "The identity has no usable subject alternative name.");
        }

        if (san.Value.Any(char.IsControl) || san.Value.Trim().Length != san.Value.Length)
        {
            // A trailing newline or other control character would let "alice@example.com\n" pass for
            // "alice@example.com" in verifiers whose regular expressions anchor with '$'.
            throw new CaException(CaErrorCode.InvalidRequest, "The subject alternative name contains control characters or surrounding white space.");
        }

        var writer = new AsnWriter(AsnEncodingRules.DER);
        try
        {
            using (writer.PushSequence())
            {
                switch (san.Kind)
                {
                    case SanKind.Email:
                        writer.WriteCharacterString(UniversalTagNumber.IA5String, san.Value, new Asn1Tag(TagClass.ContextSpecific, 1));
                        break;
                    case SanKind.Uri:
                        writer.WriteCharacterString(UniversalTagNumber.IA5String, san.Value, new Asn1Tag(TagClass.ContextSpecific, 6));
                        break;
                    case SanKind.Username:
                        // otherName [0] IMPLICIT SEQUENCE { type-id, [0] EXPLICIT UTF8String "user!domain" }
                        using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                        {
                            writer.WriteObjectIdentifier(FulcioArc + "7");
                            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                            {
                                writer.WriteCharacterString(UniversalTagNumber.UTF8String, san.Value);
                            }
                        }

                        break;
                    default:
                        throw new CaException(CaErrorCode.InvalidRequest, "Unsupported subject alternative name kind.");
                }
            }
        }
        catch (EncoderFallbackException)
        {
            // rfc822Name and URI are IA5String: ASCII only.
            throw new CaException(CaErrorCode.InvalidRequest, "The subject alternative name is not ASCII.");
        }

        return writer.Encode();
    }

    /// <summary>
    /// 1.1–1.6 as raw UTF-8 in extnValue (Fulcio's legacy encoding, still read by cosign and Kyverno), 1.8–1.24 as
    /// DER UTF8String; ascending OID order, empty values omitted. 1.1 and 1.8 always carry the issuer.
    /// </summary>
    private static List<byte[]> FulcioExtensions(Principal principal)
    {
        if (string.IsNullOrEmpty(principal.Issuer))
        {
            throw new CaException(CaErrorCode.InvalidRequest, "The identity has no issuer.");
        }

        var values = new SortedDictionary<int, string> { [1] = principal.Issuer, [8] = principal.Issuer };
        foreach (var (oid, value) in principal.Extensions)
        {
            if (!oid.StartsWith(FulcioArc, StringComparison.Ordinal)
                || !int.TryParse(oid.AsSpan(FulcioArc.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var arc)
                || arc is < 1 or > 24 or 7
                || oid != FulcioOid(arc))
            {
                throw new CaException(CaErrorCode.Internal, "The identity carries an unknown certificate extension.");
            }

            if (arc is 1 or 8 && value != principal.Issuer)
            {
                throw new CaException(CaErrorCode.Internal, "The identity's issuer extensions disagree with its issuer.");
            }

            if (!string.IsNullOrEmpty(value))
            {
                values[arc] = value;
            }
        }

        var result = new List<byte[]>(values.Count);
        foreach (var (arc, value) in values)
        {
            byte[] encoded;
            if (arc <= 6)
            {
                encoded = Encoding.UTF8.GetBytes(value);
            }
            else
            {
                var writer = new AsnWriter(AsnEncodingRules.DER);
                writer.WriteCharacterString(UniversalTagNumber.UTF8String, value);
                encoded = writer.Encode();
            }

            result.Add(Extension(FulcioOid(arc), critical: false, encoded));
        }

        return result;
    }

    private static string FulcioOid(int arc) => FulcioArc + arc.ToString(CultureInfo.InvariantCulture);

    private static byte[] RandomSerial()
    {
        // 20 bytes, positive and minimally encoded (top bit clear, next bit set): 158 random bits.
        var serial = RandomNumberGenerator.GetBytes(20);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        return serial;
    }

    /// <summary>Every TBSCertificate field except the extensions, fixed once per certificate.</summary>
    private sealed record TbsTemplate(
        byte[] Serial,
        byte[] SignatureAlgorithm,
        byte[] IssuerName,
        DateTimeOffset NotBefore,
        DateTimeOffset NotAfter,
        byte[] SpkiDer)
    {
        public byte[] Encode(IReadOnlyList<byte[]> extensions)
        {
            var writer = new AsnWriter(AsnEncodingRules.DER);
            using (writer.PushSequence())
            {
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                {
                    writer.WriteInteger(2); // v3
                }

                writer.WriteInteger(Serial);
                writer.WriteEncodedValue(SignatureAlgorithm);
                writer.WriteEncodedValue(IssuerName);
                using (writer.PushSequence())
                {
                    WriteTime(writer, NotBefore);
                    WriteTime(writer, NotAfter);
                }

                using (writer.PushSequence())
                {
                    // Empty subject: the identity is in the SAN.
                }

                writer.WriteEncodedValue(SpkiDer);
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 3, isConstructed: true)))
                using (writer.PushSequence())
                {
                    foreach (var extension in extensions)
                    {
                        writer.WriteEncodedValue(extension);
                    }
                }
            }

            return writer.Encode();
        }

        /// <summary>RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.</summary>
        private static void WriteTime(AsnWriter writer, DateTimeOffset value)
        {
            if (value.Year < 2050)
            {
                writer.WriteUtcTime(value);
            }
            else
            {
                writer.WriteGeneralizedTime(value, omitFractionalSeconds: true);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Issuing CA {Subject} ready, valid until {NotAfter:o}, SCT mode {SctMode}")]
    private static partial void LogCaReady(ILogger logger, string subject, DateTime notAfter, string sctMode);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "CT log returned an SCT that does not verify for certificate {Serial}; nothing issued")]
    private static partial void LogSctRejected(ILogger logger, string serial);
}
