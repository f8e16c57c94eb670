using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using TransparencyLog.CaService.Fulcio;

namespace TransparencyLog.CaService.Api;

/// <summary>
/// Fulcio's REST JSON rules (grpc-gateway defaults): input in camelCase or proto names with unknown fields and
/// unknown enum names ignored; output in camelCase with unpopulated fields emitted, bytes as standard base64.
/// </summary>
internal static class ProtoJson
{
    private const int MaxDepth = 16;

    private static readonly JsonParser _parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true).WithRecursionLimit(MaxDepth));
    private static readonly JsonFormatter _formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    /// <summary>Parses the UTF-8 JSON <paramref name="utf8Json"/>; throws <see cref="InvalidProtocolBufferException"/>,
    /// <see cref="InvalidJsonException"/> or <see cref="JsonException"/> (also for bytes that are not UTF-8) when it is
    /// not a valid message.</summary>
    /// <remarks>Read from the bytes as they arrived: decoding them to a string first was one more pass and one more
    /// copy of the body per request, and System.Text.Json validates the UTF-8 itself.</remarks>
    public static T Parse<T>(ReadOnlySpan<byte> utf8Json)
        where T : IMessage<T>, new()
    {
        var descriptor = new T().Descriptor;
        // The reader checks structure, not the UTF-8 inside strings: JsonObject would throw InvalidOperationException on
        // first access to a name or value that is not valid UTF-8 (found by fuzzing: the CA answered 500).
        if (!System.Text.Unicode.Utf8.IsValid(utf8Json))
        {
            throw new JsonException("the request body is not valid UTF-8");
        }

        var node = JsonNode.Parse(utf8Json, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth });
        if (node is not JsonObject root)
        {
            throw new JsonException("the request body is not a JSON object");
        }

        string json;
        try
        {
            // Google.Protobuf rejects an unknown enum name even when ignoring unknown fields, while grpc-gateway drops
            // it: sigstore-go sends "algorithm":"RSA", which is not a PublicKeyAlgorithm name.
            DropUnknownEnumNames(root, descriptor);
            json = root.ToJsonString();
        }
        catch (ArgumentException)
        {
            // JsonObject materializes its members on first access and throws on a repeated name (found by fuzzing:
            // the CA answered 500). A repeated member is malformed JSON for a protobuf message.
            throw new JsonException("the request body repeats a member name");
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate ("\ud800") is valid JSON that no string can hold.
            throw new JsonException("the request body has a string that is not valid Unicode");
        }

        return _parser.Parse<T>(json);
    }

    public static string Format(IMessage message) => _formatter.Format(message);

    /// <summary>
    /// Writes <paramref name="certificate"/> as <see cref="Format"/> does (the same members, names and values; the
    /// whitespace and the escaping of <c>+</c> may differ, both valid JSON), as UTF-8 straight into
    /// <paramref name="output"/>. The answer to every issuance: Google.Protobuf's formatter walks the descriptors by
    /// reflection and escapes the PEM character by character into a string that is then encoded again.
    /// </summary>
    public static void WriteSigningCertificate(IBufferWriter<byte> output, SigningCertificate certificate)
    {
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        switch (certificate.CertificateCase)
        {
            case SigningCertificate.CertificateOneofCase.SignedCertificateEmbeddedSct:
                writer.WriteStartObject("signedCertificateEmbeddedSct"u8);
                WriteChain(writer, certificate.SignedCertificateEmbeddedSct.Chain);
                writer.WriteEndObject();
                break;
            case SigningCertificate.CertificateOneofCase.SignedCertificateDetachedSct:
                var detached = certificate.SignedCertificateDetachedSct;
                writer.WriteStartObject("signedCertificateDetachedSct"u8);
                WriteChain(writer, detached.Chain);
                // proto3 bytes without presence: written even when empty, as FormatDefaultValues does.
                writer.WriteBase64String("signedCertificateTimestamp"u8, detached.SignedCertificateTimestamp.Span);
                writer.WriteEndObject();
                break;
        }

        writer.WriteEndObject();
    }

    private static void WriteChain(Utf8JsonWriter writer, CertificateChain? chain)
    {
        // A message field has presence: an unset chain is left out, as the protobuf formatter does.
        if (chain is null)
        {
            return;
        }

        writer.WriteStartObject("chain"u8);
        writer.WriteStartArray("certificates"u8);
        foreach (var pem in chain.Certificates)
        {
            writer.WriteStringValue(pem);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void DropUnknownEnumNames(JsonObject json, MessageDescriptor descriptor)
    {
        foreach (var field in descriptor.Fields.InDeclarationOrder())
        {
            foreach (var name in new[] { field.JsonName, field.Name }.Distinct(StringComparer.Ordinal))
            {
                if (!json.TryGetPropertyValue(name, out var value) || value is null)
                {
                    continue;
                }

                if (field.FieldType == FieldType.Enum && !field.IsRepeated && value is JsonValue enumValue
                    && enumValue.TryGetValue<string>(out var enumName) && field.EnumType.FindValueByName(enumName) is null)
                {
                    json.Remove(name);
                }
                else if (field.FieldType == FieldType.Message && !field.IsRepeated && !field.IsMap && value is JsonObject nested)
                {
                    DropUnknownEnumNames(nested, field.MessageType);
                }
            }
        }
    }
}
