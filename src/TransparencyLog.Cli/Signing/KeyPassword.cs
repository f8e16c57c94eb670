using TransparencyLog.Cli.Hosting;

namespace TransparencyLog.Cli.Signing;

/// <summary>
/// Where a key password comes from, as in cosign: <c>COSIGN_PASSWORD</c> when set (even empty), else
/// <c>TLOG_KEY_PASSWORD</c>, else a prompt at the terminal. Without a terminal the command stops with exit code 2.
/// </summary>
internal static class KeyPassword
{
    public const string CosignVariable = "COSIGN_PASSWORD";
    public const string TlogVariable = "TLOG_KEY_PASSWORD";

    /// <summary>The password to open an existing key with; asked for only when the key turns out to be encrypted.</summary>
    public static Func<string> ForReading(TlogContext context, string keyPath) => () =>
        context.EnvAllowEmpty(CosignVariable)
        ?? context.Env(TlogVariable)
        ?? context.PromptSecret($"Enter password for private key {Path.GetFileName(keyPath)}: ")
        ?? throw new CliException(ExitCodes.Usage, $"the key file '{keyPath}' is encrypted: set {CosignVariable} or {TlogVariable} (or run in a terminal to be asked)");

    /// <summary>The password for a new key: from the variables, else asked twice at the terminal.</summary>
    public static string ForWriting(TlogContext context)
    {
        if ((context.EnvAllowEmpty(CosignVariable) ?? context.Env(TlogVariable)) is { } fromEnvironment)
        {
            return fromEnvironment;
        }

        var first = context.PromptSecret("Enter password for private key: ")
            ?? throw new CliException(ExitCodes.Usage, $"no password for the new key: set {CosignVariable} (empty is allowed) or run in a terminal to be asked");
        var second = context.PromptSecret("Enter password for private key again: ");
        return first == second ? first : throw new CliException(ExitCodes.Usage, "the passwords do not match");
    }
}
