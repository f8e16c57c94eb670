using System.Net;
using System.Text.Json;
using TransparencyLog.CaService.Tests.Infrastructure;

namespace TransparencyLog.CaService.Tests.Identity;

/// <summary>
/// The CA re-reads its issuers file and issuers directory while it runs (Identity:IssuersDirectory): real CA, real
/// development issuers minting real tokens, files written the way an operator (or the compose dev profile) writes them.
/// Each test waits for the CA's reload event after a change, then checks what clients see.
/// </summary>
public sealed class IssuerReloadTests : IAsyncLifetime
{
    private const int ReloadedEvent = 1101;
    private const int ReloadFailedEvent = 1102;

    private readonly string _root = Directory.CreateTempSubdirectory("tlog-issuers-").FullName;

    private DevIssuerServer _first = null!;
    private DevIssuerServer _second = null!;

    private string IssuersFile => Path.Combine(_root, "issuers.json");

    private string IssuersDirectory => Path.Combine(_root, "issuers.d");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(IssuersDirectory);
        (_first, _second) = (await DevIssuerServer.StartAsync(), await DevIssuerServer.StartAsync());
    }

    public async Task DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>A CA trusting two issuer files (the first and second.json); bob's token from the second already issues.</summary>
    private async Task<(CaServer Ca, string SecondFile, string Token)> StartWithTwoIssuersAsync()
    {
        await WriteAsync(IssuersFile, Issuer(_first.Url));
        var second = Path.Combine(IssuersDirectory, "second.json");
        await WriteAsync(second, Issuer(_second.Url));
        var ca = StartCa();
        try
        {
            var token = await _second.MintAsync(email: "bob@example.com");
            await AssertIssuedAsync(ca, token, "bob@example.com");
            return (ca, second, token);
        }
        catch
        {
            await ca.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task IssuersDirectory_FileAdded_ItsIssuerIsTrustedWithoutRestart()
    {
        await WriteAsync(IssuersFile, Issuer(_first.Url));
        await using var ca = StartCa();
        var token = await _second.MintAsync(email: "bob@example.com");
        await AssertRefusedAsync(ca, token, "bob@example.com", HttpStatusCode.BadRequest, "is not configured");

        await ChangeAsync(ca, ReloadedEvent, () => WriteAsync(Path.Combine(IssuersDirectory, "second.json"), Issuer(_second.Url)));

        await AssertIssuedAsync(ca, token, "bob@example.com");
        await AssertIssuedAsync(ca, await _first.MintAsync(email: "alice@example.com"), "alice@example.com");
        Assert.Equal([_first.Url, _second.Url], await TrustedAsync(ca));
    }

    [Fact]
    public async Task IssuersFile_Changed_ItsNewPolicyApplies()
    {
        await WriteAsync(IssuersFile, Issuer(_first.Url, emailDomain: "example.com"));
        await using var ca = StartCa();
        await AssertIssuedAsync(ca, await _first.MintAsync(email: "alice@example.com"), "alice@example.com");

        await ChangeAsync(ca, ReloadedEvent, () => WriteAsync(IssuersFile, Issuer(_first.Url, emailDomain: "example.org")));

        await AssertRefusedAsync(ca, await _first.MintAsync(email: "alice@example.com"), "alice@example.com", HttpStatusCode.Forbidden, "example.com");
        await AssertIssuedAsync(ca, await _first.MintAsync(email: "bob@example.org"), "bob@example.org");
    }

    [Fact]
    public async Task IssuersDirectory_MalformedOrInvalidFile_IsLoggedAndTheLastGoodIssuersStay()
    {
        var (ca, second, token) = await StartWithTwoIssuersAsync();
        await using var _ = ca;

        // Not JSON: the event names the file; nothing the CA trusted changes.
        var broken = Path.Combine(IssuersDirectory, "broken.json");
        var failure = await ChangeAsync(ca, ReloadFailedEvent, () => WriteAsync(broken, """{ "issuers": [ { "issuerUrl": """));
        Assert.Contains(broken, failure, StringComparison.Ordinal);
        Assert.Contains("could not be read", failure, StringComparison.Ordinal);
        Assert.Contains("2 issuers", failure, StringComparison.Ordinal);
        await AssertIssuedAsync(ca, token, "bob@example.com");

        // Valid JSON, invalid issuer: named with its file and what is wrong.
        failure = await ChangeAsync(ca, ReloadFailedEvent, () => WriteAsync(broken, """{ "issuers": [ { "issuerUrl": "https://x.example", "type": "gmail" } ] }"""));
        Assert.Contains($"issuer file '{broken}': issuer 'https://x.example': Type 'gmail' is not one of", failure, StringComparison.Ordinal);

        // A good file broken in place keeps its last good version too.
        await ChangeAsync(ca, ReloadFailedEvent, () => WriteAsync(second, "{"));
        await AssertIssuedAsync(ca, await _second.MintAsync(email: "bob@example.com"), "bob@example.com");
        Assert.Equal([_first.Url, _second.Url], await TrustedAsync(ca));
        Assert.Contains("tlog_ca_issuer_reloads_total{outcome=\"failed\"}", await ca.Rest.GetStringAsync("/metrics"), StringComparison.Ordinal);

        // Fixed, the directory loads again.
        await ChangeAsync(ca, ReloadedEvent, () =>
        {
            File.Delete(broken);
            return WriteAsync(second, Issuer(_second.Url));
        });
        await AssertIssuedAsync(ca, await _second.MintAsync(email: "bob@example.com"), "bob@example.com");
    }

    [Fact]
    public async Task IssuersDirectory_FileRemoved_TokensOfItsIssuerAreRefused()
    {
        var (ca, second, token) = await StartWithTwoIssuersAsync();
        await using var _ = ca;

        var reloaded = await ChangeAsync(ca, ReloadedEvent, () =>
        {
            File.Delete(second);
            return Task.CompletedTask;
        });

        Assert.Contains($"removed [{_second.Url}]", reloaded, StringComparison.Ordinal);
        await AssertRefusedAsync(ca, token, "bob@example.com", HttpStatusCode.BadRequest, "is not configured");
        Assert.Equal([_first.Url], await TrustedAsync(ca));
        var metrics = await ca.Rest.GetStringAsync("/metrics");
        Assert.Contains("\ntlog_ca_trusted_issuers 1\n", metrics, StringComparison.Ordinal);
        Assert.Contains("tlog_ca_issuer_reloads_total{outcome=\"reloaded\"}", metrics, StringComparison.Ordinal);
        await AssertIssuedAsync(ca, await _first.MintAsync(email: "alice@example.com"), "alice@example.com");
    }

    [Fact]
    public async Task DevIssuer_WithCaIssuersDirectory_IsTrustedWhileItRunsAndRefusedAfterItStops()
    {
        // Only a directory (as compose's dev profile gives the CA besides its file): empty at start is allowed.
        await using var ca = StartCa(withFile: false);
        Assert.Empty(await TrustedAsync(ca));
        await using var dev = await ChangeAsync(ca, ReloadedEvent, () => DevIssuerServer.StartAsync(new Dictionary<string, string?>
        {
            ["DevIssuer:CaIssuersDirectory"] = IssuersDirectory,
        }));
        var entry = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(IssuersDirectory, "dev-issuer.json")));
        Assert.Equal(dev.Url, entry.RootElement.GetProperty("issuers")[0].GetProperty("issuerUrl").GetString());
        var token = await dev.MintAsync(email: "dev@example.com");
        await AssertIssuedAsync(ca, token, "dev@example.com");

        await ChangeAsync(ca, ReloadedEvent, dev.StopAsync);

        Assert.False(File.Exists(Path.Combine(IssuersDirectory, "dev-issuer.json")), "the stopped dev issuer left its entry");
        await AssertRefusedAsync(ca, token, "dev@example.com", HttpStatusCode.BadRequest, "is not configured");
        Assert.Empty(await TrustedAsync(ca));
    }

    private CaServer StartCa(bool withFile = true)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Api:RateLimits:PerAddressPermits"] = "0",
            ["Api:RateLimits:PerIdentityPermits"] = "0",
            ["Identity:IssuersDirectory"] = IssuersDirectory,
        };
        if (withFile)
        {
            settings["Identity:IssuersFile"] = IssuersFile;
        }

        return CaServer.Start(settings);
    }

    private static string Issuer(string url, string? emailDomain = null) => JsonSerializer.Serialize(new
    {
        issuers = new[]
        {
            new { issuerUrl = url, type = "email", policy = new { emailDomains = emailDomain is null ? Array.Empty<string>() : [emailDomain] } },
        },
    });

    /// <summary>Replaces a file's content in place, as an editor does (not an atomic rename).</summary>
    private static Task WriteAsync(string path, string content) => File.WriteAllTextAsync(path, content);

    /// <summary>Makes a change and waits for the CA's next reload event of <paramref name="eventId"/>; returns its message.</summary>
    private static async Task<string> ChangeAsync(CaServer ca, int eventId, Func<Task> change)
    {
        var before = ca.Logs.Events.Count(e => e.Id.Id == eventId);
        await ChangeAsync(ca, eventId, async () =>
        {
            await change();
            return 0;
        });
        return ca.Logs.Events.Where(e => e.Id.Id == eventId).Skip(before).First().Message;
    }

    /// <summary>
    /// Makes a change and waits until the CA logs a reload event of <paramref name="eventId"/> after it. A change of
    /// several files may be seen half-made first (a failed reload, then a good one), as docs/ca.md says.
    /// </summary>
    private static async Task<T> ChangeAsync<T>(CaServer ca, int eventId, Func<Task<T>> change)
    {
        var before = ca.Logs.Events.Count(e => e.Id.Id == eventId);
        var result = await change();
        // The CA is notified by the file system (or re-reads every 5 s): a minute is a broken reload, not a slow one.
        var deadline = DateTimeOffset.UtcNow.AddMinutes(1);
        while (ca.Logs.Events.Count(e => e.Id.Id == eventId) == before)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"the CA logged no event {eventId} after the change; its reload events: "
                + string.Join(" | ", ca.Logs.Events.Where(e => e.Id.Id is ReloadedEvent or ReloadFailedEvent).Select(e => e.Message)));
            await Task.Delay(50);
        }

        return result;
    }

    private static async Task<List<string>> TrustedAsync(CaServer ca)
    {
        using var configuration = JsonDocument.Parse(await ca.Rest.GetStringAsync("/api/v2/configuration"));
        return configuration.RootElement.TryGetProperty("issuers", out var issuers)
            ? [.. issuers.EnumerateArray().Select(i => i.GetProperty("issuerUrl").GetString() ?? "")]
            : [];
    }

    private static async Task AssertIssuedAsync(CaServer ca, string token, string email)
    {
        using var key = new TestKey();
        using var response = await CaResponses.PostSigningCertAsync(ca.Rest, key.RequestJson(token, email));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {body}");
        Assert.Equal(email, CaResponses.San(CaResponses.Leaf(body)).Value);
    }

    private static async Task AssertRefusedAsync(CaServer ca, string token, string email, HttpStatusCode status, string reason)
    {
        using var key = new TestKey();
        using var response = await CaResponses.PostSigningCertAsync(ca.Rest, key.RequestJson(token, email));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        Assert.Contains(reason, body, StringComparison.Ordinal);
    }
}
