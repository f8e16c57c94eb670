using System.Text.Json.Nodes;
using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests.Compose;

/// <summary>
/// docker-compose.yml cannot drift from the code: every service it defines runs here, outside Docker, with its command,
/// environment and mounted files (<see cref="ComposeRun"/>), and must become ready; then the system it describes signs
/// and verifies a file. <c>docker-compose config</c> itself is checked by test.sh.
/// </summary>
public sealed class ComposeFileTests
{
    private static readonly string ComposePath = Path.Combine(Repository.Root, "docker-compose.yml");
    private static readonly string DockerfilePath = Path.Combine(Repository.Root, "Dockerfile");

    [Fact]
    public async Task ComposeServices_DevProfileStartedOutsideDocker_BecomeReadyAndSignThroughTheCtLog()
    {
        // No other setting: the dev profile alone makes the CA trust the development issuer.
        var file = ComposeFile.Load(ComposePath, new Dictionary<string, string>(), new HashSet<string>(["dev"], StringComparer.Ordinal));
        await using var compose = new ComposeRun(file, Dockerfile.Load(DockerfilePath));
        await compose.StartAllAsync();

        // Every service ran, and the steps left the public material the services and clients need.
        Assert.Equal(file.Services.Keys.Order(StringComparer.Ordinal), compose.Started.Select(s => s.Name).Order(StringComparer.Ordinal));
        Assert.Contains(compose.Started, s => s.Name == "trusted-root" && s.OneShot);
        var trust = compose.Volume("trust");
        foreach (var name in new[] { "ct-public.pem", "ca-chain.pem", "trusted_root.json", "signing_config.json" })
        {
            Assert.True(File.Exists(Path.Combine(trust, name)), $"the trust volume has no {name}");
        }

        var trustedRoot = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(trust, "trusted_root.json")))!;
        Assert.NotEmpty(trustedRoot["ctlogs"]!.AsArray());
        // Both Rekor logs, v1 and v2: a bundle from either verifies against this root.
        Assert.Equal(2, trustedRoot["tlogs"]!.AsArray().Count);
        Assert.NotEmpty(trustedRoot["certificateAuthorities"]!.AsArray());

        // The dev profile's issuer wrote its entry into the volume the CA reads issuers from; the CA picks it up
        // without a restart, beside the issuers of the mounted issuers.json.
        var issuer = compose.Url("dev-issuer", 5556);
        Assert.True(File.Exists(Path.Combine(compose.Volume("ca-issuers"), "dev-issuer.json")), "the dev issuer wrote no entry for the CA");
        var trusted = await WaitForTrustedIssuerAsync(compose.Url("ca", 5555), issuer);
        Assert.Contains("https://accounts.google.com", trusted);

        // The dev profile's issuer is trusted by the CA, and the CA submits to the CT log: a keyless signature made
        // with the tlog service (as `docker-compose run tlog ...`) verifies against the trusted root the step wrote.
        var blob = Path.Combine(compose.WorkDirectory, "hello.txt");
        var bundle = blob + ".sigstore.json";
        await File.WriteAllTextAsync(blob, "hello, compose");
        // A 503 with Retry-After (the CT log's first submission can outlast the CA's budget on a loaded machine) is
        // retried by tlog itself (docs/cli.md, "Busy services").
        var sign = await compose.RunAsync("tlog", "sign-blob", blob, "--bundle", bundle, "--dev-issuer", "http://127.0.0.1:5556",
            "--dev-email", "compose@example.com", "--fulcio-url", "http://ca:5555", "--rekor-url", "http://log:3000", "--tsa-url", "http://log:3000");
        Assert.True(sign.ExitCode == 0, sign.Output);
        var verify = await compose.RunAsync("tlog", "verify-blob", blob, "--bundle", bundle, "--trusted-root", Path.Combine(trust, "trusted_root.json"),
            "--certificate-identity", "compose@example.com", "--certificate-oidc-issuer", issuer);
        Assert.True(verify.ExitCode == 0, verify.Output);

        using var http = new HttpClient();
        var sth = JsonNode.Parse(await http.GetStringAsync(compose.Url("log", 3000) + "/ct/v1/get-sth"))!;
        Assert.True(sth["tree_size"]!.GetValue<long>() >= 1, "the CA issued a certificate without submitting it to the CT log");

        // The Rekor v2 log runs beside the v1 log, under its own name.
        Assert.StartsWith("localhost:3000\n", await http.GetStringAsync(compose.Url("log", 3000) + "/api/v2/checkpoint"), StringComparison.Ordinal);

        // The TUF repository serves what an offline ceremony publishes with the admin token and the online key the
        // compose file's secrets hold (as its header says to make them).
        await PublishTufAsync(compose, Path.Combine(trust, "trusted_root.json"));
        Assert.Equal(1, JsonNode.Parse(await http.GetStringAsync(compose.Url("log", 3000) + "/tuf/1.root.json"))!["signed"]!["version"]!.GetValue<int>());
        Assert.NotNull(JsonNode.Parse(await http.GetStringAsync(compose.Url("log", 3000) + "/tuf/timestamp.json"))!["signatures"]![0]);
    }

    /// <summary>
    /// Waits until the CA's configuration (<c>/api/v2/configuration</c>) lists <paramref name="issuer"/>: the CA
    /// reloads its issuers directory when a file appears, asynchronously. Returns every issuer URL it lists.
    /// </summary>
    private static async Task<List<string>> WaitForTrustedIssuerAsync(string caUrl, string issuer)
    {
        using var http = new HttpClient();
        var deadline = DateTimeOffset.UtcNow.AddMinutes(1);
        while (true)
        {
            var configuration = JsonNode.Parse(await http.GetStringAsync(caUrl + "/api/v2/configuration"))!;
            var urls = configuration["issuers"]!.AsArray().Select(i => i!["issuerUrl"]?.GetValue<string>()).OfType<string>().ToList();
            if (urls.Contains(issuer))
            {
                return urls;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"the CA does not trust the dev issuer {issuer}; it trusts {string.Join(", ", urls)}");
            await Task.Delay(200);
        }
    }

    private static async Task PublishTufAsync(ComposeRun compose, string trustedRoot)
    {
        var secrets = Path.Combine(compose.WorkDirectory, "project", "secrets");
        var keys = Directory.CreateDirectory(Path.Combine(compose.WorkDirectory, "tuf-keys")).FullName;
        var repo = Path.Combine(compose.WorkDirectory, "tuf-ceremony");
        string[][] steps =
        [
            ["tuf", "generate-key", "--out", Path.Combine(keys, "root")],
            ["tuf", "generate-key", "--out", Path.Combine(keys, "targets")],
            ["tuf", "init", "--repo", repo, "--root-key", Path.Combine(keys, "root.pub"), "--targets-key", Path.Combine(keys, "targets.pub"),
                "--online-key", Path.Combine(secrets, "tuf-online.pub")],
            ["tuf", "add-target", "--repo", repo, "--name", "trusted_root.json", "--file", trustedRoot],
            ["tuf", "sign", "--repo", repo, "--role", "root", "--key", Path.Combine(keys, "root.pem")],
            ["tuf", "sign", "--repo", repo, "--role", "targets", "--key", Path.Combine(keys, "targets.pem")],
            ["tuf", "publish", "--repo", repo, "--server", compose.Url("log", 3000), "--token-file", Path.Combine(secrets, "tuf-admin-token")],
        ];
        foreach (var step in steps)
        {
            var run = await compose.RunAsync("tlog", step);
            Assert.True(run.ExitCode == 0, $"tlog {string.Join(' ', step)}:\n{run.Output}");
        }
    }

    [Fact]
    public void ComposeFile_DefaultProfile_OmitsTheDevelopmentIssuerAndTrustsOnlyTheMountedIssuers()
    {
        var file = ComposeFile.Load(ComposePath, new Dictionary<string, string>(), new HashSet<string>(StringComparer.Ordinal));

        Assert.DoesNotContain("dev-issuer", file.Services.Keys);
        Assert.DoesNotContain("tlog", file.Services.Keys);
        Assert.Equal("/etc/tlog/ca/issuers.json", file.Services["ca"].Environment["Identity__IssuersFile"]);
        // The issuers file and the files it names travel together as one mounted directory.
        var mount = Assert.Single(file.Services["ca"].Volumes, v => v.Target == "/etc/tlog/ca");
        var directory = Path.Combine(Repository.Root, mount.Source);
        var issuers = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "issuers.json")))!["issuers"]!.AsArray();
        foreach (var jwks in issuers.Select(i => i!["jwksFile"]?.GetValue<string>()).OfType<string>())
        {
            Assert.True(File.Exists(Path.Combine(directory, jwks)), $"issuers.json names {jwks}, which the mounted directory lacks");
        }
    }

    [Fact]
    public void ComposeVolumes_NamedVolumeOnABuiltImage_IsADirectoryTheImageUserOwns()
    {
        var file = ComposeFile.Load(ComposePath, new Dictionary<string, string>(), new HashSet<string>(["dev"], StringComparer.Ordinal));
        var dockerfile = Dockerfile.Load(DockerfilePath);
        foreach (var service in file.Services.Values.Where(s => s.BuildTarget is not null))
        {
            var stage = dockerfile.Stage(service.BuildTarget!);
            Assert.Equal("app", stage.User);
            var runs = string.Join('\n', stage.Runs);
            foreach (var mount in service.Volumes.Where(v => !v.IsBind))
            {
                // An empty named volume takes the ownership of the directory it is first mounted on.
                Assert.True(runs.Contains(mount.Target, StringComparison.Ordinal), $"image '{service.BuildTarget}' does not create {mount.Target} ({service.Name})");
                Assert.True(runs.Contains("chown -R app:app /var/lib/tlog", StringComparison.Ordinal) && mount.Target.StartsWith("/var/lib/tlog/", StringComparison.Ordinal),
                    $"{mount.Target} of '{service.Name}' is not under /var/lib/tlog, which the image gives to app");
            }
        }
    }
}
