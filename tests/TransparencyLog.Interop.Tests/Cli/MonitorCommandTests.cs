using System.Globalization;
using System.Text.Json;
using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests.Cli;

/// <summary><c>tlog monitor --once</c> against the running log's Rekor v1, Rekor v2 and CT tiles.</summary>
[Collection(SystemCollection.Name)]
public sealed class MonitorCommandTests(LocalSystem system) : IDisposable
{
    private readonly TlogRunner _tlog = new(system);

    private string Config(string email) => $"startIndex: 0\nmonitoredValues:\n  certIdentities:\n    - certSubject: ^{email.Replace(".", "\\.", StringComparison.Ordinal)}$\n      issuers:\n        - ^{system["OIDC_ISSUER"].Replace(".", "\\.", StringComparison.Ordinal)}$\n";

    [Fact]
    public async Task Monitor_RekorV1Tiles_FindsTheKeylessSignatureOnceAndVerifiesTheLog()
    {
        var email = $"monitor-{Guid.NewGuid():N}@example.com";
        var file = _tlog.Write("monitored.txt", $"monitored {Guid.NewGuid()}\n");
        var bundle = await _tlog.SignBlobAsync(file, email);
        var state = _tlog.PathOf("v1.state");
        string[] monitor = ["monitor", "--config", Config(email), "--url", system["REKOR_URL"], "--state", state, "--vkey", system["REKOR_NOTE_VKEY"]];

        var first = await _tlog.RunAsync(monitor);
        var second = await _tlog.RunAsync(monitor);

        Assert.True(first.ExitCode == 5, first.Output);
        using var logged = JsonDocument.Parse(await File.ReadAllTextAsync(bundle));
        var index = long.Parse(logged.RootElement.GetProperty("verificationMaterial").GetProperty("tlogEntries")[0].GetProperty("logIndex").GetString()!, CultureInfo.InvariantCulture);
        using var line = JsonDocument.Parse(first.StandardOutput.Trim());
        Assert.Equal(index, line.RootElement.GetProperty("logIndex").GetInt64());
        Assert.Equal(email, line.RootElement.GetProperty("value").GetString());
        Assert.True(second.ExitCode == 0, second.Output);
    }

    [Fact]
    public async Task Monitor_RekorV2Tiles_FindsTheKeylessSignature()
    {
        var email = $"monitor-v2-{Guid.NewGuid():N}@example.com";
        var file = _tlog.Write("monitored-v2.txt", $"monitored v2 {Guid.NewGuid()}\n");
        var token = await system.DevTokenAsync(email);
        await _tlog.SucceedAsync("sign-blob", file, "--identity-token", token, "--fulcio-url", system["FULCIO_URL"],
            "--rekor-version", "2", "--rekor-url", system["REKOR_V2_URL"], "--tsa-url", system["TSA_URL"]);

        var result = await _tlog.RunAsync("monitor", "--config", Config(email), "--url", system["REKOR_V2_URL"], "--log-kind", "rekor-v2", "--state", _tlog.PathOf("v2.state"));

        Assert.True(result.ExitCode == 5, result.Output);
        using var line = JsonDocument.Parse(result.StandardOutput.Trim());
        Assert.Equal(email, line.RootElement.GetProperty("value").GetString());
    }

    [Fact]
    public async Task Monitor_CtLogTiles_FindsThePrecertificateOfAKeylessSignatureOnce()
    {
        var email = $"monitor-ct-{Guid.NewGuid():N}@example.com";
        var file = _tlog.Write("monitored-ct.txt", $"monitored ct {Guid.NewGuid()}\n");
        await _tlog.SignBlobAsync(file, email);
        string[] monitor = ["monitor", "--config", Config(email), "--url", system["CT_LOG_URL"], "--log-kind", "ct", "--state", _tlog.PathOf("ct.state")];

        var first = await _tlog.RunAsync(monitor);
        var second = await _tlog.RunAsync(monitor);

        // The CA logs a precertificate naming the signer (and its issuer extension) before it issues the certificate.
        Assert.True(first.ExitCode == 5, first.Output);
        using var line = JsonDocument.Parse(first.StandardOutput.Trim());
        Assert.Equal(email, line.RootElement.GetProperty("value").GetString());
        Assert.Equal(system["OIDC_ISSUER"], line.RootElement.GetProperty("issuer").GetString());
        Assert.True(second.ExitCode == 0, second.Output);
    }

