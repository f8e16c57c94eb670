using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using TransparencyLog.Interop.Tests.Cli;
using TransparencyLog.Interop.Tests.Infrastructure;
using TransparencyLog.Interop.Tests.SigstoreJs;
using TransparencyLog.Sigstore.CertificateTransparency;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Tuf;

namespace TransparencyLog.Interop.Tests.Rotation;

/// <summary>
/// A <c>./run.sh</c> system of its own whose development CA starts on a chain the test made (root key kept), so the
/// CA can be rotated to a new intermediate under the same root and then to a new root.
/// </summary>
public sealed class RotationSystem : IAsyncLifetime
{
    public RotationSystem()
    {
        FirstRoot = TestCa.Root("Rotation Root 1");
        FirstIntermediate = TestCa.Intermediate("Rotation Intermediate 1", FirstRoot);
        System = new LocalSystem(new Dictionary<string, string>(), directory => TestCa.Install(directory, FirstIntermediate, FirstRoot));
    }

    public LocalSystem System { get; }

    internal TestCa FirstRoot { get; }

    internal TestCa FirstIntermediate { get; }

    public Task InitializeAsync() => System.InitializeAsync();

    public async Task DisposeAsync()
    {
        await System.DisposeAsync();
        FirstIntermediate.Dispose();
        FirstRoot.Dispose();
    }
}

/// <summary>
/// Restarts and CA rotations of the whole system as <c>./run.sh</c> runs it: the trusted root it writes and publishes
/// through TUF after each start keeps every bundle signed before verifying (<c>tlog verify-blob</c> with the file and
/// through the TUF mirror, and unmodified sigstore-js through the mirror), and new certificates use the new chain.
/// </summary>
// A collection of its own (the class's), so it runs beside the shared system's tests rather than after them: every
// port of every system comes from TestPorts, which claims it for the test process, so two systems starting at once
// never pick the same one.
public sealed class TrustRotationSystemTests(RotationSystem rotation) : IClassFixture<RotationSystem>, IDisposable
{
    private readonly TlogRunner _tlog = new(rotation.System);

    private LocalSystem System => rotation.System;

    public void Dispose() => _tlog.Dispose();

    /// <summary>Signs a fresh file keyless as the run's identity; returns the artifact and its bundle.</summary>
    private async Task<(string Artifact, string Bundle)> SignAsync(SigstoreJsRun run, string name)
    {
        var artifact = run.PathOf(name);
        await File.WriteAllTextAsync(artifact, $"{name} {Guid.NewGuid()}\n");
        var result = await _tlog.RunAsync(
            ["sign-blob", artifact, "--identity-token", await run.TokenAsync(), "--fulcio-url", System["FULCIO_URL"], "--rekor-url", System["REKOR_URL"]],
            null);
        Assert.True(result.ExitCode == 0, run.Failure($"tlog sign-blob {name}", result));
        return (artifact, artifact + ".sigstore.json");
    }

    /// <summary>
    /// The bundle verifies with the trusted root file run.sh wrote, with the trusted root <c>tlog</c> takes from the TUF
    /// mirror after <c>tlog initialize</c> (no file), and with sigstore-js taking its trusted root from the mirror.
    /// </summary>
    private async Task VerifiesEverywhereAsync(SigstoreJsRun run, (string Artifact, string Bundle) signed)
    {
        var identity = new[] { "--certificate-identity", run.Email, "--certificate-oidc-issuer", run.Issuer };
        var withFile = await _tlog.RunAsync(["verify-blob", signed.Artifact, "--bundle", signed.Bundle, "--trusted-root", System["TRUSTED_ROOT"], .. identity], null);
        Assert.True(withFile.ExitCode == 0, run.Failure($"tlog verify-blob {signed.Bundle} --trusted-root", withFile));

        var tuf = new Dictionary<string, string>(System.Endpoints, StringComparer.Ordinal)
        {
            ["TLOG_TUF_CACHE"] = Directory.CreateTempSubdirectory("tlog-rotation-tuf-").FullName,
            ["TRUSTED_ROOT"] = "",
            ["TLOG_TRUSTED_ROOT"] = "",
            ["SIGSTORE_ROOT_FILE"] = "",
        };
        var initialize = await _tlog.RunAsync(["initialize", "--mirror", System["TUF_MIRROR"], "--root", System["TUF_ROOT_JSON"]], tuf);
        Assert.True(initialize.ExitCode == 0, run.Failure("tlog initialize", initialize));
        var throughTuf = await _tlog.RunAsync(["verify-blob", signed.Artifact, "--bundle", signed.Bundle, .. identity], tuf);
        Assert.True(throughTuf.ExitCode == 0, run.Failure($"tlog verify-blob {signed.Bundle} (trusted root from TUF)", throughTuf));

        var output = await run.NodeAsync("tuf.mjs", "sigstore-verify", "--artifact", signed.Artifact, "--bundle", signed.Bundle);
        Assert.Contains("sigstore 4.1 verified", output, StringComparison.Ordinal);
    }

