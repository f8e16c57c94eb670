using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TransparencyLog.Policy.Documents;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Tuf;

namespace TransparencyLog.Admission.Tests.Policies;

/// <summary>
/// policy-controller's air-gapped TrustRoot, <c>spec.repository</c>: a TUF repository serialized as base64 of a
/// gzipped tar (<c>mirrorFS</c>), verified exactly as a mirror is (signatures, thresholds, versions, hashes, expiry)
/// and never fetched from the network. The repository here is built with the TUF code's own builders and signed
/// with fresh keys; the webhook test does the same with the log service's real repository and the <c>tar</c> tool.
/// </summary>
public sealed class SerializedTufRepositoryTests : IDisposable
{
    private static readonly DateTimeOffset s_now = DateTimeOffset.UtcNow;
    private readonly LogSigner _rootKey = LogSigner.Generate(LogKeyType.EcdsaP256);
    private readonly LogSigner _onlineKey = LogSigner.Generate(LogKeyType.EcdsaP256);
    private readonly LogSigner _targetsKey = LogSigner.Generate(LogKeyType.Ed25519);
    private readonly string _cache = Directory.CreateTempSubdirectory("tlog-serialized-tuf-").FullName;
    private readonly byte[] _trustedRoot;
    private readonly byte[] _caCertificate;

