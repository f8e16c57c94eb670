namespace TransparencyLog.Interop.Tests.Infrastructure;

/// <summary>Where the repository is, and which build configuration these tests run against.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>The built tlog CLI of this configuration.</summary>
    public static string Tlog => Path.Combine(Root, "src", "TransparencyLog.Cli", "bin", Configuration, "net10.0", "tlog.dll");

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
