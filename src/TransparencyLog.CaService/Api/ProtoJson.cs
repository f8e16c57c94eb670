using Google.Protobuf;

namespace TransparencyLog.CaService.Api;

/// <summary>
/// Fulcio's REST JSON rules (grpc-gateway defaults): input in camelCase or proto names with unknown fields and
/// unknown enum names ignored; output in camelCase with unpopulated fields emitted, bytes as standard base64.
/// </summary>
internal static class ProtoJson
{
    private static readonly JsonParser _parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true).WithRecursionLimit(16));
    private static readonly JsonFormatter _formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    public static T Parse<T>(string json)
        where T : IMessage, new() => _parser.Parse<T>(json);

    public static string Format(IMessage message) => _formatter.Format(message);
}
