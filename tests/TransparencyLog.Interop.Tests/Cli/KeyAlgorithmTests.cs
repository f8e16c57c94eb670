using TransparencyLog.Interop.Tests.Infrastructure;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Interop.Tests.Cli;

/// <summary>
/// <c>--key</c> with every key type cosign supports, on both logs: the log accepts the entry, and <c>verify-blob
/// --key</c> accepts the bundle with the matching public key and rejects it with another.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class KeyAlgorithmTests(LocalSystem system) : IDisposable
{
    private readonly TlogRunner _tlog = new(system);

    [Theory]
    [InlineData("cosign", 1)]
    [InlineData("ec -pkeyopt ec_paramgen_curve:P-384", 1)]
    [InlineData("rsa -pkeyopt rsa_keygen_bits:3072", 1)]
    [InlineData("ed25519", 1)]
    [InlineData("cosign", 2)]
    [InlineData("ec -pkeyopt ec_paramgen_curve:P-384", 2)]
    [InlineData("rsa -pkeyopt rsa_keygen_bits:3072", 2)]
    [InlineData("ed25519", 2)]
    public async Task SignBlob_KeyOfEachAlgorithm_VerifiesWithItsPublicKeyOnly(string algorithm, int rekorVersion)
    {
        var file = _tlog.Write("artifact.txt", $"signed with {algorithm}\n");
        var (keyFile, publicKey) = await WriteKeyAsync(algorithm, "signer");
        var (_, otherPublicKey) = await WriteKeyAsync(algorithm, "other");
        string[] log = rekorVersion == 2
            ? ["--rekor-version", "2", "--rekor-url", system["REKOR_V2_URL"], "--tsa-url", system["TSA_URL"]]
            : ["--rekor-url", system["REKOR_URL"]];

        var signed = await _tlog.RunAsync(["sign-blob", file, "--key", keyFile, .. log], Password);
        var verified = await _tlog.VerifyAsync("verify-blob", file, "--key", publicKey);
        var otherKey = await _tlog.VerifyAsync("verify-blob", file, "--key", otherPublicKey);

        Assert.True(signed.ExitCode == 0, signed.Output);
        Assert.True(verified.ExitCode == 0, verified.Output);
        TlogRunner.AssertFailed(otherKey, 3, "ERROR");
    }

    [Theory]
    [InlineData("ed25519")]
    [InlineData("rsa -pkeyopt rsa_keygen_bits:2048")]
    public async Task Attest_NonEcdsaKey_VerifiesAsAttestation(string algorithm)
    {
        var file = _tlog.Write("app.tar.gz", "pretend archive\n");
        var predicate = _tlog.Write("provenance.json", """{"builder":{"id":"https://ci.example.com"}}""");
        var (keyFile, publicKey) = await WriteKeyAsync(algorithm, "attester");

        await _tlog.SucceedAsync("attest", file, "--predicate", predicate, "--type", "https://slsa.dev/provenance/v1", "--key", keyFile, "--rekor-url", system["REKOR_URL"]);
        var verified = await _tlog.VerifyAsync("verify-attestation", file, "--key", publicKey);

        Assert.True(verified.ExitCode == 0, verified.Output);
    }

    [Fact]
    public async Task SignBlob_SkopeoGeneratedKey_VerifiesWithSkopeoPublicKey()
    {
        var passwordFile = _tlog.Write("skopeo-password", "from skopeo");
        var skopeo = await LocalSystem.RunAsync(
            Skopeo.Binary, ["generate-sigstore-key", "--output-prefix", _tlog.PathOf("sk"), "--passphrase-file", passwordFile], null, TimeSpan.FromMinutes(1), _tlog.Directory);
        Assert.True(skopeo.ExitCode == 0, skopeo.Output);
        var file = _tlog.Write("artifact.txt", "signed with a key skopeo made\n");

        var signed = await _tlog.RunAsync(
            ["sign-blob", file, "--key", _tlog.PathOf("sk.private"), "--rekor-url", system["REKOR_URL"]],
            new Dictionary<string, string> { ["COSIGN_PASSWORD"] = "from skopeo" });
        var verified = await _tlog.VerifyAsync("verify-blob", file, "--key", _tlog.PathOf("sk.pub"));

        Assert.True(signed.ExitCode == 0, signed.Output);
        Assert.True(verified.ExitCode == 0, verified.Output);
    }

    public void Dispose() => _tlog.Dispose();

    private static Dictionary<string, string> Password => new() { ["COSIGN_PASSWORD"] = "interop" };

    /// <summary>A key pair: <c>tlog generate-key-pair</c> for "cosign", else openssl genpkey (PKCS#8) and its SPKI.</summary>
    private async Task<(string PrivateKey, string PublicKey)> WriteKeyAsync(string algorithm, string name)
    {
        if (algorithm == "cosign")
        {
            var generatedPair = await _tlog.RunAsync(["generate-key-pair", "--output-key-prefix", _tlog.PathOf(name)], Password);
            Assert.True(generatedPair.ExitCode == 0, generatedPair.Output);
            return (_tlog.PathOf(name + ".key"), _tlog.PathOf(name + ".pub"));
        }

        var keyFile = _tlog.PathOf(name + ".pem");
        var generated = await LocalSystem.RunAsync("openssl", ["genpkey", "-algorithm", .. algorithm.Split(' '), "-out", keyFile], null, TimeSpan.FromMinutes(1));
        Assert.True(generated.ExitCode == 0, generated.Output);
        var publicKey = _tlog.PathOf(name + ".pub");
        var exported = await LocalSystem.RunAsync("openssl", ["pkey", "-in", keyFile, "-pubout", "-out", publicKey], null, TimeSpan.FromMinutes(1));
        Assert.True(exported.ExitCode == 0, exported.Output);
        return (keyFile, publicKey);
    }
}
