using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Json;

namespace TransparencyLog.Sigstore.TrustRoot;

/// <summary>One service endpoint in a signing config. <see cref="MajorApiVersion"/> is 1 for Rekor v1, 2 for rekor-tiles.</summary>
public sealed record ServiceEndpoint(string Url, int MajorApiVersion, ValidityPeriod ValidFor, string? Operator = null);

/// <summary>How many of the listed services a client should use: ALL, ANY or EXACT with <see cref="Count"/>.</summary>
public sealed record ServiceSelector(string Selector, int Count = 0)
{
    public static ServiceSelector Any { get; } = new("ANY");

    public static ServiceSelector All { get; } = new("ALL");
}

/// <summary>
/// Where to sign (<c>signing_config.json</c>, v0.2): CA, OIDC provider, Rekor and TSA URLs. The Fulcio URL is the
/// base; the TSA URL is the full <c>/api/v1/timestamp</c> path.
/// </summary>
public sealed record SigningConfig(
    IReadOnlyList<ServiceEndpoint> CaUrls,
    IReadOnlyList<ServiceEndpoint> OidcUrls,
    IReadOnlyList<ServiceEndpoint> RekorTlogUrls,
    ServiceSelector RekorTlogConfig,
    IReadOnlyList<ServiceEndpoint> TsaUrls,
    ServiceSelector TsaConfig)
{
    public const string MediaTypeV02 = "application/vnd.dev.sigstore.signingconfig.v0.2+json";

    private static readonly JsonSerializerOptions s_writeOptions = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The first service of <paramref name="services"/> valid at <paramref name="time"/>, preferring the highest API version.</summary>
    public static ServiceEndpoint? Select(IEnumerable<ServiceEndpoint> services, DateTimeOffset time, int maxApiVersion = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services
            .Where(s => s.ValidFor.Contains(time) && s.MajorApiVersion <= maxApiVersion)
            .OrderByDescending(static s => s.MajorApiVersion)
            .FirstOrDefault();
    }

    /// <exception cref="BundleFormatException">Not a v0.2 signing config.</exception>
    public static SigningConfig Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonInput.Parse(json, ProtoJson.DocumentOptions);
        }
        catch (JsonException)
        {
            throw new BundleFormatException("the signing config is not valid JSON");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new BundleFormatException("the signing config must be a JSON object");
            }

            if (ProtoJson.String(root, "mediaType", "mediaType") != MediaTypeV02)
            {
                throw new BundleFormatException($"unsupported signing config mediaType (expected {MediaTypeV02})");
            }

            return new SigningConfig(
                Services(root, "caUrls"),
                Services(root, "oidcUrls"),
                Services(root, "rekorTlogUrls"),
                Selector(root, "rekorTlogConfig"),
                Services(root, "tsaUrls"),
                Selector(root, "tsaConfig"));
        }
    }

    public string ToJson()
    {
        var root = new JsonObject
        {
            ["mediaType"] = MediaTypeV02,
            ["caUrls"] = ServicesToJson(CaUrls),
            ["oidcUrls"] = ServicesToJson(OidcUrls),
            ["rekorTlogUrls"] = ServicesToJson(RekorTlogUrls),
            ["rekorTlogConfig"] = SelectorToJson(RekorTlogConfig),
            ["tsaUrls"] = ServicesToJson(TsaUrls),
            ["tsaConfig"] = SelectorToJson(TsaConfig),
        };
        return root.ToJsonString(s_writeOptions);
    }

    private static List<ServiceEndpoint> Services(JsonElement root, string name) =>
        [.. ProtoJson.Array(root, name, name).Select(e =>
        {
            var validFor = ProtoJson.OptionalObject(e, "validFor", $"{name}[].validFor");
            return new ServiceEndpoint(
                ProtoJson.String(e, "url", $"{name}[].url"),
                (int)ProtoJson.Int64(e, "majorApiVersion", $"{name}[].majorApiVersion"),
                validFor is { } v
                    ? new ValidityPeriod(ProtoJson.OptionalTime(v, "start", $"{name}[].validFor.start"), ProtoJson.OptionalTime(v, "end", $"{name}[].validFor.end"))
                    : ValidityPeriod.Unbounded,
                ProtoJson.OptionalString(e, "operator", $"{name}[].operator"));
        })];

    private static ServiceSelector Selector(JsonElement root, string name) =>
        ProtoJson.OptionalObject(root, name, name) is { } s
            ? new ServiceSelector(ProtoJson.OptionalString(s, "selector", $"{name}.selector") ?? "ANY", (int)ProtoJson.Int64(s, "count", $"{name}.count"))
            : ServiceSelector.Any;

    private static JsonArray ServicesToJson(IReadOnlyList<ServiceEndpoint> services) =>
        new([.. services.Select(static s =>
        {
            var node = new JsonObject { ["url"] = s.Url, ["majorApiVersion"] = s.MajorApiVersion };
            var validFor = new JsonObject();
            if (s.ValidFor.Start is { } start)
            {
                validFor["start"] = ProtoJson.FormatTime(start);
            }

            if (s.ValidFor.End is { } end)
            {
                validFor["end"] = ProtoJson.FormatTime(end);
            }

            node["validFor"] = validFor;
            if (s.Operator is { } op)
            {
                node["operator"] = op;
            }

            return (JsonNode?)node;
        })]);

    private static JsonObject SelectorToJson(ServiceSelector selector)
    {
        var node = new JsonObject { ["selector"] = selector.Selector };
        if (selector.Selector == "EXACT")
        {
            node["count"] = selector.Count;
        }

        return node;
    }
}
