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

    // As generous as tlog's own 30 s: at load average 100 a request to an in-process fake server took over 10 s and a
    // consistency audit failed with exit 1 in a full ./test.sh run (a timeout, not a wrong answer).
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

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
