using System.Text.Json.Nodes;

namespace TransparencyLog.Policy.Documents;

/// <summary>
/// Tells the InvalidOperationException that <see cref="JsonNode"/>'s indexers throw for a node of another kind (a
/// mapping, list or scalar where the reader indexes another) from any other InvalidOperationException. The readers
/// index documents and reviews in hundreds of places, so the error is caught once around them, and recognised by its
/// message as System.Text.Json produces it in this process (the wrong-kind messages for an object and an array
/// indexer, obtained once by provoking them): no reflection, so it holds under Native AOT, where
/// <see cref="Exception.TargetSite"/> is null.
/// </summary>
internal static class JsonNodeTypeError
{
    private static readonly string[] s_messages = [Provoke(static () => _ = JsonValue.Create(0)["key"]), Provoke(static () => _ = JsonValue.Create(0)[0])];

    /// <summary>Whether <paramref name="exception"/> is JsonNode's refusal to index a node of another kind.</summary>
    public static bool Is(InvalidOperationException exception) =>
        exception.GetType() == typeof(InvalidOperationException) && Array.IndexOf(s_messages, exception.Message) >= 0;

    private static string Provoke(Action index)
    {
        try
        {
            index();
        }
        catch (InvalidOperationException ex)
        {
            return ex.Message;
        }

        throw new InvalidOperationException("JsonNode indexed a scalar without refusing; the policy readers rely on that refusal");
    }
}
