using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TransparencyLog.LogService.Timestamping;

/// <summary>
/// Issues RFC 3161 timestamp tokens: TSTInfo and the CMS SignedData around it are written field by field with
/// <see cref="AsnWriter"/>, in the exact layout of sigstore/timestamp-authority that openssl, sigstore-go and
/// sigstore-js verify (sid = IssuerAndSerialNumber, signed attributes, eContent a primitive OCTET STRING).
/// </summary>
internal sealed class TimestampAuthority
{
    private static readonly Asn1Tag Context0 = new(TagClass.ContextSpecific, 0, isConstructed: true);
    private static readonly Asn1Tag DirectoryName = new(TagClass.ContextSpecific, 4, isConstructed: true);

    private readonly TimestampSigner _signer;
    private readonly TimestampingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<TimestampAuthority> _logger;
    private readonly HashSet<string> _acceptedPolicies;
    private readonly byte[] _issuerAndSerialNumber;
    private readonly byte[] _signerSerialNumber;

    public TimestampAuthority(TimestampSigner signer, IOptions<TimestampingOptions> options, TimeProvider time, ILogger<TimestampAuthority> logger)
    {
        _signer = signer;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _acceptedPolicies = [_options.DefaultPolicyOid, .. _options.AcceptedPolicyOids];

        var leaf = signer.Chain[0];
        var writer = new AsnWriter(AsnEncodingRules.DER);
        writer.WriteInteger(leaf.SerialNumberBytes.Span);
        _signerSerialNumber = writer.Encode();

        writer.Reset();
        using (writer.PushSequence())
        {
            writer.WriteEncodedValue(leaf.IssuerName.RawData);
            writer.WriteEncodedValue(_signerSerialNumber);
        }

        _issuerAndSerialNumber = writer.Encode();
        CertificateChainPem = string.Concat(signer.Chain.Select(c => PemEncoding.WriteString("CERTIFICATE", c.RawData) + "\n"));
    }

    /// <summary>The TSA chain as PEM, TSA certificate first, root last (<c>application/pem-certificate-chain</c>).</summary>
    public string CertificateChainPem { get; }

    public X509Certificate2 Certificate => _signer.Chain[0];

    /// <summary>Returns the DER <c>TimeStampResp</c> granting a token for <paramref name="request"/>.</summary>
    /// <exception cref="TimestampRequestException">The requested policy is not accepted.</exception>
    public async ValueTask<byte[]> IssueAsync(TimestampRequest request, CancellationToken cancellationToken = default)
    {
        var policy = request.PolicyOid ?? _options.DefaultPolicyOid;
        if (!_acceptedPolicies.Contains(policy))
        {
            throw new TimestampRequestException("requested policy is not accepted by this timestamp authority");
        }

        // Whole seconds: DER GeneralizedTime drops trailing zeros of a fraction (".490" -> ".49") and sigstore-js
        // accepts only no fraction or exactly three digits.
        var now = _time.GetUtcNow().ToUniversalTime();
        var genTime = new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

        // 20 random bytes, top bit cleared (positive) and second bit set (so the DER INTEGER is exactly 20 bytes).
        var serial = RandomNumberGenerator.GetBytes(20);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);

        var tstInfo = EncodeTstInfo(request, policy, serial, genTime);
        var signedAttributes = EncodeSignedAttributes(tstInfo, genTime, request.HashAlgorithm);
        var signature = await _signer.SignAsync(signedAttributes, cancellationToken);
        var response = EncodeResponse(tstInfo, signedAttributes, signature, request.CertificateRequested);

