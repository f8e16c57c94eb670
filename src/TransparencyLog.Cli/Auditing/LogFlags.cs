using System.CommandLine;
using TransparencyLog.Cli.Hosting;

namespace TransparencyLog.Cli.Auditing;

/// <summary>The flags every <c>log</c> subcommand declares alike (each command gets its own instances).</summary>
internal static class LogFlags
{
    public static Option<string?> RekorUrl() => new("--rekor-url") { Description = "Transparency log base URL [env: REKOR_URL].", HelpName = "URL" };

    /// <summary>The log's base URL from <c>--rekor-url</c>, else <paramref name="variable"/>; a usage error without either.</summary>
    public static string BaseUrl(ParseResult parseResult, Option<string?> rekorUrl, CliHost host, string variable = "REKOR_URL") =>
        CommandActions.Required(CommandActions.FlagOrEnv(parseResult, rekorUrl, host, variable), $"no transparency log URL: pass --rekor-url or set {variable}");

    public static Option<string?> Uuid() => new("--uuid") { Description = "The entry's UUID (64 hex) or entry ID (80 hex).", HelpName = "UUID" };

    public static Option<long?> Index() => new("--index") { Description = "The entry's log index.", HelpName = "N" };

    /// <summary><c>--vkey</c>; <paramref name="otherwise"/> says what is used without it.</summary>
    public static Option<string?> VerifierKey(string otherwise) =>
        new("--vkey") { Description = $"The log's C2SP verifier key (name+hash+key), or a file holding it ({otherwise}).", HelpName = "VKEY" };
}
