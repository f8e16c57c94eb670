namespace TransparencyLog.Policy.Documents;

/// <summary>A policy or trust-root document that cannot be used; the message names the file and the field path.</summary>
public sealed class PolicyLoadException(string source, string field, string problem)
    : Exception(field.Length == 0 ? $"{source}: {problem}" : $"{source}: {field}: {problem}")
{
    public string Origin { get; } = source;

    public string Field { get; } = field;

    public string Problem { get; } = problem;
}
