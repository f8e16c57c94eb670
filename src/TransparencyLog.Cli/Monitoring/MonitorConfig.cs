using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using TransparencyLog.Cli.Hosting;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>
/// A rekor-monitor configuration (its YAML keys, unchanged), plus our <c>alerts</c> section. Keys this monitor does
/// not act on (<c>outputIdentitiesFormat</c>, <c>caRootsFile</c>, <c>ctShards</c>, the e-mail and GitHub outputs, ...)
/// are accepted and ignored, so an existing file loads as is. Properties with a default have setters, not init: the
/// JSON source generator (<see cref="MonitorConfigJsonContext"/>) builds a type with init-only properties through an
/// object initializer that sets every one of them, so a key missing from the file would be null instead of its default.
/// </summary>
internal sealed record MonitorConfig
{
    public const int MaxFileBytes = 1024 * 1024;

    public long? StartIndex { get; init; }

    public long? EndIndex { get; init; }

    public MonitoredValues MonitoredValues { get; set; } = new();

    /// <summary>rekor-monitor's file of found identities; we append the same JSON lines we print.</summary>
    public string? OutputIdentities { get; init; }

    /// <summary>rekor-monitor's checkpoint file; used as the state file when <c>--state</c> is not given.</summary>
    public string? LogInfoFile { get; init; }

    public AlertsConfig Alerts { get; set; } = new();

    public bool WatchesAnything => MonitoredValues.CertIdentities.Count + MonitoredValues.Subjects.Values.Count + MonitoredValues.Fingerprints.Values.Count
        + MonitoredValues.Oids.FulcioExtensions.Count + MonitoredValues.Oids.OidExtensions.Count + MonitoredValues.Oids.CustomExtensions.Count > 0;

    /// <summary>Parses YAML (JSON is YAML too); a clear usage error for anything malformed.</summary>
    public static MonitorConfig Parse(string yaml, string source)
    {
        JsonNode? tree;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            tree = stream.Documents.Count == 0 ? new JsonObject() : ToJson(stream.Documents[0].RootNode, 0);
        }
        catch (YamlException ex)
        {
            throw new CliException(ExitCodes.Usage, $"{source} is not valid YAML: {ex.Message}");
        }

        if (tree is not JsonObject root)
        {
            throw new CliException(ExitCodes.Usage, $"{source} must be a YAML mapping");
        }

        // rekor-monitor's older examples put the matchers beside monitoredValues' lists; both shapes mean the same.
        if (root["monitoredValues"] is JsonObject values)
        {
            foreach (var key in new[] { "fulcioExtensions", "oidExtensions", "customExtensions" })
            {
                if (values[key] is { } node)
                {
                    values.Remove(key);
                    var matchers = values["oidMatchers"] as JsonObject ?? [];
                    values["oidMatchers"] = matchers;
                    matchers[key] ??= node;
                }
            }
        }

        try
        {
            var config = root.Deserialize(MonitorConfigJsonContext.Default.MonitorConfig) ?? new MonitorConfig();
            config.Validate(source);
            return config;
        }
        catch (JsonException ex)
        {
            throw new CliException(ExitCodes.Usage, $"{source}: {ex.Path ?? "a value"} has the wrong type");
        }
    }

    private void Validate(string source)
    {
        if (StartIndex < 0 || EndIndex < 0 || (StartIndex is { } start && EndIndex is { } end && end < start))
        {
            throw new CliException(ExitCodes.Usage, $"{source}: need 0 <= startIndex <= endIndex");
        }

        foreach (var webhook in Alerts.Webhooks)
        {
            if (!Uri.TryCreate(webhook.Url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new CliException(ExitCodes.Usage, $"{source}: webhook url '{webhook.Url}' is not an http(s) URL");
            }
        }
    }

    /// <summary>YAML to JSON: scalars that read as integers or booleans become numbers and booleans unless quoted.</summary>
    private static JsonNode? ToJson(YamlNode node, int depth)
    {
        if (depth > 32)
        {
            throw new CliException(ExitCodes.Usage, "the configuration is nested too deeply");
        }

        switch (node)
        {
            case YamlMappingNode mapping:
                var obj = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    obj[((YamlScalarNode)key).Value ?? ""] = ToJson(value, depth + 1);
                }

                return obj;
            case YamlSequenceNode sequence:
                return new JsonArray([.. sequence.Children.Select(c => ToJson(c, depth + 1))]);
            case YamlScalarNode scalar:
                var text = scalar.Value ?? "";
                if (scalar.Style is ScalarStyle.Plain)
                {
                    if (text is "" or "~" or "null")
                    {
                        return null;
                    }

                    if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                    {
                        return number;
                    }

                    if (text is "true" or "false")
                    {
                        return text == "true";
                    }
                }

                return text;
            default:
                return null;
        }
    }
}

