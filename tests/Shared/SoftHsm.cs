using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TransparencyLog.Testing;

/// <summary>
/// A SoftHSM2 token directory for this test process, with keys made by <c>pkcs11-tool</c> (opensc). SoftHSM reads
/// SOFTHSM2_CONF when the module is first initialised, and a module is initialised once per process, so there is one
/// token per test process, holding every key its tests use.
/// </summary>
internal static class SoftHsm
{
    public const string Module = "/usr/lib/softhsm/libsofthsm2.so";
    public const string Pin = "1234-test-pin";

    /// <summary>Every key the tests of a process use, made before the module is first loaded: SoftHSM lists the
    /// tokens and objects of its directory when initialised, so later additions would stay invisible.</summary>
    private static readonly (string Label, string KeyType)[] Keys =
    [
        ("ec-key", "EC:prime256v1"), ("ed-key", "EC:edwards25519"), ("rsa-key", "rsa:2048"),
        ("log-key", "EC:prime256v1"), ("log-v2-key", "EC:edwards25519"), ("ct-key", "EC:prime256v1"),
        ("tsa-key", "EC:prime256v1"), ("ca-key", "EC:prime256v1"),
    ];

    private static readonly Lazy<(string Directory, string Token)> _token = new(Create);

    /// <summary>The SOFTHSM2_CONF value a child process needs to see this process's token.</summary>
    public static string ConfigurationFile => Path.Combine(_token.Value.Directory, "softhsm2.conf");

    /// <summary>The label of this process's token.</summary>
    public static string Token => _token.Value.Token;

    /// <summary>A URI for one of <see cref="Keys"/>, the PIN in a file.</summary>
    public static string Uri(string key) => Uri(Token, key);

    /// <summary>A URI for a key of any token label, the PIN in a file.</summary>
    public static string Uri(string token, string key)
    {
        var pinFile = Path.Combine(_token.Value.Directory, "pin");
        return $"pkcs11:token={token};object={key}?module-path={Module}&pin-source=file:{pinFile}";
    }

    private static (string, string) Create()
    {
        Assert.True(File.Exists(Module), $"SoftHSM2 is required for the HSM tests: install softhsm2 and opensc ({Module} is missing)");
        var directory = Path.Combine(Path.GetTempPath(), $"tlog-softhsm-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(directory, "tokens"));
        var conf = Path.Combine(directory, "softhsm2.conf");
        File.WriteAllText(conf, $"directories.tokendir = {Path.Combine(directory, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\n");
        File.WriteAllText(Path.Combine(directory, "pin"), Pin + "\n");
        var label = $"tlog-test-{Environment.ProcessId}";
        Run("softhsm2-util", $"--init-token --free --label {label} --pin {Pin} --so-pin 0000-so", directory);
        var id = 1;
        foreach (var (keyLabel, type) in Keys)
        {
            Run("pkcs11-tool", $"--module {Module} --token-label {label} --login --pin {Pin} --keypairgen --key-type {type} --label {keyLabel} --id {id++:x2}", directory);
        }

        // The module reads the native environment, which Environment.SetEnvironmentVariable does not change on Unix.
        Assert.Equal(0, NativeMethods.setenv("SOFTHSM2_CONF", conf, 1));
        return (directory, label);
    }

    private static void Run(string command, string arguments, string directory)
    {
        var start = new ProcessStartInfo(command, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["SOFTHSM2_CONF"] = Path.Combine(directory, "softhsm2.conf") },
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException(command + " did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{command} {arguments} failed ({process.ExitCode}): {stderr}{stdout.Result}");
    }
}

internal static partial class NativeMethods
{
    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int setenv(string name, string value, int overwrite);
}
