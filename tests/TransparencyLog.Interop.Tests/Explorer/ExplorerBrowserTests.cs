using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using TransparencyLog.Interop.Tests.Cli;
using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests.Explorer;

/// <summary>
/// The log explorer in a real browser: Debian's chromium driven by playwright-core (tests/interop/explorer), against
/// the system <c>./run.sh</c> started, with entries each test makes itself.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ExplorerBrowserTests(LocalSystem system) : IDisposable
{
    private static readonly string ScriptDirectory = Path.Combine(Repository.Root, "tests", "interop", "explorer");
    private readonly TlogRunner _tlog = new(system);

    [Fact]
    public async Task Search_IdentityWithoutJavaScript_FindsEntrySignedInTest()
    {
        var email = $"explorer-search-{Guid.NewGuid().ToString("N")[..8]}@example.com";
        await _tlog.SignBlobAsync(_tlog.Write("search.txt", $"explorer search {Guid.NewGuid()}\n"), email);

        await RunCaseAsync("search", new() { ["SIGNED_IDENTITY"] = email, ["SIGNED_ISSUER"] = system["OIDC_ISSUER"] });
    }

    [Fact]
    public async Task EntryPage_FulcioCertificate_ShowsSanIssuerAndVerifiedProof()
    {
        var email = $"explorer-entry-{Guid.NewGuid().ToString("N")[..8]}@example.com";
        var bundle = await _tlog.SignBlobAsync(_tlog.Write("entry.txt", $"explorer entry {Guid.NewGuid()}\n"), email);
        var index = LogIndexOf(bundle);

        await RunCaseAsync("entry", new()
        {
            ["ENTRY_PATH"] = $"/explorer/entries/rekor-v1/{index}",
            ["SIGNED_IDENTITY"] = email,
            ["SIGNED_ISSUER"] = system["OIDC_ISSUER"],
        });
    }

    [Fact]
    public async Task SearchAndEntry_IdentityWithMarkupAndQuotes_RenderedAsTextNothingRuns()
    {
        var identity = $"https://example.com/{Guid.NewGuid().ToString("N")[..8]}?a=1&b=\"'><script>window.__explorerXss=1</script><img src=x onerror=\"window.__explorerXss=2\">";
        var entry = await SubmitSelfSignedAsync(identity);

        // The HTML itself, not only the browser's reading of it: the markup arrives escaped.
        using var http = new HttpClient();
        var html = await http.GetStringAsync(ExplorerUrl + $"/explorer/entries/rekor-v1/{entry.Index}");
        Assert.DoesNotContain("<script>window.__explorerXss", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img src=x", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;", html, StringComparison.Ordinal);
        Assert.Contains(identity, WebUtility.HtmlDecode(html), StringComparison.Ordinal);

        await RunCaseAsync("escaping", new() { ["XSS_IDENTITY"] = identity });
    }

    [Fact]
    public async Task HealthPage_MonitorAlertForIdentityWithMarkup_ShownAsTextWithEntryLinkNothingRuns()
    {
        var marker = Guid.NewGuid().ToString("N")[..12];
        var identity = $"https://example.com/monitored/{marker}?x=\"'><script>window.__alertXss=1</script><img src=x onerror=\"window.__alertXss=2\">";
        var entry = await SubmitSelfSignedAsync(identity);
        var config = _tlog.Write("monitor.yaml", $"""
            startIndex: {entry.Index}
            monitoredValues:
              subjects:
                - monitored/{marker}
            """);

        // The real monitor, keeping its state and alerts in the log's own database as the service role.
        var result = await _tlog.RunAsync(
            "monitor", "--once", "--config-file", config, "--url", system["REKOR_URL"], "--vkey", system["REKOR_NOTE_VKEY"],
            "--state-db", system["PG_CONNECTION"], "--state-db-password-file", system["PG_PASSWORD_FILE"]);

        Assert.True(result.ExitCode == 5, $"tlog monitor exited {result.ExitCode}: {result.Output}");
        using var http = new HttpClient();
        var html = await http.GetStringAsync(ExplorerUrl + "/explorer/health");
        Assert.DoesNotContain("<script>window.__alertXss", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img src=x", html, StringComparison.Ordinal);
        await RunCaseAsync("alerts", new()
        {
            ["ALERT_IDENTITY"] = identity,
            ["ALERT_ENTRY_PATH"] = $"/explorer/entries/rekor-v1/{entry.Index}",
        });
    }

    [Fact]
    public async Task EntryPage_BodyChangedInStorage_ShowsFailedProof()
    {
        var entry = await SubmitSelfSignedAsync($"https://example.com/tampered/{Guid.NewGuid():N}");
        var otherDigest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("not the signed artifact")));
        await TamperAsync(entry, otherDigest, () =>
            RunCaseAsync("tampered", new() { ["TAMPERED_PATH"] = $"/explorer/entries/rekor-v1/{entry.Index}" }));
    }

    [Fact]
    public async Task LogPage_EntriesInLastHours_ChartRenders()
    {
        await SubmitSelfSignedAsync($"https://example.com/chart/{Guid.NewGuid():N}");

        await RunCaseAsync("chart", []);
    }

    [Fact]
    public async Task EveryPage_AxeCore_NoSeriousOrCriticalViolations()
    {
        var identity = $"https://example.com/axe/{Guid.NewGuid():N}";
        var entry = await SubmitSelfSignedAsync(identity);
        var tampered = await SubmitSelfSignedAsync($"https://example.com/axe-tampered/{Guid.NewGuid():N}");
        var pages = EveryPage(identity, entry).Select(static p => p.Path).Append($"/explorer/entries/rekor-v1/{tampered.Index}");

        await TamperAsync(tampered, new string('0', 64), () =>
            RunCaseAsync("axe", new() { ["AXE_PAGES"] = JsonSerializer.Serialize(pages) }));
    }

    [Fact]
    public async Task EveryPage_AnyRequest_StrictContentSecurityPolicyNoInlineCodeAndReadOnly()
    {
        var identity = $"https://example.com/csp/{Guid.NewGuid():N}";
        var entry = await SubmitSelfSignedAsync(identity);
        using var http = new HttpClient();
        foreach (var (path, status) in EveryPage(identity, entry))
        {
            using var response = await http.GetAsync(ExplorerUrl + path);
            Assert.True(response.StatusCode == status, $"{path}: {response.StatusCode}");
            var csp = string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("default-src 'none'", csp, StringComparison.Ordinal);
            Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
            Assert.Contains("style-src 'self'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
            Assert.Equal("nosniff", string.Join(' ', response.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("DENY", string.Join(' ', response.Headers.GetValues("X-Frame-Options")));
            var html = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
            Assert.DoesNotContain("style=", html, StringComparison.Ordinal);
            Assert.DoesNotMatch(@"<[^>]*\son[a-z]+\s*=", html); // no inline event handlers either
        }

        using var post = await http.PostAsync(ExplorerUrl + "/explorer/search", new StringContent("q=x"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    /// <summary>
    /// Every kind of explorer page with the status it answers, for the checks that must hold on all of them (axe-core,
    /// the CSP): the search form; searches by identity (first and a later page), artifact digest (prefixed and bare),
    /// log index and entry UUID; an entry; each log's page (a consistency check, older entries, the 30-day chart); the
    /// health page; and the error pages (a bad query, an unknown entry).
    /// </summary>
    private static (string Path, HttpStatusCode Status)[] EveryPage(string identity, (long Index, string DigestHex, string Uuid) entry) =>
    [
        ("/explorer", HttpStatusCode.OK),
        ($"/explorer/search?q={Uri.EscapeDataString(identity)}&type=auto", HttpStatusCode.OK),
        // Keyset paging: a page after a position shows the pager's "First page" link beside its results.
        ($"/explorer/search?q={Uri.EscapeDataString(identity)}&type=identity&after={int.MaxValue}.0", HttpStatusCode.OK),
        ($"/explorer/search?q=sha256:{entry.DigestHex}&type=auto", HttpStatusCode.OK),
        ($"/explorer/search?q={entry.DigestHex}&type=auto", HttpStatusCode.OK),
        ($"/explorer/search?q={entry.Index}&type=auto", HttpStatusCode.OK),
        ($"/explorer/search?q={entry.Uuid}&type=auto", HttpStatusCode.OK),
        ($"/explorer/entries/rekor-v1/{entry.Index}", HttpStatusCode.OK),
        ($"/explorer/logs/rekor-v1?first=1&second={entry.Index + 1}", HttpStatusCode.OK),
        ($"/explorer/logs/rekor-v1?before={entry.Index}", HttpStatusCode.OK),
        ("/explorer/logs/rekor-v2?range=30d", HttpStatusCode.OK),
        ("/explorer/logs/ct", HttpStatusCode.OK),
        ("/explorer/health", HttpStatusCode.OK),
        ("/explorer/search?q=not-a-digest&type=hash", HttpStatusCode.BadRequest),
        ("/explorer/entries/rekor-v1/999999999", HttpStatusCode.NotFound),
    ];

    public void Dispose() => _tlog.Dispose();

    private string ExplorerUrl => system["EXPLORER_URL"].Replace("/explorer", "", StringComparison.Ordinal).TrimEnd('/');

    private static long LogIndexOf(string bundlePath)
    {
        using var bundle = JsonDocument.Parse(File.ReadAllText(bundlePath));
        var entry = bundle.RootElement.GetProperty("verificationMaterial").GetProperty("tlogEntries")[0];
        return long.Parse(entry.GetProperty("logIndex").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A hashedrekord entry signed with a self-made certificate whose URI SAN is <paramref name="identity"/> (any
    /// text, markup included: the log accepts certificates from anyone) and whose issuer extension is a test value.
    /// </summary>
    private async Task<(long Index, string DigestHex, string Uuid)> SubmitSelfSignedAsync(string identity)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=explorer test", key, HashAlgorithmName.SHA256);
        var san = new AsnWriter(AsnEncodingRules.DER);
        san.PushSequence();
        san.WriteCharacterString(UniversalTagNumber.IA5String, identity, new Asn1Tag(TagClass.ContextSpecific, 6));
        san.PopSequence();
        request.CertificateExtensions.Add(new X509Extension("2.5.29.17", san.Encode(), critical: false));
        var issuer = new AsnWriter(AsnEncodingRules.DER);
        issuer.WriteCharacterString(UniversalTagNumber.UTF8String, "https://issuer.example.com");
        request.CertificateExtensions.Add(new X509Extension("1.3.6.1.4.1.57264.1.8", issuer.Encode(), critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(10));

        var digest = SHA256.HashData(Encoding.UTF8.GetBytes($"explorer artifact {Guid.NewGuid()}"));
        var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
        var body = JsonSerializer.Serialize(new
        {
            apiVersion = "0.0.1",
            kind = "hashedrekord",
            spec = new
            {
                data = new { hash = new { algorithm = "sha256", value = Convert.ToHexStringLower(digest) } },
                signature = new
                {
                    content = Convert.ToBase64String(signature),
                    publicKey = new { content = Convert.ToBase64String(Encoding.UTF8.GetBytes(certificate.ExportCertificatePem() + "\n")) },
                },
            },
        });
        using var http = new HttpClient();
        using var response = await http.PostAsync(system["REKOR_URL"] + "/api/v1/log/entries", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {text}");
        using var created = JsonDocument.Parse(text);
        var added = created.RootElement.EnumerateObject().First();
        return (added.Value.GetProperty("logIndex").GetInt64(), Convert.ToHexStringLower(digest), added.Name);
    }

    /// <summary>
    /// Changes an entry's body in storage while <paramref name="check"/> runs, as a superuser with triggers off (the
    /// only way around the append-only triggers, as an attacker holding the database would do it), then puts the
    /// body back, so the shared system's own integrity checks never find this test's damage.
    /// </summary>
    private async Task TamperAsync((long Index, string DigestHex, string Uuid) entry, string replacement, Func<Task> check)
    {
        const string Where = "log_id = (SELECT id FROM logs WHERE kind = 'rekor-v1') AND idx = ";
        await PsqlAsync($"""
            SET session_replication_role = replica;
            UPDATE entries SET body = convert_to(replace(convert_from(body, 'UTF8'), '{entry.DigestHex}', '{replacement}'), 'UTF8')
            WHERE {Where}{entry.Index};
            """);
        try
        {
            await check();
        }
        finally
        {
            await PsqlAsync($"""
                SET session_replication_role = replica;
                UPDATE entries SET body = convert_to(replace(convert_from(body, 'UTF8'), '{replacement}', '{entry.DigestHex}'), 'UTF8')
                WHERE {Where}{entry.Index};
                """);
        }
    }

    /// <summary>Runs SQL as the cluster's superuser, as someone with direct access to the database would.</summary>
    private async Task PsqlAsync(string sql)
    {
        var result = await LocalSystem.RunAsync(
            Path.Combine(Repository.Root, "scripts", "pg.sh"),
            ["psql", Path.Combine(system.DataDirectory, "pg"), system.PostgresPort, "-d", "transparency_log", "-c", sql],
            null,
            TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, $"psql failed: {result.Output}");
    }

    private async Task RunCaseAsync(string name, Dictionary<string, string> variables)
    {
        Assert.True(
            Directory.Exists(Path.Combine(ScriptDirectory, "node_modules", "playwright-core")),
            $"{ScriptDirectory}/node_modules is missing: run npm ci in tests/interop/explorer");
        var environment = new Dictionary<string, string>(variables, StringComparer.Ordinal) { ["EXPLORER_URL"] = ExplorerUrl };
        var result = await LocalSystem.RunAsync("node", [Path.Combine(ScriptDirectory, "explorer.mjs"), name], environment, TimeSpan.FromMinutes(3), ScriptDirectory);
        Assert.True(result.ExitCode == 0, $"browser case {name} failed:\n{result.Output}\n--- service logs\n{system.ServiceLogs()}");
        Assert.Contains($"ok {name}", result.StandardOutput, StringComparison.Ordinal);
    }
}
