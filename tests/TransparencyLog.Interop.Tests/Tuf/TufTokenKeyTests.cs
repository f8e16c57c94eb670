using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TransparencyLog.Interop.Tests.Infrastructure;
using TransparencyLog.Sigstore.Keys.Pkcs11;
using TransparencyLog.Testing;

namespace TransparencyLog.Interop.Tests.Tuf;

/// <summary>
/// Root key holders with keys in a PKCS#11 token (SoftHSM2), as docs/tuf.md's ceremony allows: the tlog that users
/// install (./test.sh sets TLOG_TEST_TLOG to it) signs the staged root through the token with an ECDSA and an Ed25519
/// key, and a wrong PIN is refused with the token's reason and changes nothing.
/// </summary>
public sealed class TufTokenKeyTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);

    private readonly string _directory = Directory.CreateTempSubdirectory("tlog-tuf-token-").FullName;

    private Dictionary<string, string> Environment => new(StringComparer.Ordinal) { ["SOFTHSM2_CONF"] = SoftHsm.ConfigurationFile };

    private string Repo => Path.Combine(_directory, "ceremony");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<ProcessResult> TlogAsync(params string[] arguments) =>
        await Repository.RunTlogAsync(arguments, Environment, s_timeout, _directory);

    private async Task<ProcessResult> SucceedsAsync(params string[] arguments)
    {
        var result = await TlogAsync(arguments);
        Assert.True(result.ExitCode == 0, $"tlog {string.Join(' ', arguments)} exited {result.ExitCode}: {result.Output}");
        return result;
    }

    /// <summary>The token key's public half as a PEM file, read through the token as the services read it.</summary>
    private string TokenPublicKey(string label)
    {
        using var signer = Pkcs11Signer.Open(SoftHsm.Uri(label));
        var path = Path.Combine(_directory, label + ".pub");
        File.WriteAllText(path, PemEncoding.WriteString("PUBLIC KEY", signer.PublicKeySpki.Span));
        return path;
    }

    private async Task<JsonNode> StatusAsync()
    {
        var status = await SucceedsAsync("tuf", "status", "--repo", Repo, "--output", "json");
        return JsonNode.Parse(status.StandardOutput)!;
    }

    [Fact]
    public async Task TufSign_RootKeysInAToken_EcdsaAndEd25519SignaturesCountAndAWrongPinChangesNothing()
    {
        var ec = TokenPublicKey("ec-key");
        var ed = TokenPublicKey("ed-key");
        await SucceedsAsync("tuf", "generate-key", "--type", "ecdsa", "--out", Path.Combine(_directory, "targets"));
        await SucceedsAsync("tuf", "generate-key", "--type", "ed25519", "--out", Path.Combine(_directory, "online"));
        await SucceedsAsync(
            "tuf", "init", "--repo", Repo, "--root-key", ec, "--root-key", ed, "--root-threshold", "2",
            "--targets-key", Path.Combine(_directory, "targets.pub"), "--online-key", Path.Combine(_directory, "online.pub"));
        await SucceedsAsync("tuf", "sign", "--repo", Repo, "--role", "targets", "--key", Path.Combine(_directory, "targets.pem"));
        Assert.False((bool)(await StatusAsync())["ready"]!);

        var wrongPin = Path.Combine(_directory, "wrong-pin");
        File.WriteAllText(wrongPin, "0000-not-the-pin\n");
        var refused = await TlogAsync(
            "tuf", "sign", "--repo", Repo, "--role", "root",
            "--key", $"pkcs11:token={SoftHsm.Token};object=ec-key?module-path={SoftHsm.Module}&pin-source=file:{wrongPin}");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("CKR_PIN_INCORRECT", refused.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("0000-not-the-pin", refused.Output, StringComparison.Ordinal);
        var afterRefusal = await StatusAsync();
        Assert.False((bool)afterRefusal["ready"]!);

        await SucceedsAsync("tuf", "sign", "--repo", Repo, "--role", "root", "--key", SoftHsm.Uri("ec-key"));
        Assert.False((bool)(await StatusAsync())["ready"]!);
        await SucceedsAsync("tuf", "sign", "--repo", Repo, "--role", "root", "--key", SoftHsm.Uri("ed-key"));
        var signed = await StatusAsync();
        Assert.True((bool)signed["ready"]!, signed.ToJsonString());
    }
}
