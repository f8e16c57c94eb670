using System.Globalization;

namespace TransparencyLog.Sigstore.Notes;

/// <summary>One <c>witness</c> line of a policy: a name local to the policy, its cosignature key, and where to reach it.</summary>
public sealed record PolicyWitness(string Name, CosignatureVerifierKey Key, Uri? Url);

/// <summary>
/// A witness policy in Tessera's (Sigsum's, c2sp.org/tlog-policy draft) syntax: <c>log VKEY [URL]</c>,
/// <c>witness NAME VKEY [URL]</c>, <c>group NAME k|any|all MEMBER...</c> (members defined earlier, each once) and
/// exactly one <c>quorum NAME|none</c>; <c>#</c> starts a comment. <see cref="Verify"/> decides whether a checkpoint's
/// cosignatures satisfy the quorum.
/// </summary>
public sealed class WitnessPolicy
{
    /// <summary>Bounds what a policy file may hold, checked before parsing.</summary>
    public const int MaxBytes = 64 * 1024;

    public const int MaxEntries = 256;

    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal) { "witness", "group", "any", "all", "none", "quorum", "log" };

    private readonly Dictionary<string, PolicyWitness> _witnesses;
    private readonly Dictionary<string, (int Threshold, string[] Members)> _groups;
    private readonly string? _quorum;

    private WitnessPolicy(
        List<string> logKeys, Dictionary<string, PolicyWitness> witnesses, Dictionary<string, (int, string[])> groups, string? quorum)
    {
        LogKeys = logKeys;
        _witnesses = witnesses;
        _groups = groups;
        _quorum = quorum;
    }

    /// <summary>The verifier keys of the <c>log</c> lines (may be empty).</summary>
    public IReadOnlyList<string> LogKeys { get; }

    public IReadOnlyCollection<PolicyWitness> Witnesses => _witnesses.Values;

    /// <summary>True for <c>quorum none</c>: nothing is required.</summary>
    public bool RequiresNothing => _quorum is null;

    /// <exception cref="FormatException">The policy is malformed; the message names the line.</exception>
    public static WitnessPolicy Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxBytes)
        {
            throw new FormatException($"a witness policy is at most {MaxBytes} bytes");
        }

        var logKeys = new List<string>();
        var witnesses = new Dictionary<string, PolicyWitness>(StringComparer.Ordinal);
        var groups = new Dictionary<string, (int, string[])>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        string? quorum = null;
        var quorumSeen = false;
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.Split('#', 2)[0];
            var fields = line.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0)
            {
                continue;
            }

            if (witnesses.Count + groups.Count + logKeys.Count >= MaxEntries)
            {
                throw Error(lineNumber, $"a policy holds at most {MaxEntries} entries");
            }

            switch (fields[0])
            {
                case "log":
                    if (fields.Length is < 2 or > 3)
                    {
                        throw Error(lineNumber, "expected: log VKEY [URL]");
                    }

                    Try(lineNumber, () => NoteVerifierKey.Parse(fields[1]));
                    logKeys.Add(fields[1]);
                    break;
                case "witness":
                    if (fields.Length is < 3 or > 4)
                    {
                        throw Error(lineNumber, "expected: witness NAME VKEY [URL]");
                    }

                    CheckNewName(lineNumber, fields[1], witnesses, groups);
                    var key = Try(lineNumber, () => CosignatureVerifierKey.Parse(fields[2]));
                    if (!keys.Add(key.VerifierKey))
                    {
                        throw Error(lineNumber, "the same witness key is listed twice");
                    }

                    Uri? url = null;
                    if (fields.Length == 4 && (!Uri.TryCreate(fields[3], UriKind.Absolute, out url) || url.Scheme is not ("http" or "https")))
                    {
                        throw Error(lineNumber, "the witness URL must be an absolute http or https URL");
                    }

                    witnesses.Add(fields[1], new PolicyWitness(fields[1], key, url));
                    break;
                case "group":
                    if (fields.Length < 4)
                    {
                        throw Error(lineNumber, "expected: group NAME k|any|all MEMBER...");
                    }

                    CheckNewName(lineNumber, fields[1], witnesses, groups);
                    var members = fields[3..];
                    if (members.Distinct(StringComparer.Ordinal).Count() != members.Length)
                    {
                        throw Error(lineNumber, "a group lists each member once");
                    }

                    foreach (var member in members)
                    {
                        if (!witnesses.ContainsKey(member) && !groups.ContainsKey(member))
                        {
                            throw Error(lineNumber, $"group member '{member}' is not defined above");
                        }
                    }

                    var threshold = fields[2] switch
                    {
                        "any" => 1,
                        "all" => members.Length,
                        var k when k.Length <= 4 && k.All(char.IsAsciiDigit) && k[0] != '0' => int.Parse(k, CultureInfo.InvariantCulture),
                        _ => throw Error(lineNumber, "the threshold is a positive number, any or all"),
                    };
                    if (threshold > members.Length)
                    {
                        throw Error(lineNumber, "the threshold exceeds the number of members");
                    }

                    groups.Add(fields[1], (threshold, members));
                    break;
                case "quorum":
                    if (fields.Length != 2 || quorumSeen)
                    {
                        throw Error(lineNumber, quorumSeen ? "only one quorum line is allowed" : "expected: quorum NAME|none");
                    }

                    quorumSeen = true;
                    if (fields[1] != "none")
                    {
                        if (!witnesses.ContainsKey(fields[1]) && !groups.ContainsKey(fields[1]))
                        {
                            throw Error(lineNumber, $"quorum '{fields[1]}' is not defined above");
                        }

                        quorum = fields[1];
                    }

                    break;
                default:
                    throw Error(lineNumber, $"unknown keyword '{fields[0]}'");
            }
        }

        return quorumSeen
            ? new WitnessPolicy(logKeys, witnesses, groups, quorum)
            : throw new FormatException("the witness policy has no quorum line");
    }

    /// <summary>Whether the witnesses named in <paramref name="cosigned"/> satisfy the quorum.</summary>
    public bool IsSatisfiedBy(IReadOnlySet<string> cosigned)
    {
        ArgumentNullException.ThrowIfNull(cosigned);
        return _quorum is null || Satisfied(_quorum, cosigned);
    }

    /// <summary>
    /// The policy's witnesses whose cosignatures on <paramref name="note"/> verify. A line under a policy witness's
    /// name and key ID that does not verify fails the whole note (returns false), as for any known key.
    /// </summary>
    public bool TryVerify(string note, out IReadOnlySet<string> cosigned)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        cosigned = names;
        if (!SignedNote.TryParse(note, out _, out var signatures))
        {
            return false;
        }

        foreach (var witness in _witnesses.Values)
        {
            var present = signatures.Any(s => s.Name == witness.Key.Name && s.KeyId.AsSpan().SequenceEqual(witness.Key.KeyId));
            if (!present)
            {
                continue;
            }

            if (!Cosignature.TryVerify(note, witness.Key, out _))
            {
                names.Clear();
                return false;
            }

            names.Add(witness.Name);
        }

        return true;
    }

    /// <summary>True when <paramref name="note"/>'s verifying cosignatures satisfy the quorum.</summary>
    public bool Verify(string note, out IReadOnlySet<string> cosigned) => TryVerify(note, out cosigned) && IsSatisfiedBy(cosigned);

    private bool Satisfied(string name, IReadOnlySet<string> cosigned)
    {
        if (_witnesses.ContainsKey(name))
        {
            return cosigned.Contains(name);
        }

        var (threshold, members) = _groups[name];
        return members.Count(m => Satisfied(m, cosigned)) >= threshold;
    }

    private static void CheckNewName(int line, string name, Dictionary<string, PolicyWitness> witnesses, Dictionary<string, (int, string[])> groups)
    {
        if (Reserved.Contains(name))
        {
            throw Error(line, $"'{name}' is a reserved word");
        }

        if (witnesses.ContainsKey(name) || groups.ContainsKey(name))
        {
            throw Error(line, $"'{name}' is defined twice");
        }
    }

    private static T Try<T>(int line, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (FormatException e)
        {
            throw Error(line, e.Message);
        }
    }

    private static FormatException Error(int line, string message) =>
        new($"witness policy line {line.ToString(CultureInfo.InvariantCulture)}: {message}");
}
