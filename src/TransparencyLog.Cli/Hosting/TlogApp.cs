using System.CommandLine;
using TransparencyLog.Cli.Auditing;
using TransparencyLog.Cli.Dev;
using TransparencyLog.Cli.Images;
using TransparencyLog.Cli.Keys;
using TransparencyLog.Cli.Monitoring;
using TransparencyLog.Cli.Policies;
using TransparencyLog.Cli.Signing;
using TransparencyLog.Cli.TrustRoot;
using TransparencyLog.Cli.Tuf;
using TransparencyLog.Cli.Verifying;

namespace TransparencyLog.Cli.Hosting;

/// <summary>The <c>tlog</c> command line: one entry point for the process and for tests (captured output, fake HTTP).</summary>
internal static class TlogApp
{
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error) =>
        RunAsync(args, output, error, TlogContext.CreateDefault(error));

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, TlogContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var host = new CliHost(output, error, context);
        var routed = ImageCommandRouting.Route(args);
        var root = BuildRootCommand(host, routed);
        var parseResult = root.Parse(routed);

        // Parse errors get exit code 2, not System.CommandLine's 1, so scripts can tell misuse from failure.
        if (parseResult.Errors.Count > 0 && !IsHelpRequest(args))
        {
            foreach (var parseError in parseResult.Errors)
            {
                await error.WriteLineAsync($"Error: {parseError.Message}");
            }

            await error.WriteLineAsync($"Run '{string.Join(' ', ["tlog", .. CommandPath(parseResult)])} --help' for usage.");
            return ExitCodes.Usage;
        }

        return await parseResult.InvokeAsync(
            new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false },
            cancellationToken);
    }

    /// <summary>
    /// Every top-level command by name, built only when needed: a <c>tlog verify</c> builds the <c>verify</c> tree and
    /// no other (each subcommand's options, validators and handlers are types to load and code to compile at start-up).
    /// </summary>
    internal static readonly IReadOnlyList<(string Name, Func<CliHost, Command> Create)> Commands =
    [
        ("sign-blob", SigningCommands.SignBlob),
        ("attest", SigningCommands.Attest),
        ("verify-blob", VerifyCommands.VerifyBlob),
        ("verify-attestation", VerifyCommands.VerifyAttestation),
        ("sign", ImageSigningCommands.Sign),
        ("verify", ImageVerifyCommands.Verify),
        (ImageCommandRouting.AttestImage, ImageSigningCommands.Attest),
        (ImageCommandRouting.VerifyAttestationImage, ImageVerifyCommands.VerifyAttestation),
        ("tree", ImageInspectCommands.Tree),
        ("download", ImageInspectCommands.Download),
        ("log", LogCommands.Create),
        ("trusted-root", TrustedRootCommands.Create),
        ("signing-config", SigningConfigCommands.Create),
        ("dev", DevCommands.Create),
        ("generate-key-pair", KeyCommands.GenerateKeyPair),
        ("monitor", MonitorCommand.Create),
        ("policy", PolicyCommands.Create),
        ("initialize", TufCommands.Initialize),
        ("tuf", TufCommands.Create),
    ];

    /// <summary>
    /// The root command with every subcommand, or, when <paramref name="args"/> starts with a command's name and asks
    /// for no help, with that one only: it parses and runs the same, and the others are never built. Help, an unknown
    /// command and other root options see the whole tree; <c>--version</c> alone needs none of it.
    /// </summary>
    public static RootCommand BuildRootCommand(CliHost host, IReadOnlyList<string>? args = null)
    {
        var root = new RootCommand(
            "tlog signs and verifies artifacts with a self-hosted Sigstore: keyless certificates from the CA, " +
            "entries in the transparency log, RFC 3161 timestamps, and fully offline verification against a trusted root.");
        if (args is ["--version"])
        {
            return root;
        }

        var only = args is [var first, ..] && !IsHelpRequest(args) ? first : null;
        var single = Commands.Where(c => c.Name == only).Select(static c => c.Create).FirstOrDefault();
        if (single is not null)
        {
            root.Subcommands.Add(single(host));
            return root;
        }

        foreach (var (_, create) in Commands)
        {
            root.Subcommands.Add(create(host));
        }

        return root;
    }

    private static bool IsHelpRequest(IReadOnlyList<string> args) => args.Any(static a => a is "-h" or "--help" or "-?");

    private static IEnumerable<string> CommandPath(ParseResult parseResult)
    {
        var names = new List<string>();
        for (var result = parseResult.CommandResult; result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
        {
            names.Insert(0, result.Command.Name);
        }

        return names;
    }
}

/// <summary>What every command needs from the process: its output streams and its context.</summary>
internal sealed record CliHost(TextWriter Output, TextWriter Error, TlogContext Context);
