using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TransparencyLog.Cli.Tuf;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Tuf;
using TransparencyLog.Testing;

namespace TransparencyLog.Cli.Tests.TrustRoot;

/// <summary>
/// Rotation rule R1 from the command line: <c>tlog trusted-root add-ca</c> and <c>add-ctlog</c> put a new CA chain and
/// a new CT log key into the trusted root ahead of the switch (a future start), and the ceremony commands publish it
/// through a running log service's TUF repository, where a TUF client finds both, the old entries unchanged.
/// </summary>
public sealed class TrustedRootAddTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task AddCaAndAddCtLog_FutureStartPublishedThroughTuf_MirrorServesNewEntriesOldOnesUnchanged()
    {
        // A log service with its TUF repository, development keys for the three roles, and trusted root v1.
        await using var tuf = await StartTufAsync();
        var (server, token) = (tuf.Server, tuf.Token);

        using var oldRoot = Ca("Old Root", null);
        using var oldIntermediate = Ca("Old Intermediate", oldRoot);
        using var oldCtKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var since = DateTimeOffset.UtcNow.AddDays(-30);
        var first = TrustedRoot.Empty with
        {
            CertificateAuthorities = [new CertificateAuthority(new DistinguishedName("Test", "Old Intermediate"), "https://ca.example.com", [oldIntermediate.RawData, oldRoot.RawData], new ValidityPeriod(since, null))],
            Ctlogs = [TrustedRoot.CtLogFromSpki(oldCtKey.ExportSubjectPublicKeyInfo(), "https://ct.example.com/2026", new ValidityPeriod(since, null))],
        };
        var rootFile = _cli.WriteFile("trusted_root.json", first.ToJson() + "\n");
        var repo = _cli.PathOf("ceremony");
        await SucceedsAsync("tuf", "init", "--repo", repo, "--root-key", _cli.PathOf("root.pub"), "--targets-key", _cli.PathOf("targets.pub"), "--online-key", _cli.PathOf("online.pub"));
        await PublishAsync(repo, rootFile, server, token, signRoot: true);

        // The new chain (a new root and intermediate) and CT key, added ahead of the switch ten days from now.
        using var newRoot = Ca("New Root", null);
        using var newIntermediate = Ca("New Intermediate", newRoot);
        var chainFile = _cli.WriteFile("new-chain.pem", newIntermediate.ExportCertificatePem() + "\n" + newRoot.ExportCertificatePem() + "\n");
        using var newCtKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var ctKeyFile = _cli.WriteFile("ct-2027.pub", newCtKey.ExportSubjectPublicKeyInfoPem() + "\n");
        var switchAt = DateTimeOffset.UtcNow.AddDays(10);
        var switchText = switchAt.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var next = _cli.PathOf("trusted_root.next.json");
        var added = await SucceedsAsync("trusted-root", "add-ca", "--root", rootFile, "--chain", chainFile, "--valid-from", switchText, "--out", next);
        Assert.Contains("in the future", added, StringComparison.Ordinal);
        await SucceedsAsync("trusted-root", "add-ctlog", "--root", next, "--key", ctKeyFile, "--url", "https://ct.example.com/2027", "--valid-from", switchText, "--out", next);
        await PublishAsync(repo, next, server, token, signRoot: false);

        // A TUF client that trusts only root v1 gets the new trusted root from the mirror.
        var cache = _cli.PathOf("tuf-cache");
        using var http = new HttpClient();
        TufUpdater.Bootstrap(cache, await http.GetByteArrayAsync($"{server}/tuf/1.root.json"));
        var updater = new TufUpdater(http, new Uri($"{server}/tuf/"), cache);
        var state = await updater.RefreshAsync(DateTimeOffset.UtcNow);
        var served = TrustedRoot.Parse(Encoding.UTF8.GetString(await updater.GetTargetAsync(state, "trusted_root.json")));

        var expectedStart = DateTimeOffset.Parse(switchText, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(2, served.CertificateAuthorities.Count);
        Assert.Equal(first.CertificateAuthorities[0].ValidFor, served.CertificateAuthorities[0].ValidFor);
        var ca = served.CertificateAuthorities[1];
        Assert.Equal([newIntermediate.RawData, newRoot.RawData], ca.CertChain);
        Assert.Equal(new ValidityPeriod(expectedStart, null), ca.ValidFor);
        Assert.Equal("https://ca.example.com", ca.Uri);
        Assert.Equal("New Intermediate", ca.Subject?.CommonName);

        Assert.Equal(2, served.Ctlogs.Count);
        Assert.Equal(first.Ctlogs[0].PublicKey.ValidFor, served.Ctlogs[0].PublicKey.ValidFor);
        var ct = served.Ctlogs[1];
        Assert.Equal(SHA256.HashData(newCtKey.ExportSubjectPublicKeyInfo()), ct.LogId);
        Assert.Equal("https://ct.example.com/2027", ct.BaseUrl);
        Assert.Equal(new ValidityPeriod(expectedStart, null), ct.PublicKey.ValidFor);
        Assert.Equal("PKIX_ECDSA_P256_SHA_256", ct.PublicKey.KeyDetails);
    }

    [Fact]
    public async Task AddCaAndAddCtLog_BadInput_RefusedWithReasonNothingWritten()
    {
        using var root = Ca("Root", null);
        using var intermediate = Ca("Intermediate", root);
        using var ctKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var since = new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var rootFile = _cli.WriteFile("trusted_root.json", (TrustedRoot.Empty with
        {
            CertificateAuthorities = [new CertificateAuthority(null, "https://ca.example.com", [intermediate.RawData, root.RawData], new ValidityPeriod(since, null))],
            Ctlogs = [TrustedRoot.CtLogFromSpki(ctKey.ExportSubjectPublicKeyInfo(), "https://ct.example.com", new ValidityPeriod(since, null))],
        }).ToJson());
        var output = _cli.PathOf("out.json");
        using var otherRoot = Ca("Other Root", null);
        using var leafCa = Ca("Other Intermediate", otherRoot);
        using var otherCtKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var cases = new (string[] Args, string Reason)[]
        {
            (["add-ca", "--chain", _cli.WriteFile("reversed.pem", root.ExportCertificatePem() + "\n" + intermediate.ExportCertificatePem()), "--valid-from", "2027-01-01T00:00:00Z"], "not in order"),
            (["add-ca", "--chain", _cli.WriteFile("broken.pem", leafCa.ExportCertificatePem() + "\n" + root.ExportCertificatePem()), "--valid-from", "2027-01-01T00:00:00Z"], "not in order"),
            (["add-ca", "--chain", _cli.WriteFile("same.pem", intermediate.ExportCertificatePem() + "\n" + root.ExportCertificatePem()), "--valid-from", "2027-01-01T00:00:00Z"], "already in the trusted root"),
            (["add-ca", "--chain", _cli.WriteFile("empty.pem", "no certificates here\n"), "--valid-from", "2027-01-01T00:00:00Z"], "1 to 10 PEM certificates"),
            (["add-ca", "--chain", _cli.WriteFile("new.pem", leafCa.ExportCertificatePem() + "\n" + otherRoot.ExportCertificatePem()), "--valid-from", "2026-05-01T00:00:00Z"], "before the newest certificate authority entry's start"),
            (["add-ca", "--chain", _cli.WriteFile("huge.pem", new string('A', 300 * 1024)), "--valid-from", "2027-01-01T00:00:00Z"], "larger than"),
            (["add-ctlog", "--key", _cli.WriteFile("same.pub", ctKey.ExportSubjectPublicKeyInfoPem()), "--url", "https://ct.example.com/2", "--valid-from", "2027-01-01T00:00:00Z"], "already in the trusted root"),
            (["add-ctlog", "--key", _cli.WriteFile("cert.pub", root.ExportCertificatePem()), "--url", "https://ct.example.com/2", "--valid-from", "2027-01-01T00:00:00Z"], "not a PUBLIC KEY PEM"),
            (["add-ctlog", "--key", _cli.WriteFile("new.pub", otherCtKey.ExportSubjectPublicKeyInfoPem()), "--url", "ftp://ct.example.com", "--valid-from", "2027-01-01T00:00:00Z"], "must be an http(s) URL"),
        };
        foreach (var (args, reason) in cases)
        {
            var (exitCode, stdout, stderr) = await _cli.RunAsync(["trusted-root", .. args, "--root", rootFile, "--out", output]);
            Assert.True(exitCode is 1 or 2, $"{string.Join(' ', args)}: exit {exitCode}");
            Assert.Contains(reason, stdout + stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(output), $"{string.Join(' ', args)} wrote {output}");
        }
    }

    /// <summary>A log service with its TUF repository on, and development keys for the three TUF roles.</summary>
    private async Task<TufServer> StartTufAsync()
    {
        foreach (var role in new[] { "root", "targets", "online" })
        {
            await SucceedsAsync("tuf", "generate-key", "--out", _cli.PathOf(role));
        }

        var token = _cli.WriteFile("admin-token", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) + "\n");
        var database = await PostgresServer.CreateDatabaseAsync("trustadd");
        var app = database.App;
        var port = ServiceProcess.FreePort();
        var start = ServiceProcess.Dotnet(RepositoryPaths.ProjectOutput("TransparencyLog.LogService"));
        start.Environment["Urls"] = $"http://127.0.0.1:{port}";
        start.Environment["Storage__ConnectionString"] = app;
        start.Environment["Logs__Rekor__Name"] = "trustadd.log.local";
        start.Environment["Logs__Rekor__StateDirectory"] = _cli.Directory;
        start.Environment["Tuf__Enabled"] = "true";
        start.Environment["Tuf__OnlineKeyPath"] = _cli.PathOf("online.pem");
        start.Environment["Tuf__AdminTokenFile"] = token;
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        try
        {
            var service = await ServiceProcess.StartReadyAsync("the log service", start, new Uri($"http://127.0.0.1:{port}/readyz"));
            return new TufServer(service, database, $"http://127.0.0.1:{port}", token);
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
    }

    /// <summary>The service, and its database, dropped once the service has stopped.</summary>
    private sealed record TufServer(ServiceProcess Process, TestDatabase Database, string Server, string Token) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Process.DisposeAsync();
            await Database.DisposeAsync();
        }
    }

    /// <summary>The targets a TUF client that trusts only root v1 gets from the mirror now.</summary>
    private async Task<(TrustedRoot Root, SigningConfig? Config)> FromMirrorAsync(string server)
    {
        var cache = _cli.PathOf("tuf-cache-" + Guid.NewGuid().ToString("N"));
        using var http = new HttpClient();
        TufUpdater.Bootstrap(cache, await http.GetByteArrayAsync($"{server}/tuf/1.root.json"));
        var updater = new TufUpdater(http, new Uri($"{server}/tuf/"), cache);
        var state = await updater.RefreshAsync(DateTimeOffset.UtcNow);
        var root = TrustedRoot.Parse(Encoding.UTF8.GetString(await updater.GetTargetAsync(state, "trusted_root.json")));
        SigningConfig? config = null;
        try
        {
            config = SigningConfig.Parse(Encoding.UTF8.GetString(await updater.GetTargetAsync(state, "signing_config.v0.2.json")));
        }
        catch (TufException)
        {
            // Not published in this repository.
        }

        return (root, config);
    }

    [Fact]
    public async Task RekorV2PeriodSwitch_NewLogTrustedThenScheduled_PublishEnforcesLeadTimeAndSignersSwitchAtStart()
    {
        await using var tuf = await StartTufAsync();
        var repo = _cli.PathOf("ceremony");
        await SucceedsAsync("tuf", "init", "--repo", repo, "--root-key", _cli.PathOf("root.pub"), "--targets-key", _cli.PathOf("targets.pub"), "--online-key", _cli.PathOf("online.pub"));

        // This period's log A is trusted and in use; next period's log B has just been brought up.
        using var keyA = LogSigner.Generate(LogKeyType.Ed25519);
        using var keyB = LogSigner.Generate(LogKeyType.Ed25519);
        var since = DateTimeOffset.UtcNow.AddDays(-30);
        const string LogA = "https://log2026-2.rekor.example.test";
        const string LogB = "https://log2027-1.rekor.example.test";
        var rootFile = _cli.WriteFile("trusted_root.json", (TrustedRoot.Empty with
        {
            Tlogs = [TrustedRoot.LogFromKey(LogPublicKey.FromPem(keyA.PublicKeyPem), LogA, new ValidityPeriod(since, null), c2spLogId: true)],
        }).ToJson() + "\n");
        var configFile = _cli.WriteFile("signing_config.json", new SigningConfig(
            [new ServiceEndpoint("https://ca.example.test", 1, new ValidityPeriod(since, null))],
            [],
            [new ServiceEndpoint(LogA, 2, new ValidityPeriod(since, null))],
            ServiceSelector.Any,
            [],
            ServiceSelector.Any).ToJson() + "\n");
        await SucceedsAsync("tuf", "add-target", "--repo", repo, "--name", "signing_config.v0.2.json", "--file", configFile);
        await PublishAsync(repo, rootFile, tuf.Server, tuf.Token, signRoot: true);

        // Step 2: the trusted root gets B from its bring-up (now). Step 3: the signing config prepends B from a future start.
        var bringUp = DateTimeOffset.UtcNow;
        var bKeyFile = _cli.WriteFile("log-b.pub", keyB.PublicKeyPem);
        await SucceedsAsync("trusted-root", "add-tlog", "--root", rootFile, "--key", bKeyFile, "--base-url", LogB, "--rekor-v2",
            "--valid-from", bringUp.ToString("O", System.Globalization.CultureInfo.InvariantCulture), "--out", rootFile);

        // R2: a start one day after publication is inside the 9-day default lead time: the server refuses the publish.
        var tooSoon = _cli.PathOf("signing_config.soon.json");
        await SucceedsAsync("signing-config", "add-rekor", "--config", configFile, "--url", LogB, "--valid-from",
            DateTimeOffset.UtcNow.AddDays(1).ToString("O", System.Globalization.CultureInfo.InvariantCulture), "--out", tooSoon);
        await SucceedsAsync("tuf", "add-target", "--repo", repo, "--name", "signing_config.v0.2.json", "--file", tooSoon);
        await SucceedsAsync("tuf", "add-target", "--repo", repo, "--name", "trusted_root.json", "--file", rootFile);
        await SucceedsAsync("tuf", "sign", "--repo", repo, "--role", "targets", "--key", _cli.PathOf("targets.pem"));
        var (refusedCode, refusedOut, refusedErr) = await _cli.RunAsync("tuf", "publish", "--repo", repo, "--server", tuf.Server, "--token-file", tuf.Token);
        Assert.True(refusedCode == 1, $"publish of a start inside the lead time: exit {refusedCode}\n{refusedOut}{refusedErr}");
        Assert.Contains("must start no earlier than", refusedOut + refusedErr, StringComparison.Ordinal);
        var (unchanged, unchangedConfig) = await FromMirrorAsync(tuf.Server);
        Assert.Single(unchanged.Tlogs);
        Assert.Equal(LogA, Assert.Single(unchangedConfig!.RekorTlogUrls).Url);

        // Ten days ahead: published; the old log's entry ends where the new one starts.
        var switchAt = DateTimeOffset.UtcNow.AddDays(10);
        var scheduled = _cli.PathOf("signing_config.next.json");
        var added = await SucceedsAsync("signing-config", "add-rekor", "--config", configFile, "--url", LogB, "--valid-from",
            switchAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture), "--out", scheduled);
        Assert.Contains("ended then: " + LogA, added, StringComparison.Ordinal);
        await SucceedsAsync("tuf", "add-target", "--repo", repo, "--name", "signing_config.v0.2.json", "--file", scheduled);
        await PublishAsync(repo, rootFile, tuf.Server, tuf.Token, signRoot: false);

        var (root, config) = await FromMirrorAsync(tuf.Server);
        Assert.Equal([LogA, LogB], root.Tlogs.Select(static t => t.BaseUrl));
        Assert.Equal(TrustedRootAddCommandsTestView.C2spLogId(LogB, keyB), root.Tlogs[1].LogId);
        Assert.Null(root.Tlogs[0].PublicKey.ValidFor.End);
        Assert.Equal(config!.RekorTlogUrls.Select(static s => s.Url), [LogB, LogA]);
        var start = config.RekorTlogUrls[0].ValidFor.Start!.Value;
        Assert.Equal(start, config.RekorTlogUrls[1].ValidFor.End);
        Assert.InRange(start, switchAt.AddSeconds(-1), switchAt);

        // Signers (tlog sign-blob's selection, sigstore-go's rule) keep the old log until the start, the new one from it.
        IReadOnlyList<int> versions = [2, 1];
        Assert.Equal(LogA, SigningServiceSelection.One(config.RekorTlogUrls, versions, DateTimeOffset.UtcNow)?.Url);
        Assert.Equal(LogA, SigningServiceSelection.One(config.RekorTlogUrls, versions, start.AddSeconds(-1))?.Url);
        Assert.Equal(LogB, SigningServiceSelection.One(config.RekorTlogUrls, versions, start.AddSeconds(1))?.Url);
        Assert.Equal([LogB], SigningServiceSelection.Selected(config.RekorTlogUrls, ServiceSelector.All, versions, start.AddDays(30), "log").Select(static s => s.Url));
    }

    [Fact]
    public async Task SigningConfigAddRekor_BadInput_RefusedWithReasonNothingWritten()
    {
        var since = new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var future = DateTimeOffset.UtcNow.AddDays(20);
        var configFile = _cli.WriteFile("signing_config.json", new SigningConfig(
            [], [], [new ServiceEndpoint("https://log-a.example.test", 2, new ValidityPeriod(future.AddDays(5), null))], ServiceSelector.Any, [], ServiceSelector.Any).ToJson());
        var output = _cli.PathOf("out.json");
        string Time(DateTimeOffset t) => t.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var cases = new (string[] Args, string Reason)[]
        {
            (["--url", "https://log-b.example.test", "--valid-from", Time(since)], "is not in the future"),
            (["--url", "https://log-a.example.test/", "--valid-from", Time(future.AddDays(10))], "already in the signing config"),
            (["--url", "https://log-b.example.test", "--valid-from", Time(future)], "before the newest log entry's start"),
            (["--url", "log-b.example.test", "--valid-from", Time(future.AddDays(10))], "must be an http(s) URL"),
            (["--url", "https://log-b.example.test", "--valid-from", Time(future.AddDays(10)), "--api-version", "3"], "--api-version must be 1 or 2"),
        };
        foreach (var (args, reason) in cases)
        {
            var (exitCode, stdout, stderr) = await _cli.RunAsync(["signing-config", "add-rekor", "--config", configFile, .. args, "--out", output]);
            Assert.True(exitCode is 1 or 2, $"{string.Join(' ', args)}: exit {exitCode}");
            Assert.Contains(reason, stdout + stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(output), $"{string.Join(' ', args)} wrote {output}");
        }

        var (code, _, error) = await _cli.RunAsync("signing-config", "add-rekor", "--config", _cli.WriteFile("bad.json", "{\"mediaType\":\"x\"}"),
            "--url", "https://log-b.example.test", "--valid-from", Time(future.AddDays(10)), "--out", output);
        Assert.Equal(1, code);
        Assert.Contains("unsupported signing config mediaType", error, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    private async Task PublishAsync(string repo, string trustedRoot, string server, string token, bool signRoot)
    {
        await SucceedsAsync("tuf", "add-target", "--repo", repo, "--name", "trusted_root.json", "--file", trustedRoot);
        if (signRoot)
        {
            await SucceedsAsync("tuf", "sign", "--repo", repo, "--role", "root", "--key", _cli.PathOf("root.pem"));
        }

        await SucceedsAsync("tuf", "sign", "--repo", repo, "--role", "targets", "--key", _cli.PathOf("targets.pem"));
        await SucceedsAsync("tuf", "publish", "--repo", repo, "--server", server, "--token-file", token);
    }

    private async Task<string> SucceedsAsync(params string[] args)
    {
        var (exitCode, stdout, stderr) = await _cli.RunAsync(args);
        Assert.True(exitCode == 0, $"tlog {string.Join(' ', args)}: exit {exitCode}\n{stdout}\n{stderr}");
        return stdout + stderr;
    }

    /// <summary>A CA certificate (self-signed when <paramref name="issuer"/> is null), with its private key.</summary>
    private static X509Certificate2 Ca(string name, X509Certificate2? issuer)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}, O=Test", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var notBefore = DateTimeOffset.UtcNow.AddDays(-1);
        if (issuer is null)
        {
            return request.CreateSelfSigned(notBefore, notBefore.AddYears(5));
        }

        using var issuerKey = issuer.GetECDsaPrivateKey()!;
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var issued = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), notBefore, notBefore.AddYears(4), serial);
        return issued.CopyWithPrivateKey(key);
    }
}

/// <summary>The Rekor v2 log ID a trusted root carries: the C2SP key hash SHA-256(host ‖ 0x0A ‖ 0x01 ‖ Ed25519 key).</summary>
internal static class TrustedRootAddCommandsTestView
{
    public static byte[] C2spLogId(string baseUrl, LogSigner key)
    {
        var raw = key.PublicKeySpki[^32..];
        return SHA256.HashData([.. Encoding.UTF8.GetBytes(new Uri(baseUrl).Authority), 0x0A, 0x01, .. raw]);
    }
}
