using System.Diagnostics;

namespace TransparencyLog.Interop.Tests.Infrastructure;

/// <summary>
/// Upstream skopeo 1.13.3 (Debian's is built with sigstore disabled): <c>TLOG_TEST_SKOPEO</c> (test.sh sets it), else
/// <c>../shared/tools/skopeo/get.sh</c> next to the repository. Missing skopeo fails the test; nothing skips.
/// </summary>
internal static class Skopeo
{
    private static readonly Lazy<string> s_binary = new(Locate);

    public static string Binary => s_binary.Value;

    /// <summary>
    /// A minimal one-config, no-layer OCI image in skopeo's <c>dir:</c> layout: <c>skopeo copy</c> signs it, and a
    /// <c>dir:</c> destination stores the sigstore signature as <c>signature-1</c>, so no registry is needed.
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
            return configured;
        }

        var getScript = Path.GetFullPath(Path.Combine(Repository.Root, "..", "shared", "tools", "skopeo", "get.sh"));
        if (!File.Exists(getScript))
        {
            throw new FileNotFoundException("skopeo 1.13.3 not found: set TLOG_TEST_SKOPEO or provide ../shared/tools/skopeo/get.sh");
        }

        using var process = Process.Start(new ProcessStartInfo(getScript) { RedirectStandardOutput = true, UseShellExecute = false })
            ?? throw new InvalidOperationException("cannot start get.sh");
        var path = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return process.ExitCode == 0 ? path : throw new InvalidOperationException($"{getScript} failed");
    }
}
