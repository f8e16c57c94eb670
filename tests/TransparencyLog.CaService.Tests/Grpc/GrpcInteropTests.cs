using System.Diagnostics;
using System.Text.Json;
using TransparencyLog.CaService.Tests.Infrastructure;

namespace TransparencyLog.CaService.Tests.Grpc;

/// <summary>
/// An unmodified gRPC client (@grpc/grpc-js with proto-loader reading proto/fulcio.proto) against the gRPC port.
/// Requires node and <c>tests/interop/grpc/setup.sh</c> to have been run; fails (never skips) otherwise.
/// </summary>
[Collection(CaFixture.Collection)]
public sealed class GrpcInteropTests(CaFixture fixture)
{
    [Fact]
    public async Task GrpcJsClient_AllThreeRpcsAndAnInvalidToken_BehaveLikeFulcio()
    {
        var directory = InteropDirectory();
        Assert.True(Directory.Exists(Path.Combine(directory, "node_modules", "@grpc", "grpc-js")),
            $"the gRPC interop packages are not installed: run {Path.Combine(directory, "setup.sh")} (npm ci) first");
        var token = await fixture.Email.MintAsync(email: "alice@example.com");
        using var key = new TestKey();
        var start = new ProcessStartInfo("node", "ca-grpc.test.mjs")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["CA_GRPC_ADDRESS"] = new Uri(fixture.Ca.GrpcUrl).Authority,
                ["CA_TOKEN"] = token,
                ["CA_PUBLIC_KEY_PEM"] = key.PublicKeyPem,
                ["CA_PROOF"] = key.Prove("alice@example.com"),
            },
        };

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"node is required for the gRPC interop test and could not be started: {e.Message}");
            return;
        }

        using (process)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            Assert.True(process.ExitCode == 0, $"node exited with {process.ExitCode}:\n{await stderr}\n{await stdout}");
            using var results = JsonDocument.Parse(await stdout);
            Assert.Equal(3, results.RootElement.GetProperty("errorCode").GetInt32());
            Assert.True(results.RootElement.GetProperty("chainLength").GetInt32() >= 2);
            Assert.Equal(10, results.RootElement.GetProperty("configurationIssuers").GetInt32());
        }
    }

    private static string InteropDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "tests", "interop", "grpc");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("tests/interop/grpc not found above " + AppContext.BaseDirectory);
    }
}
