using System.Text;

namespace TransparencyLog.Cli.Hosting;

/// <summary>Reads a secret from the terminal with echo off: the prompt goes to stderr, nothing typed is shown.</summary>
internal static class SecretPrompt
{
    // A password longer than this is a paste accident, not a password; stop reading rather than grow forever.
    private const int MaxLength = 1024;

    public static string? Read(string prompt)
    {
        Console.Error.Write(prompt);
        var secret = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (secret.Length > 0)
                {
                    secret.Length--;
                }

                continue;
            }

            if (!char.IsControl(key.KeyChar) && secret.Length < MaxLength)
            {
                secret.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return secret.ToString();
    }
}
