using System.Text.Json.Nodes;
using Cel;

namespace TransparencyLog.Policy.Evaluation;

/// <summary>
/// A CEL expression over a verified attestation (our addition to policy-controller's cue/rego): variables
/// <c>predicate</c> (the statement's predicate), <c>predicateType</c> and <c>subject</c>. It must yield a boolean.
/// Compiled once at load; evaluation errors (a missing field, a type mismatch) count as false, with the reason.
/// </summary>
public sealed class CelCondition
{
    public const int MaxExpressionLength = 4096;

    private static readonly CelEnvironment s_environment = new(null, null);
    private readonly Func<IDictionary<string, object?>, object?> _program;

    private CelCondition(string expression, Func<IDictionary<string, object?>, object?> program)
    {
        Expression = expression;
        _program = program;
    }

    public string Expression { get; }

    /// <exception cref="ArgumentException">Too long or not a valid CEL expression.</exception>
    public static CelCondition Compile(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        if (expression.Length is 0 or > MaxExpressionLength)
        {
            throw new ArgumentException($"a CEL condition is 1 to {MaxExpressionLength} characters");
        }

        try
        {
            var compiled = s_environment.Compile(expression);
            return new CelCondition(expression, variables => compiled.Invoke(variables));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw new ArgumentException($"not a valid CEL expression: {ex.Message}", ex);
        }
    }

    /// <summary>True when the expression yields <c>true</c>; otherwise false and why.</summary>
    public (bool Satisfied, string? Reason) Evaluate(JsonObject statement)
    {
        ArgumentNullException.ThrowIfNull(statement);
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["predicate"] = ToCel(statement["predicate"]),
            ["predicateType"] = statement["predicateType"]?.ToString() ?? string.Empty,
            ["subject"] = ToCel(statement["subject"]),
        };
        try
        {
            return _program(variables) switch
            {
                true => (true, null),
                bool => (false, $"the condition '{Expression}' is false"),
                var other => (false, $"the condition '{Expression}' yields {other?.GetType().Name ?? "null"}, not a boolean"),
            };
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return (false, $"the condition '{Expression}' failed: {ex.Message}");
        }
    }

    /// <summary>JSON as CEL values: maps, lists, strings, booleans, int64 where exact, else double.</summary>
    private static object? ToCel(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(static p => p.Key, static p => ToCel(p.Value), StringComparer.Ordinal),
        JsonArray a => a.Select(ToCel).ToList(),
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        _ => node.ToJsonString(),
    };
}