    /// <summary>The trusted root and signing config a TUF client gets from the mirror now (fresh cache, initial root only).</summary>
    private async Task<(TrustedRoot Root, byte[] SigningConfig)> FromMirrorAsync()
    {
        var cache = Directory.CreateTempSubdirectory("tlog-rotation-updater-").FullName;
        TufUpdater.Bootstrap(cache, await File.ReadAllBytesAsync(System["TUF_ROOT_JSON"]));
        using var http = new HttpClient();
        var updater = new TufUpdater(http, new Uri(System["TUF_MIRROR"].TrimEnd('/') + "/"), cache);
        var state = await updater.RefreshAsync(DateTimeOffset.UtcNow);
        var root = TrustedRoot.Parse(Encoding.UTF8.GetString(await updater.GetTargetAsync(state, "trusted_root.json")));
        return (root, await updater.GetTargetAsync(state, "signing_config.v0.2.json"));
    }

    /// <summary>The signing certificate of a bundle (v0.3 <c>certificate</c> or v0.1/0.2 chain's first).</summary>
    private static X509Certificate2 LeafOf(string bundle)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(bundle));
        var material = document.RootElement.GetProperty("verificationMaterial");
        var raw = material.TryGetProperty("certificate", out var certificate)
            ? certificate.GetProperty("rawBytes").GetString()
            : material.GetProperty("x509CertificateChain").GetProperty("certificates")[0].GetProperty("rawBytes").GetString();
        return X509CertificateLoader.LoadCertificate(Convert.FromBase64String(raw!));
    }

    /// <summary>The leaf was issued by <paramref name="issuer"/>: its issuer name and its signature.</summary>
    private static void AssertIssuedBy(string bundle, TestCa issuer)
    {
        using var leaf = LeafOf(bundle);
        Assert.Equal(issuer.Certificate.Subject, leaf.Issuer);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid;
        chain.ChainPolicy.CustomTrustStore.Add(issuer.Certificate);
        chain.Build(leaf);
        Assert.True(
            chain.ChainElements.Count == 2 && chain.ChainElements[1].Certificate.RawData.AsSpan().SequenceEqual(issuer.Certificate.RawData),
            $"{leaf.Subject} does not chain to {issuer.Certificate.Subject}");
    }

    private static bool SameChain(CertificateAuthority authority, params TestCa[] chain) =>
        authority.CertChain.Count == chain.Length && authority.CertChain.Zip(chain).All(static p => p.First.AsSpan().SequenceEqual(p.Second.Certificate.RawData));

    [Fact]
    public async Task RunScript_RestartWithUnchangedKeys_BundlesSignedBeforeStillVerifyAndTrustedRootKeepsItsWindows()
    {
        var run = SigstoreJsRun.Start(System, "restart");
        var before = await SignAsync(run, "before-restart.txt");
        var rootBefore = TrustedRoot.Parse(await File.ReadAllTextAsync(System["TRUSTED_ROOT"]));
        var (_, configBefore) = await FromMirrorAsync();

        await System.RestartAsync();

        // Nothing changed: every entry keeps its window (a fresh start "now" would put the bundle before them all).
        var rootAfter = TrustedRoot.Parse(await File.ReadAllTextAsync(System["TRUSTED_ROOT"]));
        Assert.Equal(rootBefore.ToJson(), rootAfter.ToJson());
        var (published, configAfter) = await FromMirrorAsync();
        Assert.Equal(rootBefore.ToJson(), published.ToJson());
        Assert.Equal(configBefore, configAfter);

        await VerifiesEverywhereAsync(run, before);
        await VerifiesEverywhereAsync(run, await SignAsync(run, "after-restart.txt"));
    }

    [Fact]
    public async Task CaRotation_NewIntermediateThenNewRoot_PublishedThroughTufOldBundlesVerifyNewCertificatesUseTheNewChain()
    {
        var run = SigstoreJsRun.Start(System, "ca-rotation");
        var first = await SignAsync(run, "first-chain.txt");
        AssertIssuedBy(first.Bundle, rotation.FirstIntermediate);
        var (rootBefore, config) = await FromMirrorAsync();
        var authoritiesBefore = rootBefore.CertificateAuthorities.Count;

        // 1. A new intermediate under the same root: the CA switches at the restart, and run.sh publishes a trusted
        //    root whose old chain ends where the new one starts; the signing config does not change (same CA URL).
        using var secondIntermediate = TestCa.Intermediate("Rotation Intermediate 2", rotation.FirstRoot);
        await System.RestartAsync(directory => TestCa.Install(directory, secondIntermediate, rotation.FirstRoot));
        var (rotated, configAfterIntermediate) = await FromMirrorAsync();
        Assert.Equal(config, configAfterIntermediate);
        Assert.Equal(authoritiesBefore + 1, rotated.CertificateAuthorities.Count);
        var old = Assert.Single(rotated.CertificateAuthorities, a => SameChain(a, rotation.FirstIntermediate, rotation.FirstRoot));
        var added = rotated.CertificateAuthorities[^1];
        Assert.True(SameChain(added, secondIntermediate, rotation.FirstRoot), "the new chain is appended last");
        Assert.NotNull(added.ValidFor.Start);
        Assert.Equal(added.ValidFor.Start, old.ValidFor.End);
        Assert.Null(added.ValidFor.End);

        var second = await SignAsync(run, "second-chain.txt");
        AssertIssuedBy(second.Bundle, secondIntermediate);
        await VerifiesEverywhereAsync(run, first);
        await VerifiesEverywhereAsync(run, second);

        // 2. A new root and intermediate: the CT log accepts the new root (it reads the CA's chain file), the CA
        //    switches, and the trusted root ends the second chain and appends the third.
        using var secondRoot = TestCa.Root("Rotation Root 2");
        using var thirdIntermediate = TestCa.Intermediate("Rotation Intermediate 3", secondRoot);
        await System.RestartAsync(directory => TestCa.Install(directory, thirdIntermediate, secondRoot));
        var (rerooted, configAfterRoot) = await FromMirrorAsync();
        Assert.Equal(config, configAfterRoot);
        Assert.Equal(authoritiesBefore + 2, rerooted.CertificateAuthorities.Count);
        var secondEntry = Assert.Single(rerooted.CertificateAuthorities, a => SameChain(a, secondIntermediate, rotation.FirstRoot));
        var third = rerooted.CertificateAuthorities[^1];
        Assert.True(SameChain(third, thirdIntermediate, secondRoot), "the new root's chain is appended last");
        Assert.Equal(third.ValidFor.Start, secondEntry.ValidFor.End);
        Assert.Equal(old.ValidFor, Assert.Single(rerooted.CertificateAuthorities, a => SameChain(a, rotation.FirstIntermediate, rotation.FirstRoot)).ValidFor);

        var thirdSigned = await SignAsync(run, "third-chain.txt");
        AssertIssuedBy(thirdSigned.Bundle, thirdIntermediate);
        await VerifiesEverywhereAsync(run, first);
        await VerifiesEverywhereAsync(run, second);
        await VerifiesEverywhereAsync(run, thirdSigned);

        // The trusted root from before the rotations does not know the new root: the TUF update is what makes it verify.
        var stale = run.PathOf("trusted_root.before.json");
        await File.WriteAllTextAsync(stale, rootBefore.ToJson());
        var refused = await _tlog.RunAsync(
            ["verify-blob", thirdSigned.Artifact, "--bundle", thirdSigned.Bundle, "--trusted-root", stale, "--certificate-identity", run.Email, "--certificate-oidc-issuer", run.Issuer],
            null);
        Assert.True(refused.ExitCode == 3, run.Failure("tlog verify-blob with the pre-rotation trusted root", refused));
    }

    /// <summary>The log IDs of the SCTs embedded in a bundle's certificate.</summary>
    private static List<string> SctLogIds(string bundle)
    {
        using var leaf = LeafOf(bundle);
        var extension = leaf.Extensions.Cast<X509Extension>().Single(static e => e.Oid?.Value == "1.3.6.1.4.1.11129.2.4.2");
        return [.. SctList.DecodeExtensionValue(extension.RawData).Select(static s => Convert.ToHexStringLower(s.LogId))];
    }

    [Fact]
    public async Task CtLogRotation_NewLogWithNewKey_OldSctsStillAcceptedNewCertificatesCarryTheNewLogsScts()
    {
        var run = SigstoreJsRun.Start(System, "ct-rotation");
        var before = await SignAsync(run, "old-ct-log.txt");
        var oldLogId = Assert.Single(SctLogIds(before.Bundle));
        var (rootBefore, config) = await FromMirrorAsync();
        Assert.Contains(rootBefore.Ctlogs, l => Convert.ToHexStringLower(l.LogId) == oldLogId);

        // A CT key rotation is a new log: a new name (its checkpoint origin) and a new key, at the same URL. run.sh
        // points the CA at it and publishes a trusted root whose old CT entry ends where the new one starts.
        var name = $"{new Uri(System["REKOR_URL"]).Authority}/ct-{Guid.NewGuid().ToString("N")[..8]}";
        await System.RestartAsync(
            directory => File.Delete(Path.Combine(directory, "keys", "ct-key.pem")),
            new Dictionary<string, string> { ["CT_LOG_NAME"] = name });
        using var http = new HttpClient();
        var newKey = await http.GetStringAsync(System["CT_LOG_URL"] + "/v1/public-key");
        var newLogId = Convert.ToHexStringLower(SHA256.HashData(Convert.FromBase64String(
            string.Concat(newKey.Split('\n').Where(static l => !l.StartsWith("-----", StringComparison.Ordinal))))));
        Assert.NotEqual(oldLogId, newLogId);

        var (rotated, configAfter) = await FromMirrorAsync();
        Assert.Equal(config, configAfter);
        Assert.Equal(rootBefore.Ctlogs.Count + 1, rotated.Ctlogs.Count);
        var old = Assert.Single(rotated.Ctlogs, l => Convert.ToHexStringLower(l.LogId) == oldLogId);
        var added = rotated.Ctlogs[^1];
        Assert.Equal(newLogId, Convert.ToHexStringLower(added.LogId));
        Assert.NotNull(added.PublicKey.ValidFor.Start);
        Assert.Equal(added.PublicKey.ValidFor.Start, old.PublicKey.ValidFor.End);

        var after = await SignAsync(run, "new-ct-log.txt");
        Assert.Equal(newLogId, Assert.Single(SctLogIds(after.Bundle)));
        await VerifiesEverywhereAsync(run, before);
        await VerifiesEverywhereAsync(run, after);
        var checkpoint = await http.GetStringAsync(System["CT_LOG_URL"] + "/checkpoint");
        Assert.StartsWith(name + "\n", checkpoint, StringComparison.Ordinal);
    }
}
