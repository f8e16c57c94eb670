using System.Formats.Asn1;
using System.Numerics;
using System.Text.Json;
using TransparencyLog.Sigstore.Json;

namespace TransparencyLog.LogService.Timestamping;

/// <summary>
/// Reads the two request forms: the RFC 3161 DER <c>TimeStampReq</c> and the JSON object of sigstore/timestamp-authority
/// (what sigstore-js sends). Both end in the same <see cref="TimestampRequest"/> with the same checks.
/// </summary>
internal static class TimestampRequestReader
{
    /// <summary>Nonces are bounded so that an echoed nonce cannot inflate tokens; 160 bits is ample for uniqueness.</summary>
    public const int MaxNonceBits = 160;

    // 2^160 has 49 decimal digits: longer JSON numbers are rejected before any big-number parsing (TSA #1402).
    private const int MaxNonceDecimalDigits = 49;

    private static readonly Asn1Tag ExtensionsTag = new(TagClass.ContextSpecific, 0, isConstructed: true);

    /// <summary>Reads a DER TimeStampReq; any encoding error, trailing byte or unsupported feature is refused.</summary>
    public static TimestampRequest ReadDer(ReadOnlyMemory<byte> der)
    {
        try
        {
            var outer = new AsnReader(der, AsnEncodingRules.DER);
            var request = outer.ReadSequence();
            if (outer.HasData)
            {
                throw new TimestampRequestException("malformed TimeStampReq: trailing data after the request");
            }

            // TimeStampReq ::= SEQUENCE { version, messageImprint, reqPolicy OPTIONAL, nonce OPTIONAL,
            //                             certReq BOOLEAN DEFAULT FALSE, extensions [0] IMPLICIT OPTIONAL }
            if (!request.TryReadInt32(out var version) || version != 1)
            {
                throw new TimestampRequestException("unsupported TimeStampReq version: only v1 is accepted");
            }

            var imprint = request.ReadSequence();
            var algorithm = imprint.ReadSequence();
            var hashAlgorithm = TimestampHashAlgorithm.FromOid(
                ReadOid(algorithm) ?? throw new TimestampRequestException("unsupported hash algorithm"));
            var nullParameters = false;
            if (algorithm.HasData && algorithm.PeekTag().HasSameClassAndValue(Asn1Tag.Null))
            {
                algorithm.ReadNull();
                nullParameters = true;
            }

            if (algorithm.HasData)
            {
                throw new TimestampRequestException("malformed TimeStampReq: unexpected hash algorithm parameters");
            }

            var hashedMessage = imprint.ReadOctetString();
            if (imprint.HasData)
            {
                throw new TimestampRequestException("malformed TimeStampReq: unexpected data in messageImprint");
            }

            CheckDigestLength(hashAlgorithm, hashedMessage.Length);

            string? policy = null;
            if (request.HasData && request.PeekTag().HasSameClassAndValue(Asn1Tag.ObjectIdentifier))
            {
                policy = ReadOid(request)
                    ?? throw new TimestampRequestException("requested policy is not accepted by this timestamp authority");
            }

            ReadOnlyMemory<byte>? nonce = null;
            if (request.HasData && request.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
            {
                nonce = CheckNonce(request.ReadIntegerBytes());
            }

            var certificateRequested = false;
            if (request.HasData && request.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean))
            {
                certificateRequested = request.ReadBoolean();
            }

            if (request.HasData && request.PeekTag().HasSameClassAndValue(ExtensionsTag))
            {
                throw new TimestampRequestException("request extensions are not supported");
            }

            if (request.HasData)
            {
                throw new TimestampRequestException("malformed TimeStampReq: unexpected field");
            }

            return new TimestampRequest(hashAlgorithm, nullParameters, hashedMessage, policy, nonce, certificateRequested);
        }
        catch (AsnContentException)
        {
            throw new TimestampRequestException("malformed TimeStampReq: not valid DER");
        }
    }

    /// <summary>
    /// Reads <c>{"artifactHash": b64, "hashAlgorithm": "sha256", "certificates": bool, "nonce": int, "tsaPolicyOID": "1.2.3"}</c>.
    /// The caller has already bounded the body length. Unknown properties are ignored, as Go's decoder does.
    /// </summary>
    public static TimestampRequest ReadJson(ReadOnlyMemory<byte> json)
    {
        JsonDocument document;
        try
        {
            document = JsonInput.Parse(json, new JsonDocumentOptions { MaxDepth = 4 });
        }
        catch (NotUtf8JsonException)
        {
            throw new TimestampRequestException("malformed JSON request: not UTF-8");
        }
        catch (JsonException)
        {
            throw new TimestampRequestException("malformed JSON request");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new TimestampRequestException("malformed JSON request: expected an object");
            }

            JsonElement? artifactHash = null, hashAlgorithmName = null, certificates = null, nonceElement = null, policyElement = null;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                // Go's encoding/json matches field names case-insensitively; so do we.
                switch (property.Name.ToLowerInvariant())
                {
                    case "artifacthash":
                        Assign(ref artifactHash, property);
                        break;
                    case "hashalgorithm":
                        Assign(ref hashAlgorithmName, property);
                        break;
                    case "certificates":
                        Assign(ref certificates, property);
                        break;
                    case "nonce":
                        Assign(ref nonceElement, property);
                        break;
                    case "tsapolicyoid":
                        Assign(ref policyElement, property);
                        break;
                    default:
                        break;
                }
            }

            if (hashAlgorithmName is not { ValueKind: JsonValueKind.String } algorithmValue)
            {
                throw new TimestampRequestException("hashAlgorithm is required and must be a string");
            }

            var hashAlgorithm = TimestampHashAlgorithm.FromName(algorithmValue.GetString() ?? string.Empty);

