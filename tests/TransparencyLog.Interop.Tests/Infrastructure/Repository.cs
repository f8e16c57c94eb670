namespace TransparencyLog.Interop.Tests.Infrastructure;

/// <summary>Where the repository is, and which build configuration these tests run against.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>The built tlog CLI of this configuration.</summary>
    public static string Tlog => Path.Combine(Root, "src", "TransparencyLog.Cli", "bin", Configuration, "net10.0", "tlog.dll");

    /// <summary>
    /// A published tlog executable, when <c>TLOG_TEST_TLOG</c> names one: ./test.sh publishes tlog as the README installs
    /// it (self-contained, trimmed, one composite ReadyToRun image) and sets it, so the CLI tests run the build users
    /// run. Without it, this configuration's build through <c>dotnet tlog.dll</c>.
    /// </summary>
    public static string? PublishedTlog { get; } = Environment.GetEnvironmentVariable("TLOG_TEST_TLOG") is { Length: > 0 } path ? path : null;

    /// <summary>Runs tlog (<see cref="PublishedTlog"/>, else <c>dotnet tlog.dll</c>) with these arguments.</summary>
    public static Task<ProcessResult> RunTlogAsync(
        IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, string? workingDirectory = null) =>
        PublishedTlog is { } published
            ? LocalSystem.RunAsync(published, arguments, environment, timeout, workingDirectory)
            : LocalSystem.RunAsync("dotnet", [Tlog, .. arguments], environment, timeout, workingDirectory);

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "TransparencyLog.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("cannot find the repository root");
    }
}
