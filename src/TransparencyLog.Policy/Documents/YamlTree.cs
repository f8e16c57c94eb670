using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TransparencyLog.Policy.Documents;

/// <summary>
/// YAML documents as JSON trees (scalars stay strings, as Kubernetes reads quoted and unquoted values alike for the
/// string fields policies have), so every later check reads one shape whatever the source was.
/// </summary>
internal static class YamlTree
{
    public const int MaxDocuments = 256;
    public const int MaxDepth = 64;

    /// <exception cref="PolicyLoadException">Not YAML, too many documents, too deep, or aliases.</exception>
    public static IReadOnlyList<JsonObject> Parse(string text, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new PolicyLoadException(source, $"line {ex.Start.Line}", $"not valid YAML: {ex.Message}");
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet throws these (not a YamlException) on some malformed scalars and event sequences (found by fuzzing).
            throw new PolicyLoadException(source, string.Empty, "not valid YAML");
        }

        if (stream.Documents.Count > MaxDocuments)
        {
            throw new PolicyLoadException(source, string.Empty, $"more than {MaxDocuments} documents");
        }

        var documents = new List<JsonObject>();
        foreach (var document in stream.Documents)
        {
            if (document.RootNode is YamlScalarNode { Value: null or "" } || document.RootNode is null)
            {
                continue;
            }

            documents.Add(Convert(document.RootNode, source, "", 0) as JsonObject
                ?? throw new PolicyLoadException(source, string.Empty, "a document must be a mapping (apiVersion, kind, metadata, spec)"));
        }

        return documents;
    }

    private static JsonNode? Convert(YamlNode node, string source, string path, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new PolicyLoadException(source, path, $"nested deeper than {MaxDepth} levels");
        }

        switch (node)
        {
            case YamlMappingNode mapping:
                var obj = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    var name = (key as YamlScalarNode)?.Value ?? throw new PolicyLoadException(source, path, "mapping keys must be scalars");
                    if (obj.ContainsKey(name))
                    {
                        throw new PolicyLoadException(source, Join(path, name), "the key appears twice");
                    }

                    obj[name] = Convert(value, source, Join(path, name), depth + 1);
                }

                return obj;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                var i = 0;
                foreach (var item in sequence.Children)
                {
                    array.Add(Convert(item, source, $"{path}[{i++}]", depth + 1));
                }

                return array;
            case YamlScalarNode scalar:
                if (scalar.Style == ScalarStyle.Plain && scalar.Value is null or "~" or "null" or "")
                {
                    return null;
                }

                return JsonValue.Create(scalar.Value ?? string.Empty);
            default:
                throw new PolicyLoadException(source, path, "aliases are not supported");
        }
    }

    public static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
}