/// <summary>rekor-monitor's <c>monitoredValues</c>.</summary>
internal sealed record MonitoredValues
{
    public List<CertIdentity> CertIdentities { get; set; } = [];

    public StringList Subjects { get; set; } = new([]);

    public StringList Fingerprints { get; set; } = new([]);

    [JsonPropertyName("oidMatchers")]
    public OidMatchers Oids { get; set; } = new();
}

/// <summary>A certificate identity: a SAN regex and, optionally, regexes of the issuers it must come from.</summary>
internal sealed record CertIdentity
{
    public string CertSubject { get; set; } = "";

    public List<string> Issuers { get; set; } = [];
}

internal sealed record OidMatchers
{
    /// <summary>Fulcio extensions by rekor-monitor's names (<c>build-signer-uri</c>, ...), exact values.</summary>
    public Dictionary<string, StringList> FulcioExtensions { get; set; } = [];

    /// <summary>OIDs as integer arrays.</summary>
    public List<OidExtension> OidExtensions { get; set; } = [];

    /// <summary>OIDs in dotted notation.</summary>
    public List<CustomExtension> CustomExtensions { get; set; } = [];
}

internal sealed record OidExtension
{
    public List<int> ObjectIdentifier { get; set; } = [];

    public StringList ExtensionValues { get; set; } = new([]);
}

internal sealed record CustomExtension
{
    public string ObjectIdentifier { get; set; } = "";

    public StringList ExtensionValues { get; set; } = new([]);
}

/// <summary>Our addition: where match and log events go besides stdout.</summary>
internal sealed record AlertsConfig
{
    public List<WebhookConfig> Webhooks { get; set; } = [];
}

/// <summary>A webhook; <see cref="SecretEnv"/> names the environment variable holding its HMAC key.</summary>
internal sealed record WebhookConfig
{
    public string Url { get; set; } = "";

    public string? SecretEnv { get; init; }
}

/// <summary>One string or a list of strings (rekor-monitor's examples use both for <c>extensionValues</c>).</summary>
[JsonConverter(typeof(StringListConverter))]
internal sealed record StringList(IReadOnlyList<string> Values);

internal sealed class StringListConverter : JsonConverter<StringList>
{
    public override StringList Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return new StringList([reader.GetString() ?? ""]);
        }

        if (reader.TokenType == JsonTokenType.Number)
        {
            return new StringList([reader.GetInt64().ToString(CultureInfo.InvariantCulture)]);
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("expected a string or a list of strings");
        }

        var values = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            values.Add(reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString() ?? "",
                JsonTokenType.Number => reader.GetInt64().ToString(CultureInfo.InvariantCulture),
                _ => throw new JsonException("expected a string"),
            });
        }

        return new StringList(values);
    }

    public override void Write(Utf8JsonWriter writer, StringList value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var item in value.Values)
        {
            writer.WriteStringValue(item);
        }

        writer.WriteEndArray();
    }
}
