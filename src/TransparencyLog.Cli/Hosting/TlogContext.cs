using TransparencyLog.Cli.Http;

namespace TransparencyLog.Cli.Hosting;

/// <summary>
/// Everything a command touches outside the process: HTTP, environment variables, the home directory, the clock.
/// Tests replace each; <see cref="CreateDefault"/> is the real thing.
/// </summary>
internal sealed class TlogContext(
    HttpClient http,
    Func<string, string?> environment,
    string homeDirectory,
    TimeProvider time,
    bool interactiveProgress = false,
    Func<string, string?>? promptSecret = null)
{
    public HttpClient Http { get; } = http;

    public TimeProvider Time { get; } = time;

    public string HomeDirectory { get; } = homeDirectory;

    /// <summary>Animate progress (Spectre status) rather than print one line per step.</summary>
    public bool InteractiveProgress { get; } = interactiveProgress;

    public string? Env(string name) => environment(name) is { Length: > 0 } value ? value : null;

    /// <summary>A variable that counts when set even if empty (<c>COSIGN_PASSWORD=</c> means the empty password).</summary>
    public string? EnvAllowEmpty(string name) => environment(name);

    /// <summary>
    /// Asks the person at the terminal for a secret without echoing it; null when there is no terminal (tests,
    /// pipes), so commands fail with a hint instead of waiting on input that never comes.
    /// </summary>
    public string? PromptSecret(string prompt) => promptSecret?.Invoke(prompt);

    /// <summary>The real process: HTTP with bounded retries of 503/429 + Retry-After, announced on <paramref name="error"/>.</summary>
    public static TlogContext CreateDefault(TextWriter error) => new(
        ServiceRetryHandler.CreateClient(ServiceRetryOptions.Default, TimeProvider.System, Announcer(error)),
        Environment.GetEnvironmentVariable,
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
        TimeProvider.System,
        interactiveProgress: !Console.IsErrorRedirected,
        promptSecret: Console.IsInputRedirected ? null : SecretPrompt.Read);

    /// <summary>Retry notes on stderr, one whole line at a time (images sign concurrently).</summary>
    public static Action<string> Announcer(TextWriter error)
    {
        var gate = new Lock();
        return message =>
        {
            lock (gate)
            {
                error.WriteLine(message);
            }
        };
    }
}
