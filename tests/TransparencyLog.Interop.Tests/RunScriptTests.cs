using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests;

[Collection(SystemCollection.Name)]
public sealed class RunScriptTests(LocalSystem system)
{
    [Theory]
    [InlineData("REKOR_URL")]
    [InlineData("REKOR_NOTE_VKEY")]
    [InlineData("REKOR_V2_URL")]
    [InlineData("TSA_URL")]
    [InlineData("CT_LOG_URL")]
    [InlineData("FULCIO_URL")]
    [InlineData("FULCIO_GRPC")]
    [InlineData("OIDC_ISSUER")]
    [InlineData("DEV_TOKEN_CMD")]
    [InlineData("TRUSTED_ROOT")]
    [InlineData("SIGNING_CONFIG")]
    [InlineData("PG_CONNECTION")]
    [InlineData("PG_PASSWORD_FILE")]
    [InlineData("EXPLORER_URL")]
    [InlineData("WITNESS_URL")]
    [InlineData("WITNESS_VKEY")]
    [InlineData("WITNESS_POLICY")]
    public void RunBackground_EndpointsFile_HasEveryVariable(string name) =>
        Assert.False(string.IsNullOrWhiteSpace(system[name]), $"{name} is empty");

    [Theory]
    [InlineData("REKOR_URL", "/healthz")]
    [InlineData("FULCIO_URL", "/healthz")]
    [InlineData("REKOR_URL", "/readyz")]
    [InlineData("FULCIO_URL", "/readyz")]
    [InlineData("OIDC_ISSUER", "/readyz")]
    [InlineData("REKOR_URL", "/metrics")]
    [InlineData("FULCIO_URL", "/openapi/v1.json")]
    [InlineData("OIDC_ISSUER", "/.well-known/openid-configuration")]
    [InlineData("REKOR_URL", "/api/v1/log")]
    [InlineData("FULCIO_URL", "/api/v2/trustBundle")]
    [InlineData("EXPLORER_URL", "")]
    [InlineData("WITNESS_URL", "/readyz")]
    public async Task RunBackground_Services_AnswerOnTheirUrls(string variable, string path)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync(system[variable] + path);
        Assert.True(response.IsSuccessStatusCode, $"{system[variable]}{path} answered {(int)response.StatusCode}");
    }

    [Fact]
    public async Task RunBackground_SecondStartWhileRunning_SaysSoAndChangesNothing()
    {
        var pids = Path.Combine(system.DataDirectory, "pids");
        var before = Directory.GetFiles(pids, "*.pid").ToDictionary(f => Path.GetFileName(f), File.ReadAllText, StringComparer.Ordinal);
        var endpoints = await File.ReadAllTextAsync(Path.Combine(system.DataDirectory, "endpoints.env"));

        var result = await system.RunScriptAsync("--background");

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("already running", result.Output, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetFiles(pids, "*.pid").ToDictionary(f => Path.GetFileName(f), File.ReadAllText, StringComparer.Ordinal));
        Assert.Equal(endpoints, await File.ReadAllTextAsync(Path.Combine(system.DataDirectory, "endpoints.env")));
        using var http = new HttpClient();
        using var ready = await http.GetAsync(system["REKOR_URL"] + "/readyz");
        Assert.True(ready.IsSuccessStatusCode, $"readyz answered {(int)ready.StatusCode}");
    }

    [Fact]
    public async Task RunBackground_EndpointsEnv_NamesTheInitialRootTufRootJsonNotCosignsCacheVariable()
    {
        // cosign reads $TUF_ROOT as its cache directory (and deletes it on initialize); the initial root.json file is
        // $TUF_ROOT_JSON, the name cosign and sigstore-go read for a custom mirror's root.
        var variables = (await File.ReadAllLinesAsync(Path.Combine(system.DataDirectory, "endpoints.env")))
            .Where(static l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#'))
            .Select(static l => l[..l.IndexOf('=', StringComparison.Ordinal)])
            .ToList();

        Assert.DoesNotContain("TUF_ROOT", variables);
        Assert.Contains("TUF_ROOT_JSON", variables);
        Assert.EndsWith("1.root.json", system["TUF_ROOT_JSON"], StringComparison.Ordinal);
        Assert.True(File.Exists(system["TUF_ROOT_JSON"]), system["TUF_ROOT_JSON"]);
    }

    [Fact]
    public async Task RunBackground_Fsck_FindsEveryLogConsistent()
    {
        var result = await FsckAsync(system["PG_CONNECTION"], "--password-file", system["PG_PASSWORD_FILE"], "--full");
        Assert.True(result.ExitCode == 0, result.StandardOutput + result.StandardError);
        Assert.Contains("fsck: 3 log(s) consistent", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task RunBackground_LocalCluster_RequiresPasswordsAndKeepsItsSocketPrivate()
    {
        // Neither the service role nor the superuser gets in without a password, over TCP.
        Assert.Equal(3, (await FsckAsync(system["PG_CONNECTION"])).ExitCode);
        var superuser = system["PG_CONNECTION"].Replace("Username=tlog_app", "Username=postgres", StringComparison.Ordinal);
        Assert.Equal(3, (await FsckAsync(superuser)).ExitCode);

        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Assert.Equal(OwnerOnly, File.GetUnixFileMode(Path.Combine(system.DataDirectory, "pg", "socket")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(system.DataDirectory, "pg", "superuser-password")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(system["PG_PASSWORD_FILE"]));
        var hba = await File.ReadAllTextAsync(Path.Combine(system.DataDirectory, "pg", "data", "pg_hba.conf"));
        Assert.DoesNotContain("trust", hba.Split('\n').Where(l => !l.StartsWith('#')).SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)));
    }

    private static Task<ProcessResult> FsckAsync(string connection, params string[] options) =>
        LocalSystem.RunAsync(
            "dotnet",
            [Path.Combine(Repository.Root, "src", "TransparencyLog.LogService", "bin", Repository.Configuration, "net10.0", "TransparencyLog.LogService.dll"), "fsck", "--connection", connection, .. options],
            new Dictionary<string, string> { ["Storage__PasswordFile"] = "" },
            TimeSpan.FromMinutes(2));

    [Fact]
    public async Task DevTokenCommand_Email_PrintsAThreePartJwt()
    {
        var token = await system.DevTokenAsync("someone@example.com");
        Assert.Equal(2, token.Count(c => c == '.'));
    }
}
