using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using TransparencyLog.Cli.Hosting;

namespace TransparencyLog.Cli.Verifying;

/// <summary>
/// The witness flags every command taking <c>--witness-policy</c> has: the policy, and <c>--max-cosignature-age</c>,
/// how old a cosignature's timestamp may be for the witness to count.
/// </summary>
internal sealed partial class WitnessFlags
{
    /// <summary>Longest accepted --max-cosignature-age (a year): larger values are a typo, not a policy.</summary>
    public static readonly TimeSpan MaxAgeLimit = TimeSpan.FromDays(366);

    public Option<string?> Policy { get; } = WitnessQuorum.Option();

    public Option<string?> MaxAge { get; } = new("--max-cosignature-age")
    {
        Description = "With --witness-policy: a witness counts only if its cosignature's timestamp is at most this old " +
            "(a duration like 10m, 1h, 24h or 1h30m); older ones are refused with WITNESS_COSIGNATURE_STALE.",
        HelpName = "DURATION",
    };

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Policy);
        command.Options.Add(MaxAge);
    }

    /// <summary>The parsed policy with its age limit, or null without --witness-policy.</summary>
    public WitnessQuorum? Resolve(ParseResult parseResult, CliHost host)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        ArgumentNullException.ThrowIfNull(host);
        var maxAge = parseResult.GetValue(MaxAge) is { } text ? ParseDuration(text) : (TimeSpan?)null;
        var quorum = WitnessQuorum.From(parseResult, Policy, host, maxAge);
        return quorum is null && maxAge is not null
            ? throw new CliException(ExitCodes.Usage, "--max-cosignature-age needs --witness-policy (it limits the age of the policy's cosignatures)")
            : quorum;
    }

    /// <summary>A Go-style duration (<c>90s</c>, <c>10m</c>, <c>1h30m</c>, <c>500ms</c>), positive and at most a year.</summary>
    internal static TimeSpan ParseDuration(string text)
    {
        var trimmed = text.Trim();
        var match = DurationPattern().Match(trimmed);
        if (trimmed.Length == 0 || trimmed.Length > 64 || !match.Success)
        {
            throw new CliException(ExitCodes.Usage, $"--max-cosignature-age '{(text.Length > 64 ? text[..64] + "…" : text)}' is not a duration like 10m, 1h or 1h30m");
        }

        var total = TimeSpan.Zero;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unit = part.Value.TrimStart("0123456789.".ToCharArray());
            var number = double.Parse(part.Value[..^unit.Length], CultureInfo.InvariantCulture);
            var seconds = unit switch
            {
                "ms" => number / 1000,
                "s" => number,
                "m" => number * 60,
                _ => number * 3600,
            };
            if (seconds > MaxAgeLimit.TotalSeconds)
            {
                throw new CliException(ExitCodes.Usage, "--max-cosignature-age must be between 1s and 366 days");
            }

            total += TimeSpan.FromSeconds(seconds);
        }

        return total >= TimeSpan.FromSeconds(1) && total <= MaxAgeLimit
            ? total
            : throw new CliException(ExitCodes.Usage, "--max-cosignature-age must be between 1s and 366 days");
    }

    [GeneratedRegex(@"^(?<part>[0-9]{1,12}(\.[0-9]{1,9})?(ms|s|m|h))+$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationPattern();
}
