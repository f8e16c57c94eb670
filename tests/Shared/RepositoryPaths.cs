namespace TransparencyLog.Testing;

/// <summary>Locates the repository and the build output of the projects under test.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>Debug or Release: whatever this test assembly was built as.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    public static string ProjectOutput(string project, string? file = null) =>
        Path.Combine(Root, "src", project, "bin", Configuration, "net10.0", file ?? project + ".dll");

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "TransparencyLog.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("cannot find the repository root (TransparencyLog.sln)");
    }
}