            if (artifactHash is not { ValueKind: JsonValueKind.String } hashValue)
            {
                throw new TimestampRequestException("artifactHash is required and must be a base64 string");
            }

            var encodedHash = hashValue.GetString() ?? string.Empty;
            var hashedMessage = new byte[(encodedHash.Length / 4 * 3) + 3];
            if (!Convert.TryFromBase64String(encodedHash, hashedMessage, out var hashLength))
            {
                throw new TimestampRequestException("artifactHash is not valid base64");
            }

            CheckDigestLength(hashAlgorithm, hashLength);

            var certificateRequested = certificates switch
            {
                null or { ValueKind: JsonValueKind.Null } => false,
                { ValueKind: JsonValueKind.True } => true,
                { ValueKind: JsonValueKind.False } => false,
                _ => throw new TimestampRequestException("certificates must be a boolean"),
            };

            ReadOnlyMemory<byte>? nonce = null;
            if (nonceElement is { ValueKind: not JsonValueKind.Null } nonceValue)
            {
                nonce = ReadJsonNonce(nonceValue);
            }

            string? policy = null;
            if (policyElement is { ValueKind: not JsonValueKind.Null } policyValue)
            {
                if (policyValue.ValueKind != JsonValueKind.String)
                {
                    throw new TimestampRequestException("tsaPolicyOID must be a string");
                }

                policy = policyValue.GetString() ?? string.Empty;
                if (Oids.ValidatePolicy(policy) is { } problem)
                {
                    throw new TimestampRequestException(problem);
                }
            }

            // Same NULL parameters that `openssl ts -query` writes, and what sigstore/timestamp-authority emits.
            return new TimestampRequest(hashAlgorithm, HashParametersNull: true, hashedMessage.AsMemory(0, hashLength), policy, nonce, certificateRequested);
        }
    }

    private static void Assign(ref JsonElement? slot, JsonProperty property)
    {
        if (slot is not null)
        {
            throw new TimestampRequestException("malformed JSON request: duplicate property");
        }

        slot = property.Value;
    }

    /// <summary>
    /// Reads an OID after bounding it: at most <see cref="Oids.MaxEncodedOidBytes"/> content bytes and
    /// <see cref="Oids.MaxPolicyArcs"/> arcs, counted on the encoding before any decoding. Returns null for a
    /// well-formed OID beyond what <see cref="AsnReader"/> decodes (more than 64 arcs or 128-bit arcs): such an OID
    /// matches no configured one, which the options validator keeps decodable.
    /// </summary>
    private static string? ReadOid(AsnReader reader)
    {
        var content = reader.PeekContentBytes().Span;
        if (content.Length > Oids.MaxEncodedOidBytes)
        {
            throw new TimestampRequestException("object identifier is too long");
        }

        // Each subidentifier ends with a byte whose top bit is clear; the first subidentifier holds two arcs.
        var subidentifiers = 0;
        for (var i = 0; i < content.Length; i++)
        {
            var startsSubidentifier = i == 0 || (content[i - 1] & 0x80) == 0;
            if (startsSubidentifier && content[i] == 0x80)
            {
                throw new TimestampRequestException("malformed TimeStampReq: object identifier is not minimally encoded");
            }

            if ((content[i] & 0x80) == 0)
            {
                subidentifiers++;
            }
        }

        if (content.IsEmpty || (content[^1] & 0x80) != 0)
        {
            throw new TimestampRequestException("malformed TimeStampReq: truncated object identifier");
        }

        if (subidentifiers + 1 > Oids.MaxPolicyArcs)
        {
            throw new TimestampRequestException($"object identifier has more than {Oids.MaxPolicyArcs} arcs");
        }

        try
        {
            return reader.ReadObjectIdentifier();
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    private static void CheckDigestLength(TimestampHashAlgorithm algorithm, int length)
    {
        if (length != algorithm.DigestSize)
        {
            throw new TimestampRequestException(
                $"message imprint length {length} does not match {algorithm.Name} ({algorithm.DigestSize} bytes)");
        }
    }

    private static ReadOnlyMemory<byte> CheckNonce(ReadOnlyMemory<byte> integer)
    {
        // DER INTEGER content is minimal two's complement, so the sign is the top bit of the first byte and zero is
        // the single byte 0x00.
        var bytes = integer.Span;
        if ((bytes[0] & 0x80) != 0 || (bytes.Length == 1 && bytes[0] == 0))
        {
            throw new TimestampRequestException("nonce must be a positive integer");
        }

        var magnitude = bytes[0] == 0 ? bytes[1..] : bytes;
        if (magnitude.Length * 8 > MaxNonceBits)
        {
            throw new TimestampRequestException($"nonce is larger than {MaxNonceBits} bits");
        }

        return integer;
    }

    private static ReadOnlyMemory<byte> ReadJsonNonce(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Number)
        {
            throw new TimestampRequestException("nonce must be a positive integer");
        }

        var text = element.GetRawText();
        if (text.Length > MaxNonceDecimalDigits)
        {
            throw new TimestampRequestException($"nonce is larger than {MaxNonceBits} bits");
        }

        foreach (var c in text)
        {
            if (c is < '0' or > '9')
            {
                throw new TimestampRequestException("nonce must be a positive integer");
            }
        }

        var value = BigInteger.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        if (value.IsZero)
        {
            throw new TimestampRequestException("nonce must be a positive integer");
        }

        if (value.GetBitLength() > MaxNonceBits)
        {
            throw new TimestampRequestException($"nonce is larger than {MaxNonceBits} bits");
        }

        return value.ToByteArray(isUnsigned: false, isBigEndian: true);
    }
}
