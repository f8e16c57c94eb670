using System.CommandLine;
using System.Security.Cryptography;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Oci;
using TransparencyLog.Sigstore.Verification;

namespace TransparencyLog.Cli.Hosting;

/// <summary>Wires a command to its handler with one error policy: every expected failure maps to an exit code here.</summary>
internal static class CommandActions
{
    public static Option<string> OutputOption() => new Option<string>("--output", "-o")
    {
        Description = "Output format on stdout: text (default) or json (one JSON document, also on failure).",
        DefaultValueFactory = static _ => "text",
        HelpName = "text|json",
    }.AcceptOnlyFromAmong("text", "json");

    public static void AddOptions(Command command, params ReadOnlySpan<Option> options)
    {
        foreach (var option in options)
        {
            command.Options.Add(option);
        }
    }

    public static void Set(Command command, CliHost host, Option<string> output, Func<ParseResult, Reporter, CancellationToken, Task<int>> handler)
    {
        command.Options.Add(output);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var reporter = new Reporter(host.Output, host.Error, parseResult.GetValue(output) == "json", host.Context.InteractiveProgress);
            try
            {
                return await handler(parseResult, reporter, cancellationToken);
            }
            catch (Exception ex) when (Failure(ex) is { } failure)
            {
                return reporter.Fail(failure.ExitCode, failure.Message, failure.Code);
            }
        });
    }

    /// <summary>
    /// The exit code, message and stable code of an expected failure; null for anything else (a bug, or cancellation),
    /// which is left to crash loudly. One policy for whole commands and for each image of a multi-image run.
    /// </summary>
    public static (int ExitCode, string Message, string? Code)? Failure(Exception exception) => exception switch
    {
        CliException ex => (ex.ExitCode, ex.Message, ex.Code),
        OciException ex => (ExitCodes.For(ex.Failure), ex.Message, ex.Code),
        VerificationException ex => (ExitCodes.VerificationFailed, ex.Message, ex.Code),
        KeyLoadException ex => (ExitCodes.Error, $"cannot load the key: {ex.Message}", "KEY_ERROR"),
        IOException or UnauthorizedAccessException => (ExitCodes.Error, exception.Message, null),
        CryptographicException ex => (ExitCodes.Error, $"cryptographic failure: {ex.Message}", null),
        _ => null,
    };

    /// <summary>The value of a flag, else of an environment variable, else null.</summary>
    public static string? FlagOrEnv(ParseResult parseResult, Option<string?> option, CliHost host, string variable) =>
        parseResult.GetValue(option) is { Length: > 0 } value ? value : host.Context.Env(variable);

    public static string Required(string? value, string message) =>
        value ?? throw new CliException(ExitCodes.Usage, message);

    public static string ReadInputFile(string path, string what)
    {
        if (!File.Exists(path))
        {
            throw new CliException(ExitCodes.Usage, $"{what} '{path}' does not exist");
        }

        return File.ReadAllText(path);
    }

    public static byte[] ReadInputBytes(string path, string what)
    {
        if (!File.Exists(path))
        {
            throw new CliException(ExitCodes.Usage, $"{what} '{path}' does not exist");
        }

        return File.ReadAllBytes(path);
    }

    /// <summary>Writes through a temporary file, fsync and a rename, so a crash never leaves half a bundle or state file.</summary>
    public static void WriteFileAtomically(string path, string contents)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        // Flushed to disk before the rename: otherwise a crash can leave the new name pointing at an empty file.
        using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
        {
            stream.Write(System.Text.Encoding.UTF8.GetBytes(contents));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    public static Sigstore.TrustRoot.TrustedRoot LoadTrustedRoot(string path)
    {
        var text = ReadInputFile(path, "trusted root");
        try
        {
            return Sigstore.TrustRoot.TrustedRoot.Parse(text);
        }
        catch (BundleFormatException ex)
        {
            throw new CliException(ExitCodes.Error, $"the trusted root '{path}' is invalid: {ex.Message}");
        }
    }
}
