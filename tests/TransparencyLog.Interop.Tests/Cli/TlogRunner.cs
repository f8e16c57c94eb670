using System.Security.Cryptography;
using System.Text.Json;
using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests.Cli;

/// <summary>
/// Runs the <c>tlog</c> CLI as a separate process (<see cref="Repository.RunTlogAsync"/>: the published build under
/// ./test.sh, else <c>dotnet tlog.dll …</c>) against the running system, in a private working directory. Environment
/// variables the CLI reads are cleared unless a test sets them, so the developer's own shell cannot change what a test
/// exercises.
/// </summary>
internal sealed class TlogRunner : IDisposable
{
    private static readonly string[] s_cliVariables =
    [
        "FULCIO_URL", "REKOR_URL", "REKOR_V2_URL", "TSA_URL", "SIGSTORE_ID_TOKEN", "COSIGN_PASSWORD", "TLOG_KEY_PASSWORD", "TLOG_TRUSTED_ROOT", "SIGSTORE_ROOT_FILE", "COSIGN_REPOSITORY",
    ];

    /// <summary>The identity most tests sign as.</summary>
    public const string Alice = "alice@example.com";

    public TlogRunner(LocalSystem system)
    {
        Services = system;
        Directory = System.IO.Directory.CreateTempSubdirectory("tlog-cli-").FullName;
    }

    public LocalSystem Services { get; }

    /// <summary>The working directory; every file a test creates lives here.</summary>
    public string Directory { get; }

    public string PathOf(string name) => Path.Combine(Directory, name);

    /// <summary>Writes a file in the working directory and returns its full path.</summary>
    public string Write(string name, string contents)
    {
        var path = PathOf(name);
        File.WriteAllText(path, contents);
        return path;
    }

    /// <summary>A fresh P-256 key pair as <c>NAME.key</c> (PKCS#8 PEM) and <c>NAME.pub</c> (SPKI PEM); returns both paths.</summary>
    public (string PrivateKey, string PublicKey) WriteKeyPair(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (Write(name + ".key", key.ExportPkcs8PrivateKeyPem()), Write(name + ".pub", key.ExportSubjectPublicKeyInfoPem()));
    }

    public Task<ProcessResult> RunAsync(params string[] arguments) => RunAsync(arguments, null);

    public async Task<ProcessResult> RunAsync(IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment)
    {
        var variables = s_cliVariables.ToDictionary(static v => v, static _ => string.Empty, StringComparer.Ordinal);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            variables[key] = value;
        }

        return await Repository.RunTlogAsync(arguments, variables, TimeSpan.FromMinutes(2), Directory);
    }

    /// <summary>Runs a command that must succeed (exit 0), with the output and the services' logs in the failure message.</summary>
    public async Task<ProcessResult> SucceedAsync(params string[] arguments)
    {
        var result = await RunAsync(arguments);
        Assert.True(
            result.ExitCode == 0,
            $"tlog {string.Join(' ', arguments)} exited {result.ExitCode}:\n{result.Output}\n--- service logs\n{Services.ServiceLogs()}");
        return result;
    }

    /// <summary>Keyless signing with a fresh development token for <paramref name="email"/>; returns the bundle path.</summary>
    public async Task<string> SignBlobAsync(string file, string email, params string[] extra)
    {
        var token = await Services.DevTokenAsync(email);
        await SucceedAsync(["sign-blob", file, "--identity-token", token, "--fulcio-url", Services["FULCIO_URL"], "--rekor-url", Services["REKOR_URL"], .. extra]);
        return file + ".sigstore.json";
    }

    /// <summary>The exact-identity policy flags for <paramref name="email"/> under the development issuer.</summary>
    public string[] Identity(string email = Alice) =>
        ["--certificate-identity", email, "--certificate-oidc-issuer", Services["OIDC_ISSUER"]];

    /// <summary><c>verify-blob</c> (or another verify command) against the system's trusted root.</summary>
    public Task<ProcessResult> VerifyAsync(string command, string file, params string[] extra) =>
        RunAsync([command, file, "--trusted-root", Services["TRUSTED_ROOT"], .. extra]);

    /// <summary>Asserts the exit code and that stderr gives the reason (a stable code such as SIGNATURE_ERROR, or a phrase).</summary>
    public static void AssertFailed(ProcessResult result, int exitCode, string reason)
    {
        Assert.True(result.ExitCode == exitCode, $"expected exit code {exitCode}, got {result.ExitCode}:\n{result.Output}");
        Assert.Contains(reason, result.StandardError, StringComparison.Ordinal);
    }

    /// <summary>The single JSON document <c>--output json</c> printed on stdout.</summary>
    public static JsonElement Json(ProcessResult result)
    {
        using var document = JsonDocument.Parse(result.StandardOutput);
        return document.RootElement.Clone();
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