    public SerializedTufRepositoryTests()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ca = new CertificateRequest("CN=serialized-ca, O=tlog", caKey, HashAlgorithmName.SHA256).CreateSelfSigned(s_now.AddDays(-1), s_now.AddDays(30));
        _caCertificate = ca.RawData;
        using var logKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var spki = logKey.ExportSubjectPublicKeyInfo();
        var root = new TrustedRoot(
            TrustedRoot.MediaTypeV01,
            [new TransparencyLogInstance("https://rekor.airgap.example", "SHA2_256", new TrustedPublicKey(spki, TrustedRoot.KeyDetailsOf(spki), ValidityPeriod.Unbounded), SHA256.HashData(spki))],
            [new CertificateAuthority(new DistinguishedName("tlog", "serialized-ca"), "https://fulcio.airgap.example", [_caCertificate], ValidityPeriod.Unbounded)],
            [],
            []);
        _trustedRoot = Encoding.UTF8.GetBytes(root.ToJson());
    }

    [Theory]
    [InlineData("repository/", "", "")]
    [InlineData("", "\n    targets: blobs/targets\n    trustedRootTarget: custom_root.json", "blobs/targets")]
    public async Task Resolve_SerializedRepository_TrustedRootFromItsTargetWithoutNetwork(string prefix, string fields, string targetsPath)
    {
        var target = fields.Contains("custom_root.json", StringComparison.Ordinal) ? "custom_root.json" : "trusted_root.json";
        var files = Repository(new Dictionary<string, byte[]> { [target] = _trustedRoot, ["signing_config.v0.2.json"] = "{}"u8.ToArray() }, targetsPath.Length > 0 ? targetsPath : "targets");
        var set = PolicySet.Load([("airgap.yaml", TrustRootYaml(Archive(files, prefix), fields))]);

        Assert.True(set.TrustRoots["airgap"].Pending);
        var resolved = await TufTrustRoots.ResolveAsync(set, NoNetwork(), _cache, s_now, CancellationToken.None);

        var root = resolved.TrustRoots["airgap"].Root;
        Assert.False(resolved.TrustRoots["airgap"].Pending);
        Assert.Equal(_caCertificate, Assert.Single(root.CertificateAuthorities).CertChain[0]);
        Assert.Equal("https://rekor.airgap.example", Assert.Single(root.Tlogs).BaseUrl);
        Assert.NotEqual(set.TrustRootGeneration, resolved.TrustRootGeneration);
    }

    [Theory]
    [InlineData("target", "hash_mismatch")]
    [InlineData("expired", "expired")]
    [InlineData("foreign-signer", "threshold_not_met")]
    [InlineData("no-trusted-root", "has no target trusted_root.json")]
    [InlineData("no-timestamp", "serves no timestamp.json")]
    public async Task Resolve_TamperedSerializedRepository_RefusedAtLoad(string tampering, string reason)
    {
        var files = Repository(new Dictionary<string, byte[]> { [tampering == "no-trusted-root" ? "other.json" : "trusted_root.json"] = _trustedRoot }, "targets");
        switch (tampering)
        {
            case "target":
                var name = files.Keys.Single(static k => k.StartsWith("targets/", StringComparison.Ordinal));
                files[name] = [.. files[name], (byte)' '];
                break;
            case "expired":
                files["timestamp.json"] = Signed(TufDocuments.BuildTimestamp(1, s_now.AddDays(-1), 1), _onlineKey).ToBytes();
                break;
            case "foreign-signer":
                using (var mallory = LogSigner.Generate(LogKeyType.EcdsaP256))
                {
                    files["1.targets.json"] = Signed(TargetsOf(new Dictionary<string, byte[]> { ["trusted_root.json"] = "{}"u8.ToArray() }), mallory).ToBytes();
                    files["1.snapshot.json"] = Signed(TufDocuments.BuildSnapshot(1, s_now.AddDays(7), 1), _onlineKey).ToBytes();
                }

                break;
            case "no-timestamp":
                files.Remove("timestamp.json");
                break;
        }

        var set = PolicySet.Load([("airgap.yaml", TrustRootYaml(Archive(files, "repository/"), string.Empty))]);

        var error = await Assert.ThrowsAsync<PolicyLoadException>(() => TufTrustRoots.ResolveAsync(set, NoNetwork(), _cache, s_now, CancellationToken.None));

        Assert.Equal("spec.repository", error.Field);
        Assert.Contains("the serialized TUF repository (spec.repository.mirrorFS) was refused", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Load_MirrorFsNotARepositoryArchive_RefusedWithFieldPath()
    {
        var root = RootBytes();
        string Yaml(string mirrorFs) => TrustRootYaml(mirrorFs, string.Empty, root);
        var traversal = Archive(new Dictionary<string, byte[]> { ["../../etc/cron.d/x"] = "x"u8.ToArray() }, string.Empty);
        // 40 MiB of zeros compress to about 40 KiB: the archive is small, what it expands to is not.
        var bomb = Archive(new Dictionary<string, byte[]> { ["1.root.json"] = new byte[40 * 1024 * 1024] }, string.Empty);
        var empty = Archive(new Dictionary<string, byte[]>(), "repository/");

        var notBase64 = Assert.Throws<PolicyLoadException>(() => PolicySet.Load([("p.yaml", Yaml("not base64!"))]));
        var notGzip = Assert.Throws<PolicyLoadException>(() => PolicySet.Load([("p.yaml", Yaml(Convert.ToBase64String("plain text"u8)))]));
        var escapes = Assert.Throws<PolicyLoadException>(() => PolicySet.Load([("p.yaml", Yaml(traversal))]));
        var expands = Assert.Throws<PolicyLoadException>(() => PolicySet.Load([("p.yaml", Yaml(bomb))]));
        var nothing = Assert.Throws<PolicyLoadException>(() => PolicySet.Load([("p.yaml", Yaml(empty))]));

        Assert.All(new[] { notBase64, notGzip, escapes, expands, nothing }, e => Assert.Equal("spec.repository.mirrorFS", e.Field));
        Assert.Contains("not base64", notBase64.Message, StringComparison.Ordinal);
        Assert.Contains("not a serialized TUF repository", notGzip.Message, StringComparison.Ordinal);
        Assert.Contains("is not a path inside the repository", escapes.Message, StringComparison.Ordinal);
        Assert.Contains($"expands to more than {SerializedTufRepository.MaxExpandedBytes} bytes", expands.Message, StringComparison.Ordinal);
        Assert.Contains("holds no files", nothing.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("repository: {root: ROOT, mirrorFS: ARCHIVE, targets: ../up}", "spec.repository.targets", "not a relative path")]
    [InlineData("repository: {root: ROOT, mirrorFS: ARCHIVE, trustedRootTarget: a/b.json}", "spec.repository.trustedRootTarget", "not a target name")]
    [InlineData("repository: {root: ROOT, mirrorFS: ARCHIVE, mirror: https://x.example}", "spec.repository.mirror", "unknown field")]
    [InlineData("repository: {mirrorFS: ARCHIVE}", "spec.repository.root", "required")]
    [InlineData("repository: {root: ROOT}", "spec.repository.mirrorFS", "required")]
    [InlineData("remote: {root: ROOT, mirror: \"https://tuf.example\", targets: \"/../x\"}", "spec.remote.targets", "not a relative path")]
    [InlineData("remote: {root: ROOT, mirror: \"https://tuf.example\", typo: 1}", "spec.remote.typo", "unknown field")]
    public void Load_InvalidTufTrustRootField_RefusedWithFieldPath(string spec, string field, string reason)
    {
        var yaml = $"apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {{name: r}}\nspec:\n  {spec}\n"
            .Replace("ROOT", Convert.ToBase64String(RootBytes()), StringComparison.Ordinal)
            .Replace("ARCHIVE", Archive(Repository(new Dictionary<string, byte[]> { ["trusted_root.json"] = _trustedRoot }, "targets"), string.Empty), StringComparison.Ordinal);

        var error = Assert.Throws<PolicyLoadException>(() => PolicySet.Load([("p.yaml", yaml)]));

        Assert.Equal(field, error.Field);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_RemoteWithTargetsAndTrustedRootTarget_AcceptedAsPolicyControllerWritesIt()
    {
        var yaml = "apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {name: r}\nspec:\n  remote:\n" +
            $"    root: {Convert.ToBase64String(RootBytes())}\n    mirror: https://tuf.example/repo\n    targets: targets\n    trustedRootTarget: trusted_root.json\n";

        var source = PolicySet.Load([("p.yaml", yaml)]).TrustRoots["r"].Tuf!;

        Assert.Equal(new Uri("https://tuf.example/repo"), source.Mirror);
        Assert.Equal("targets", source.TargetsPath);
        Assert.Equal("trusted_root.json", source.TrustedRootTarget);
        Assert.Null(source.Files);
    }

    // ---- a small repository: one root key, one online key (timestamp, snapshot), one targets key ----

    private byte[] RootBytes() => Signed(TufRoot.Build(1, s_now.AddDays(365), new Dictionary<string, (IReadOnlyList<TufKey>, int)>
    {
        [TufMetadata.Root] = ([TufKey.FromPublicKey(_rootKey.PublicKey)], 1),
        [TufMetadata.Targets] = ([TufKey.FromPublicKey(_targetsKey.PublicKey)], 1),
        [TufMetadata.Snapshot] = ([TufKey.FromPublicKey(_onlineKey.PublicKey)], 1),
        [TufMetadata.Timestamp] = ([TufKey.FromPublicKey(_onlineKey.PublicKey)], 1),
    }), _rootKey).ToBytes();

    private static TufMetadata TargetsOf(IReadOnlyDictionary<string, byte[]> targets) =>
        TufDocuments.BuildTargets(1, s_now.AddDays(180), targets.ToDictionary(
            static t => t.Key, static t => new TufTargetFile(t.Value.Length, Convert.ToHexStringLower(SHA256.HashData(t.Value)), null)));

    /// <summary>A consistent-snapshot repository's files, as a mirror serves them, targets under <paramref name="targetsPath"/>.</summary>
    private Dictionary<string, byte[]> Repository(IReadOnlyDictionary<string, byte[]> targets, string targetsPath)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["1.root.json"] = RootBytes(),
            ["root.json"] = RootBytes(),
            ["1.targets.json"] = Signed(TargetsOf(targets), _targetsKey).ToBytes(),
            ["1.snapshot.json"] = Signed(TufDocuments.BuildSnapshot(1, s_now.AddDays(14), 1), _onlineKey).ToBytes(),
            ["timestamp.json"] = Signed(TufDocuments.BuildTimestamp(1, s_now.AddDays(7), 1), _onlineKey).ToBytes(),
        };
        foreach (var (name, bytes) in targets)
        {
            files[$"{targetsPath}/{Convert.ToHexStringLower(SHA256.HashData(bytes))}.{name}"] = bytes;
        }

        return files;
    }

    private static TufMetadata Signed(TufMetadata metadata, LogSigner signer)
    {
        metadata.SignAsync(signer).AsTask().GetAwaiter().GetResult();
        return metadata;
    }

    /// <summary>base64 of a gzipped tar with the directories and files a repository directory has.</summary>
    private static string Archive(IReadOnlyDictionary<string, byte[]> files, string prefix)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            if (prefix.Length > 0)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, prefix));
            }

            foreach (var (name, bytes) in files)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, prefix + name) { DataStream = new MemoryStream(bytes) });
            }
        }

        return Convert.ToBase64String(output.ToArray());
    }

    private string TrustRootYaml(string mirrorFs, string extraFields, byte[]? root = null) =>
        $"apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {{name: airgap}}\nspec:\n  repository:\n" +
        $"    root: {Convert.ToBase64String(root ?? RootBytes())}\n    mirrorFS: {mirrorFs}{extraFields}\n";

    /// <summary>An HttpClient that fails every request: a serialized repository must need none.</summary>
    private static HttpClient NoNetwork() => new(new RefusingHandler());

    private sealed class RefusingHandler : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException($"a serialized repository made a network request: {request.RequestUri}");
    }

    public void Dispose()
    {
        _rootKey.Dispose();
        _onlineKey.Dispose();
        _targetsKey.Dispose();
        Directory.Delete(_cache, recursive: true);
    }
}
