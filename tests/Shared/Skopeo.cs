using System.Diagnostics;

namespace TransparencyLog.Tests.Shared;

/// <summary>
/// Upstream skopeo 1.13.3 (Debian's is built with sigstore disabled): <c>TLOG_TEST_SKOPEO</c> names the binary
/// (test.sh and .ci/run set it), else <c>../shared/tools/skopeo/get.sh</c> next to the repository unpacks it.
/// Missing skopeo fails the test: nothing skips.
/// </summary>
internal static class Skopeo
{
    private static readonly Lazy<string> s_binary = new(Locate);

    public static string Binary => s_binary.Value;

    public static string Run(string workingDirectory, params string[] arguments)
    {
        var (exitCode, output, error) = Execute(Binary, workingDirectory, arguments);
        return exitCode == 0 ? output : throw new InvalidOperationException($"skopeo {string.Join(' ', arguments)} failed ({exitCode}): {error}");
    }

    /// <summary>
    /// A minimal one-config, no-layer OCI image in skopeo's <c>dir:</c> layout: enough for <c>skopeo copy</c> to
    /// sign it, and a <c>dir:</c> destination stores the sigstore signature as <c>signature-1</c> with no registry.
    /// </summary>
    public static string WriteImage(string directory)
    {
        Directory.CreateDirectory(directory);
        var config = """{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"""u8.ToArray();
        var configHex = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(config));
        File.WriteAllBytes(Path.Combine(directory, configHex), config);
        File.WriteAllText(
            Path.Combine(directory, "manifest.json"),
            $$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{{configHex}}","size":{{config.Length}}},"layers":[]}""");
        File.WriteAllText(Path.Combine(directory, "version"), "Directory Transport Version: 1.1\n");
        return directory;
    }

    private static string Locate()
    {
        if (Environment.GetEnvironmentVariable("TLOG_TEST_SKOPEO") is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : throw new FileNotFoundException($"TLOG_TEST_SKOPEO names '{configured}', which does not exist");
        }

        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "TransparencyLog.sln")))
        {
            directory = directory.Parent;
        }

        var getScript = directory?.Parent is { } parent ? Path.Combine(parent.FullName, "shared", "tools", "skopeo", "get.sh") : null;
        if (getScript is null || !File.Exists(getScript))
        {
            throw new FileNotFoundException("skopeo 1.13.3 not found: set TLOG_TEST_SKOPEO or provide ../shared/tools/skopeo/get.sh");
        }

        var (exitCode, output, error) = Execute(getScript, Path.GetTempPath(), []);
        return exitCode == 0 ? output.Trim() : throw new InvalidOperationException($"{getScript} failed: {error}");
    }

    private static (int ExitCode, string Output, string Error) Execute(string fileName, string workingDirectory, string[] arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} did not finish");
        }

        return (process.ExitCode, output.Result, error.Result);
    }
}