    [Fact]
    public async Task Monitor_RekorV1ThroughItsApi_FindsTheKeylessSignatureOnceAndNotAgainAfterRestart()
    {
        var email = $"monitor-api-{Guid.NewGuid():N}@example.com";
        var file = _tlog.Write("monitored-api.txt", $"monitored api {Guid.NewGuid()}\n");
        var bundle = await _tlog.SignBlobAsync(file, email);
        string[] monitor = ["monitor", "--config", Config(email), "--url", system["REKOR_URL"], "--log-source", "api", "--state", _tlog.PathOf("v1-api.state"), "--vkey", system["REKOR_NOTE_VKEY"]];

        var first = await _tlog.RunAsync(monitor);
        var second = await _tlog.RunAsync(monitor);
        var another = await _tlog.SignBlobAsync(_tlog.Write("monitored-api-2.txt", $"monitored api 2 {Guid.NewGuid()}\n"), email);
        var third = await _tlog.RunAsync(monitor);

        // Through /api/v1/log, /api/v1/log/proof and /api/v1/log/entries/retrieve only, the whole log from index 0.
        Assert.True(first.ExitCode == 5, first.Output);
        using var line = JsonDocument.Parse(first.StandardOutput.Trim());
        Assert.Equal(LogIndex(bundle), line.RootElement.GetProperty("logIndex").GetInt64());
        Assert.Equal(email, line.RootElement.GetProperty("value").GetString());
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.True(third.ExitCode == 5, third.Output);
        using var next = JsonDocument.Parse(third.StandardOutput.Trim());
        Assert.Equal(LogIndex(another), next.RootElement.GetProperty("logIndex").GetInt64());
    }

    [Fact]
    public async Task Monitor_CtLogThroughRfc6962Api_FindsThePrecertificateOnceAndNotAgainAfterRestart()
    {
        var email = $"monitor-ct-api-{Guid.NewGuid():N}@example.com";
        var file = _tlog.Write("monitored-ct-api.txt", $"monitored ct api {Guid.NewGuid()}\n");
        await _tlog.SignBlobAsync(file, email);
        string[] monitor = ["monitor", "--config", Config(email), "--url", system["CT_LOG_URL"], "--log-kind", "ct", "--log-source", "api", "--state", _tlog.PathOf("ct-api.state")];

        var first = await _tlog.RunAsync(monitor);
        var second = await _tlog.RunAsync(monitor);
        await _tlog.SignBlobAsync(_tlog.Write("monitored-ct-api-2.txt", $"monitored ct api 2 {Guid.NewGuid()}\n"), email);
        var third = await _tlog.RunAsync(monitor);

        // get-sth (its signature checked with the key from /v1/public-key), get-sth-consistency and get-entries only.
        Assert.True(first.ExitCode == 5, first.Output);
        using var line = JsonDocument.Parse(first.StandardOutput.Trim());
        Assert.Equal(email, line.RootElement.GetProperty("value").GetString());
        Assert.Equal(system["OIDC_ISSUER"], line.RootElement.GetProperty("issuer").GetString());
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.True(third.ExitCode == 5, third.Output);
        var later = third.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(static l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.NotEmpty(later);
        Assert.All(later, e => Assert.True(e.GetProperty("logIndex").GetInt64() > line.RootElement.GetProperty("logIndex").GetInt64()));
    }

    private static long LogIndex(string bundle)
    {
        using var logged = JsonDocument.Parse(File.ReadAllText(bundle));
        return long.Parse(logged.RootElement.GetProperty("verificationMaterial").GetProperty("tlogEntries")[0].GetProperty("logIndex").GetString()!, CultureInfo.InvariantCulture);
    }

    public void Dispose() => _tlog.Dispose();
}
