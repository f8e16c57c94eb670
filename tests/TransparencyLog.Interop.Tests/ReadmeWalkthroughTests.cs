using System.Text;
using System.Text.RegularExpressions;
using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests;

/// <summary>
/// Runs the README's walk-through (the fenced blocks between <c>walkthrough:start</c> and <c>walkthrough:end</c>)
/// with bash against the running system, so the README cannot drift from the code. Only two things are rewritten:
/// <c>.data/endpoints.env</c> becomes this system's file, and the <c>bin/Release</c> in the <c>tlog</c> alias becomes
/// the configuration these tests were built in.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed partial class ReadmeWalkthroughTests(LocalSystem system) : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("tlog-readme-home-").FullName;

    [GeneratedRegex(@"<!-- walkthrough:start -->(.*?)<!-- walkthrough:end -->", RegexOptions.Singleline)]
    private static partial Regex Section();

    [GeneratedRegex(@"^```(?:sh|bash|shell)?\s*$(.*?)^```\s*$", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex FencedBlock();

    /// <summary>The shell code of the walk-through, as a user would paste it.</summary>
    internal static string WalkthroughScript()
    {
        var readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md"));
        var section = Section().Match(readme);
        Assert.True(section.Success, "README.md has no <!-- walkthrough:start --> ... <!-- walkthrough:end --> section");
        var blocks = FencedBlock().Matches(section.Groups[1].Value).Select(static m => m.Groups[1].Value.Trim('\n')).ToList();
        Assert.NotEmpty(blocks);
        return string.Join('\n', blocks);
    }

    [Fact]
    public void Walkthrough_Readme_HasTheStepsOfTheIssue()
    {
        var script = WalkthroughScript();

        foreach (var step in new[] { ".data/endpoints.env", "$DEV_TOKEN_CMD --email", "tlog sign-blob", "tlog verify-blob", "--certificate-identity", "--certificate-oidc-issuer", "tlog log info", "tlog log verify-consistency", "copy --dest-tls-verify=false tarball:", "tlog sign \"$REGISTRY", "tlog verify \"$REGISTRY", "tlog attest \"$REGISTRY", "tlog verify-attestation \"$REGISTRY" })
        {
            Assert.Contains(step, script, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Walkthrough_RunWithBash_VerifiesAndAuditsTheLog()
    {
        var script = new StringBuilder()
            .AppendLine("set -euo pipefail")
            .AppendLine(WalkthroughScript()
                .Replace(".data/endpoints.env", Quote(Path.Combine(system.DataDirectory, "endpoints.env")), StringComparison.Ordinal)
                .Replace("/bin/Release/", $"/bin/{Repository.Configuration}/", StringComparison.Ordinal))
            .ToString();
        var path = Path.Combine(_home, "walkthrough.sh");
        await File.WriteAllTextAsync(path, script);

        // A private HOME: the auditor's default state directory must not touch the developer's own.
        var result = await LocalSystem.RunAsync(
            "bash",
            [path],
            new Dictionary<string, string> { ["HOME"] = _home, ["SIGSTORE_ID_TOKEN"] = string.Empty, ["TLOG_TRUSTED_ROOT"] = string.Empty },
            TimeSpan.FromMinutes(3),
            Repository.Root);

        Assert.True(result.ExitCode == 0, $"the README walk-through failed ({result.ExitCode}):\n{result.Output}");
        Assert.Equal(2, Regex.Count(result.StandardOutput, "^Verified OK$", RegexOptions.Multiline));
        Assert.Contains("identity: you@example.com", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("(Rekor v2)", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Tree size:", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("No previous checkpoint", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("\"docker-manifest-digest\":\"sha256:", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("\"predicateType\":\"https://slsa.dev/provenance/v1\"", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Referrers of type application/vnd.dev.sigstore.bundle.v0.3+json", result.StandardOutput, StringComparison.Ordinal);
        // tlog policy test, the admission webhook's engine, admits the walk-through image under the demo policy.
        Assert.Matches(new Regex("^ADMITTED$", RegexOptions.Multiline), result.StandardOutput);
        Assert.True(Directory.EnumerateFiles(Path.Combine(_home, ".config", "tlog", "checkpoints")).Any());
    }

    private static string Quote(string path) => "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    public void Dispose()
    {
        try
        {
            Directory.Delete(_home, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
