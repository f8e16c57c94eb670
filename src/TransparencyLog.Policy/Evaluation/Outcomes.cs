using System.Text.Json.Nodes;
using TransparencyLog.Policy.Documents;

namespace TransparencyLog.Policy.Evaluation;

/// <summary>How one ClusterImagePolicy judged one image.</summary>
/// <param name="Transient">The failure came from an unreachable registry or an exceeded deadline: never cached.</param>
public sealed record PolicyOutcome(
    string Policy,
    PolicyMode Mode,
    VerificationLevel Level,
    bool Passed,
    string? Authority,
    string? Signer,
    IReadOnlyList<string> Errors,
    IReadOnlyList<string> Warnings,
    bool Transient,
    bool CacheHit = false)
{
    public JsonObject ToJson() => new()
    {
        ["policy"] = Policy,
        ["mode"] = Mode.ToString().ToLowerInvariant(),
        ["level"] = Level.ToString().ToLowerInvariant(),
        ["passed"] = Passed,
        ["authority"] = Authority,
        ["signer"] = Signer,
        ["errors"] = new JsonArray([.. Errors.Select(static e => (JsonNode?)e)]),
        ["cacheHit"] = CacheHit,
    };
}

/// <summary>The verdict on one image: every matching policy's outcome combined (AND across policies).</summary>
public sealed record ImageOutcome(
    string Pointer,
    string Image,
    string? Digest,
    bool Allowed,
    IReadOnlyList<string> Errors,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<PolicyOutcome> Policies)
{
    public JsonObject ToJson() => new()
    {
        ["pointer"] = Pointer,
        ["image"] = Image,
        ["digest"] = Digest,
        ["allowed"] = Allowed,
        ["errors"] = new JsonArray([.. Errors.Select(static e => (JsonNode?)e)]),
        ["warnings"] = new JsonArray([.. Warnings.Select(static e => (JsonNode?)e)]),
        ["policies"] = new JsonArray([.. Policies.Select(static p => (JsonNode?)p.ToJson())]),
    };
}
