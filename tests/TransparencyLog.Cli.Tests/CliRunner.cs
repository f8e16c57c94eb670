using TransparencyLog.Cli.Hosting;

namespace TransparencyLog.Cli.Tests;

/// <summary>Runs the root command in-process with captured output, no environment and a throwaway home directory.</summary>
internal sealed class CliRunner : IDisposable
{
    public CliRunner()
    {
        Directory = Path.Combine(Path.GetTempPath(), "tlog-tests-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public Dictionary<string, string> Environment { get; } = [];

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };

    public string PathOf(string name) => Path.Combine(Directory, name);

    public string WriteFile(string name, string contents)
    {
        var path = PathOf(name);
        File.WriteAllText(path, contents);
        return path;
    }

    public async Task<(int ExitCode, string Out, string Err)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var context = new TlogContext(Http, name => Environment.GetValueOrDefault(name), Directory, TimeProvider.System);
        var exitCode = await TlogApp.RunAsync(args, output, error, context);
        return (exitCode, output.ToString(), error.ToString());
    }

    public void Dispose()
    {
        Http.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
