using System.ComponentModel;
using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests.SigstoreJs;

/// <summary>
/// One test's use of the scripts in <c>tests/interop/sigstore</c>: node runs them with the variables of the running
/// system's <c>endpoints.env</c>, fresh development tokens for <see cref="Email"/> (IDENTITY_TOKEN, IDENTITY_EMAIL;
/// IDENTITY_TOKEN_DISTINCT_SUB has a <c>sub</c> other than the email) and a private output directory
/// (INTEROP_OUT_DIR) where they leave their bundles. The same directory holds what our own CLI signs, so both sides
/// read each other's files.
/// </summary>
internal sealed class SigstoreJsRun
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(3);
    private readonly LocalSystem _system;

    private SigstoreJsRun(LocalSystem system, string scenario, string email)
    {
        _system = system;
        Email = email;
        OutputDirectory = Directory.CreateDirectory(
            Path.Combine(system.DataDirectory, "sigstore-js", $"{scenario}-{Guid.NewGuid():N}")).FullName;
    }

    public static string ScriptDirectory { get; } = Path.Combine(Repository.Root, "tests", "interop", "sigstore");

    public string Email { get; }

    public string OutputDirectory { get; }

    public string Issuer => _system["OIDC_ISSUER"];

    public string TrustedRoot => _system["TRUSTED_ROOT"];

    /// <summary>
    /// Starts a run. A missing <c>node_modules</c> is a failure, never a skip: the pinned clients are part of the
    /// test, and <c>./test.sh</c> and CI install them.
    /// </summary>
    public static SigstoreJsRun Start(LocalSystem system, string scenario)
    {
        Assert.True(
            Directory.Exists(Path.Combine(ScriptDirectory, "node_modules", "@sigstore", "cli")),
            $"{ScriptDirectory}/node_modules is missing or incomplete: run npm ci in tests/interop/sigstore");
        // One signer per test: the CA limits certificates per identity and window, and a test must not inherit
        // another's budget.
        return new SigstoreJsRun(system, scenario, $"{scenario}-{Guid.NewGuid().ToString("N")[..8]}@example.com");
    }

    public string PathOf(string file) => Path.Combine(OutputDirectory, file);

    /// <summary>Runs <c>node SCRIPT ARGS</c> and asserts that it passed; returns its output.</summary>
    public async Task<string> NodeAsync(string script, params string[] arguments)
    {
        var result = await RunNodeAsync(script, arguments);
        Assert.True(result.ExitCode == 0, Failure(string.Join(' ', ["node", script, .. arguments]), result));
        return result.Output;
    }

    /// <summary>Runs our CLI (<see cref="Repository.RunTlogAsync"/>) from the output directory.</summary>
    public Task<ProcessResult> TlogAsync(params string[] arguments) =>
        Repository.RunTlogAsync(arguments, null, s_timeout, OutputDirectory);

    /// <summary>Runs our CLI and asserts exit code 0.</summary>
    public async Task TlogSucceedsAsync(params string[] arguments)
    {
        var result = await TlogAsync(arguments);
        Assert.True(result.ExitCode == 0, Failure(string.Join(' ', ["tlog", .. arguments]), result));
    }

    public Task<string> TokenAsync() => _system.DevTokenAsync(Email);

    /// <summary>A failure message with everything needed to diagnose it: the client's output and the service logs.</summary>
    public string Failure(string what, ProcessResult result) =>
        $"{what} exited with {result.ExitCode}\n--- output\n{result.Output}\n--- service logs\n{_system.ServiceLogs()}";

    private async Task<ProcessResult> RunNodeAsync(string script, IEnumerable<string> arguments)
    {
        var environment = new Dictionary<string, string>(_system.Endpoints, StringComparer.Ordinal)
        {
            ["IDENTITY_TOKEN"] = await TokenAsync(),
            // Same email, a different sub: sign 3.x proves possession over `sub` for issuers other than Google/Dex.
            ["IDENTITY_TOKEN_DISTINCT_SUB"] = await _system.DevTokenAsync(Email, $"subject-{Guid.NewGuid():N}"),
            ["IDENTITY_EMAIL"] = Email,
            ["INTEROP_OUT_DIR"] = OutputDirectory,
        };
        try
        {
            return await LocalSystem.RunAsync(
                "node", [Path.Combine(ScriptDirectory, script), .. arguments], environment, s_timeout, OutputDirectory);
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"cannot start node ({e.Message}): Node.js 20 or later is required for the sigstore-js interop tests");
            throw;
        }
    }
}
