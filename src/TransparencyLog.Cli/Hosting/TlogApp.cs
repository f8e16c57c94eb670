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
        var root = BuildRootCommand(host);
        var parseResult = root.Parse(ImageCommandRouting.Route(args));

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

    public static RootCommand BuildRootCommand(CliHost host)
    {
        var root = new RootCommand(
            "tlog signs and verifies artifacts with a self-hosted Sigstore: keyless certificates from the CA, " +
            "entries in the transparency log, RFC 3161 timestamps, and fully offline verification against a trusted root.");
        root.Subcommands.Add(SigningCommands.SignBlob(host));
        root.Subcommands.Add(SigningCommands.Attest(host));
        root.Subcommands.Add(VerifyCommands.VerifyBlob(host));
        root.Subcommands.Add(VerifyCommands.VerifyAttestation(host));
        root.Subcommands.Add(ImageSigningCommands.Sign(host));
        root.Subcommands.Add(ImageVerifyCommands.Verify(host));
        root.Subcommands.Add(ImageSigningCommands.Attest(host));
        root.Subcommands.Add(ImageVerifyCommands.VerifyAttestation(host));
        root.Subcommands.Add(ImageInspectCommands.Tree(host));
        root.Subcommands.Add(ImageInspectCommands.Download(host));
        root.Subcommands.Add(LogCommands.Create(host));
        root.Subcommands.Add(TrustedRootCommands.Create(host));
        root.Subcommands.Add(SigningConfigCommands.Create(host));
        root.Subcommands.Add(DevCommands.Create(host));
        root.Subcommands.Add(KeyCommands.GenerateKeyPair(host));
        root.Subcommands.Add(MonitorCommand.Create(host));
        root.Subcommands.Add(PolicyCommands.Create(host));
        root.Subcommands.Add(TufCommands.Initialize(host));
        root.Subcommands.Add(TufCommands.Create(host));
        return root;
    }

    private static bool IsHelpRequest(string[] args) => args.Any(static a => a is "-h" or "--help" or "-?");

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
