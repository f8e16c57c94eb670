using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using TransparencyLog.CaService.Fulcio;

namespace TransparencyLog.CaService.Api;

/// <summary>
/// Reads the REST body of an issuance request, <see cref="CreateSigningCertificateRequest"/>, in one pass over its
/// UTF-8 bytes, as every sigstore client sends it: known members only (camelCase or proto names), each once, strings
/// for strings, standard base64 for bytes, known enum names. Anything else is left to <see cref="ProtoJson.Parse{T}"/>,
/// whose grpc-gateway rules (unknown members and enum names ignored, nulls, numbers for enums, the errors) stay the
/// one definition of what the API accepts: this reader returns null rather than decide any of those cases.
/// </summary>
/// <remarks>
/// The general parse builds a <c>JsonNode</c> tree, writes it back to a string and parses that string again with
/// Google.Protobuf's reflection-driven parser: three passes and ~15 KB allocated per request. Whatever this reader
/// accepts, the general parse yields an equal message (<c>SigningRequestReaderTests</c> compares the two).
/// </remarks>
internal static class SigningRequestReader
{
    private static readonly EnumDescriptor _algorithms =
        PublicKey.Descriptor.FindFieldByNumber(PublicKey.AlgorithmFieldNumber).EnumType;

    /// <summary>The request, or null when the body is outside the plain shape (the general parse then decides).</summary>
    public static CreateSigningCertificateRequest? TryRead(ReadOnlySpan<byte> utf8Json)
    {
        // The reader checks the UTF-8 of what it unescapes, not of every byte; the general parse reports bad UTF-8.
        if (!System.Text.Unicode.Utf8.IsValid(utf8Json))
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = 8 });
            var request = new CreateSigningCertificateRequest();
            if (!reader.Read() || !ReadRequest(ref reader, request))
            {
                return null;
            }

            // Only whitespace may follow the object (the reader throws on a second value).
            return reader.Read() ? null : request;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            // Malformed JSON, a string no .NET string can hold (a lone surrogate): the general parse says why.
            return null;
        }
    }

    private static bool ReadRequest(ref Utf8JsonReader reader, CreateSigningCertificateRequest request)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        bool credentials = false, key = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("credentials"u8))
            {
                if (credentials || !reader.Read())
                {
                    return false;
                }

                credentials = true;
                request.Credentials = new Credentials();
                if (!ReadCredentials(ref reader, request.Credentials))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("publicKeyRequest"u8) || reader.ValueTextEquals("public_key_request"u8))
            {
                // A second member of the oneof (or the same member twice) is the general parse's error to report.
                if (key || !reader.Read())
                {
                    return false;
                }

                key = true;
                request.PublicKeyRequest = new PublicKeyRequest();
                if (!ReadPublicKeyRequest(ref reader, request.PublicKeyRequest))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("certificateSigningRequest"u8) || reader.ValueTextEquals("certificate_signing_request"u8))
            {
                if (key || !reader.Read() || !TryReadBytes(ref reader, out var csr))
                {
                    return false;
                }

                key = true;
                request.CertificateSigningRequest = csr;
            }
            else
            {
                return false;
            }
        }

        return reader.TokenType == JsonTokenType.EndObject;
    }

    private static bool ReadCredentials(ref Utf8JsonReader reader, Credentials credentials)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        var token = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (token || !(reader.ValueTextEquals("oidcIdentityToken"u8) || reader.ValueTextEquals("oidc_identity_token"u8))
                || !reader.Read() || reader.TokenType != JsonTokenType.String)
            {
                return false;
            }

            token = true;
            credentials.OidcIdentityToken = reader.GetString()!;
        }

        return reader.TokenType == JsonTokenType.EndObject;
    }

    private static bool ReadPublicKeyRequest(ref Utf8JsonReader reader, PublicKeyRequest request)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        bool publicKey = false, proof = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("publicKey"u8) || reader.ValueTextEquals("public_key"u8))
            {
                if (publicKey || !reader.Read())
                {
                    return false;
                }

                publicKey = true;
                request.PublicKey = new PublicKey();
                if (!ReadPublicKey(ref reader, request.PublicKey))
                {
                    return false;
                }
            }
            else if (reader.ValueTextEquals("proofOfPossession"u8) || reader.ValueTextEquals("proof_of_possession"u8))
            {
                if (proof || !reader.Read() || !TryReadBytes(ref reader, out var value))
                {
                    return false;
                }

                proof = true;
                request.ProofOfPossession = value;
            }
            else
            {
                return false;
            }
        }

        return reader.TokenType == JsonTokenType.EndObject;
    }

    private static bool ReadPublicKey(ref Utf8JsonReader reader, PublicKey key)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        bool algorithm = false, content = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("algorithm"u8))
            {
                // A number, or a name this build does not know (grpc-gateway drops it), is the general parse's case.
                if (algorithm || !reader.Read() || reader.TokenType != JsonTokenType.String
                    || _algorithms.FindValueByName(reader.GetString()) is not { } value)
                {
                    return false;
                }

                algorithm = true;
                key.Algorithm = (PublicKeyAlgorithm)value.Number;
            }
            else if (reader.ValueTextEquals("content"u8))
            {
                if (content || !reader.Read() || reader.TokenType != JsonTokenType.String)
                {
                    return false;
                }

                content = true;
                key.Content = reader.GetString()!;
            }
            else
            {
                return false;
            }
        }

        return reader.TokenType == JsonTokenType.EndObject;
    }

    /// <summary>
    /// Standard base64 only; the general parse decides on any other spelling. JSON escapes are undone first: .NET's
    /// default JSON encoder writes '+' as <c>\u002B</c> (and some writers '/' as <c>\/</c>), so a proof of possession
    /// from a .NET client is escaped about four times in five; what the escapes spell is what the general parse decodes.
    /// </summary>
    private static bool TryReadBytes(ref Utf8JsonReader reader, out ByteString value)
    {
        value = ByteString.Empty;
        if (reader.TokenType != JsonTokenType.String)
        {
            return false;
        }

        // Unescaped text is never longer than its escaped form; it is decoded where it lies.
        var bytes = new byte[reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length];
        var length = reader.CopyString(bytes);
        if (System.Buffers.Text.Base64.DecodeFromUtf8InPlace(bytes.AsSpan(0, length), out var written) != System.Buffers.OperationStatus.Done)
        {
            return false;
        }

        value = UnsafeByteOperations.UnsafeWrap(bytes.AsMemory(0, written));
        return true;
    }
}
