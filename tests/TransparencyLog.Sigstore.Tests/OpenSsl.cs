using System.Diagnostics;

namespace TransparencyLog.Sigstore.Tests;

/// <summary>Runs the real openssl CLI, so key fixtures come from an independent implementation.</summary>
internal static class OpenSsl
{
    public static string Run(string arguments, string? stdin = null)
    {
        var start = new ProcessStartInfo("openssl", arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start openssl");
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }

        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"openssl {arguments} failed: {error}");
        }

        return output;
    }
}