        Log.TimestampIssued(_logger, Convert.ToHexStringLower(serial), request.HashAlgorithm.Name, policy, request.Nonce is not null, request.CertificateRequested);
        return response;
    }

    private byte[] EncodeTstInfo(TimestampRequest request, string policy, byte[] serial, DateTimeOffset genTime)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(1);
            writer.WriteObjectIdentifier(policy);
            using (writer.PushSequence())
            {
                // The imprint is echoed as requested: `openssl ts -verify -queryfile` compares it with the query's.
                WriteAlgorithmIdentifier(writer, request.HashAlgorithm.Oid, request.HashParametersNull);
                writer.WriteOctetString(request.HashedMessage.Span);
            }

            writer.WriteInteger(serial);
            writer.WriteGeneralizedTime(genTime, omitFractionalSeconds: true);
            using (writer.PushSequence())
            {
                writer.WriteInteger(1); // accuracy: seconds 1
            }

            // ordering FALSE is the DEFAULT, so DER omits it.
            if (request.Nonce is { } nonce)
            {
                writer.WriteInteger(nonce.Span);
            }

            // tsa [0] GeneralName: explicit because GeneralName is a CHOICE; directoryName [4] likewise wraps Name.
            using (writer.PushSequence(Context0))
            using (writer.PushSequence(DirectoryName))
            {
                writer.WriteEncodedValue(Certificate.SubjectName.RawData);
            }
        }

        return writer.Encode();
    }

    /// <summary>The signed attributes as a DER SET (tag 0x31), which is what the signature covers (RFC 5652 §5.4).</summary>
    private byte[] EncodeSignedAttributes(byte[] tstInfo, DateTimeOffset genTime, TimestampHashAlgorithm requestHash)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);

        // DER sorts SET OF elements by encoding; AsnWriter does that when the set is popped.
        using (writer.PushSetOf())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Oids.ContentType);
                using (writer.PushSetOf())
                {
                    writer.WriteObjectIdentifier(Oids.TstInfo);
                }
            }

            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Oids.MessageDigest);
                using (writer.PushSetOf())
                {
                    writer.WriteOctetString(_signer.DigestAlgorithm.Hash(tstInfo));
                }
            }

            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Oids.SigningTime);
                using (writer.PushSetOf())
                {
                    // RFC 5652 §11.3: UTCTime for 1950-2049, GeneralizedTime otherwise.
                    if (genTime.Year < 2050)
                    {
                        writer.WriteUtcTime(genTime);
                    }
                    else
                    {
                        writer.WriteGeneralizedTime(genTime, omitFractionalSeconds: true);
                    }
                }
            }

            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(Oids.SigningCertificateV2);
                using (writer.PushSetOf())
                using (writer.PushSequence()) // SigningCertificateV2
                using (writer.PushSequence()) // certs SEQUENCE OF ESSCertIDv2
                using (writer.PushSequence()) // ESSCertIDv2
                {
                    // Hashed with the request's algorithm, as sigstore/timestamp-authority does; the
                    // AlgorithmIdentifier DEFAULTs to SHA-256, so DER omits it then (RFC 5035).
                    if (requestHash != TimestampHashAlgorithm.Sha256)
                    {
                        WriteAlgorithmIdentifier(writer, requestHash.Oid, nullParameters: false);
                    }

                    writer.WriteOctetString(requestHash.Hash(Certificate.RawData));
                    using (writer.PushSequence()) // IssuerSerial
                    {
                        using (writer.PushSequence()) // GeneralNames
                        using (writer.PushSequence(DirectoryName))
                        {
                            writer.WriteEncodedValue(Certificate.IssuerName.RawData);
                        }

                        writer.WriteEncodedValue(_signerSerialNumber);
                    }
                }
            }
        }

        return writer.Encode();
    }

    private byte[] EncodeResponse(byte[] tstInfo, byte[] signedAttributes, byte[] signature, bool includeCertificates)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence()) // TimeStampResp
        {
            using (writer.PushSequence()) // PKIStatusInfo
            {
                writer.WriteInteger(0); // granted
            }

            using (writer.PushSequence()) // ContentInfo
            {
                writer.WriteObjectIdentifier(Oids.SignedData);
                using (writer.PushSequence(Context0)) // [0] EXPLICIT
                using (writer.PushSequence()) // SignedData
                {
                    writer.WriteInteger(3);
                    using (writer.PushSetOf())
                    {
                        WriteAlgorithmIdentifier(writer, _signer.DigestAlgorithm.Oid, nullParameters: false);
                    }

                    using (writer.PushSequence()) // EncapsulatedContentInfo
                    {
                        writer.WriteObjectIdentifier(Oids.TstInfo);
                        using (writer.PushSequence(Context0)) // eContent [0] EXPLICIT
                        {
                            writer.WriteOctetString(tstInfo); // primitive under DER
                        }
                    }

                    if (includeCertificates)
                    {
                        using (writer.PushSetOf(Context0)) // certificates [0] IMPLICIT CertificateSet
                        {
                            var count = _options.IncludeChainInResponse ? _signer.Chain.Count : 1;
                            for (var i = 0; i < count; i++)
                            {
                                writer.WriteEncodedValue(_signer.Chain[i].RawData);
                            }
                        }
                    }

                    using (writer.PushSetOf()) // SignerInfos
                    using (writer.PushSequence()) // SignerInfo
                    {
                        writer.WriteInteger(1); // v1: sid is IssuerAndSerialNumber
                        writer.WriteEncodedValue(_issuerAndSerialNumber);
                        WriteAlgorithmIdentifier(writer, _signer.DigestAlgorithm.Oid, nullParameters: false);

                        // signedAttrs [0] IMPLICIT: the same bytes that were signed, re-tagged from SET to [0].
                        var implicitAttributes = signedAttributes.AsSpan().ToArray();
                        implicitAttributes[0] = 0xA0;
                        writer.WriteEncodedValue(implicitAttributes);

                        writer.WriteEncodedValue(_signer.SignatureAlgorithm.Span);
                        writer.WriteOctetString(signature);
                    }
                }
            }
        }

        return writer.Encode();
    }

    private static void WriteAlgorithmIdentifier(AsnWriter writer, string oid, bool nullParameters)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(oid);
            if (nullParameters)
            {
                writer.WriteNull();
            }
        }
    }
}
