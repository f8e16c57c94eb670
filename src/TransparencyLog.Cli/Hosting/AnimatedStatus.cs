using Spectre.Console;

namespace TransparencyLog.Cli.Hosting;

/// <summary>A Spectre.Console status line on a terminal's stderr: each step replaces the previous one.</summary>
internal sealed class AnimatedStatus(TextWriter error)
{
    private readonly IAnsiConsole _console = AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(error),
        Ansi = AnsiSupport.Detect,
        Interactive = InteractionSupport.Detect,
    });

    public Task<T> RunAsync<T>(string status, Func<Action<string>, Task<T>> work) =>
        _console.Status().StartAsync(Markup.Escape(status), ctx => work(s => ctx.Status(Markup.Escape(s))));
}
