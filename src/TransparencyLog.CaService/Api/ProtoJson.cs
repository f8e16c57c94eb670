using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Reflection;

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

    /// <summary>Parses <paramref name="json"/>; throws <see cref="InvalidProtocolBufferException"/>,
    /// <see cref="InvalidJsonException"/> or <see cref="JsonException"/> when it is not a valid message.</summary>
    public static T Parse<T>(string json)
        where T : IMessage<T>, new()
    {
        var descriptor = new T().Descriptor;
        var node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth });
        if (node is not JsonObject root)
        {
            throw new JsonException("the request body is not a JSON object");
        }

        try
        {
            // Google.Protobuf rejects an unknown enum name even when ignoring unknown fields, while grpc-gateway drops
            // it: sigstore-go sends "algorithm":"RSA", which is not a PublicKeyAlgorithm name.
            DropUnknownEnumNames(root, descriptor);
        }
        catch (ArgumentException)
        {
            // JsonObject materializes its members on first access and throws on a repeated name (found by fuzzing:
            // the CA answered 500). A repeated member is malformed JSON for a protobuf message.
            throw new JsonException("the request body repeats a member name");
        }

        return _parser.Parse<T>(root.ToJsonString());
    }

    public static string Format(IMessage message) => _formatter.Format(message);

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
