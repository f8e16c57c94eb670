using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Cli.Tests.Keys;

/// <summary>
/// <c>tlog generate-key-pair</c> and <c>--key</c> against skopeo 1.13.3, an independent implementation of cosign's
/// key format: skopeo signs with tlog's key, and tlog loads skopeo's key.
/// </summary>
public sealed class KeyFileTests : IDisposable
{
    private readonly CliRunner _cli = new();

    [Fact]
    public async Task GenerateKeyPair_SkopeoSignsWithPrivateKey_SignatureVerifiesWithPublicKey()
    {
        _cli.Environment["COSIGN_PASSWORD"] = "tlog password";
        var prefix = _cli.PathOf("release");

        var (exitCode, output, error) = await _cli.RunAsync("generate-key-pair", "--output-key-prefix", prefix);

        Assert.True(exitCode == 0, error);
        var privatePem = File.ReadAllText(prefix + ".key");
        Assert.StartsWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----", privatePem, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(prefix + ".key"));
        }

        AssertNoKeyMaterial(privatePem, output + error);

        var passwordFile = _cli.WriteFile("password", "tlog password");
        var image = Skopeo.WriteImage(_cli.PathOf("image"));
        var policy = _cli.WriteFile("policy.json", """{"default":[{"type":"insecureAcceptAnything"}]}""");
        Skopeo.Run(
            _cli.Directory, "--policy", policy, "copy", "--sign-by-sigstore-private-key", prefix + ".key", "--sign-passphrase-file", passwordFile,
            "--sign-identity", "registry.example/app:v1", "dir:" + image, "dir:" + _cli.PathOf("signed"));

        var (payload, signature) = ReadSkopeoSignature(_cli.PathOf("signed"));
        using var publicKey = ECDsa.Create();
        publicKey.ImportFromPem(File.ReadAllText(prefix + ".pub"));
        Assert.True(publicKey.VerifyData(payload, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        Assert.Contains("registry.example/app:v1", Encoding.UTF8.GetString(payload), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GenerateKeyPair_WrongPasswordForSkopeo_SkopeoRefuses()
    {
        _cli.Environment["COSIGN_PASSWORD"] = "right";
        var prefix = _cli.PathOf("k");
        Assert.Equal(0, (await _cli.RunAsync("generate-key-pair", "--output-key-prefix", prefix)).ExitCode);

        var image = Skopeo.WriteImage(_cli.PathOf("image"));
        var policy = _cli.WriteFile("policy.json", """{"default":[{"type":"insecureAcceptAnything"}]}""");
        var error = Assert.Throws<InvalidOperationException>(() => Skopeo.Run(
            _cli.Directory, "--policy", policy, "copy", "--sign-by-sigstore-private-key", prefix + ".key",
            "--sign-passphrase-file", _cli.WriteFile("password", "wrong"), "dir:" + image, "dir:" + _cli.PathOf("signed")));

        Assert.Contains("decrypt", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SignBlob_SkopeoGeneratedKeyWrongPassword_ExitsOneWithoutKeyMaterial()
    {
        var passwordFile = _cli.WriteFile("password", "skopeo password");
        Skopeo.Run(_cli.Directory, "generate-sigstore-key", "--output-prefix", _cli.PathOf("sk"), "--passphrase-file", passwordFile);
        var artifact = _cli.WriteFile("artifact.txt", "hello");
        _cli.Environment["COSIGN_PASSWORD"] = "not the password";

        var (exitCode, output, error) = await _cli.RunAsync("sign-blob", artifact, "--key", _cli.PathOf("sk.private"), "--rekor-url", "http://127.0.0.1:1");

        Assert.Equal(1, exitCode);
        Assert.Contains("wrong password", error, StringComparison.Ordinal);
        AssertNoKeyMaterial(File.ReadAllText(_cli.PathOf("sk.private")), output + error);
    }

    [Fact]
    public async Task SignBlob_SkopeoGeneratedKeyRightPassword_GetsAsFarAsTheLog()
    {
        // Loading succeeded when the failure is the unreachable log, not the key (the full sign/verify round trip
        // against a real log is in the interop tests).
        var passwordFile = _cli.WriteFile("password", "skopeo password");
        Skopeo.Run(_cli.Directory, "generate-sigstore-key", "--output-prefix", _cli.PathOf("sk"), "--passphrase-file", passwordFile);
        var artifact = _cli.WriteFile("artifact.txt", "hello");
        _cli.Environment["COSIGN_PASSWORD"] = "skopeo password";

        var (exitCode, _, error) = await _cli.RunAsync("sign-blob", artifact, "--key", _cli.PathOf("sk.private"), "--rekor-url", "http://127.0.0.1:1");

        Assert.Equal(1, exitCode);
        Assert.DoesNotContain("cannot load the key", error, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:1", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.8)]
    public async Task SignBlob_TruncatedCosignKey_ExitsOneSayingTruncated(double keep)
    {
        _cli.Environment["COSIGN_PASSWORD"] = "pw";
        var prefix = _cli.PathOf("cut");
        Assert.Equal(0, (await _cli.RunAsync("generate-key-pair", "--output-key-prefix", prefix)).ExitCode);
        var pem = File.ReadAllText(prefix + ".key");
        File.WriteAllText(prefix + ".key", pem[..(int)(pem.Length * keep)]);
        var artifact = _cli.WriteFile("artifact.txt", "hello");

        var (exitCode, output, error) = await _cli.RunAsync("sign-blob", artifact, "--key", prefix + ".key", "--rekor-url", "http://127.0.0.1:1", "--output", "json");

        Assert.Equal(1, exitCode);
        using var result = JsonDocument.Parse(output);
        Assert.Equal("KEY_ERROR", result.RootElement.GetProperty("code").GetString());
        Assert.Contains("truncated", result.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        AssertNoKeyMaterial(pem, output + error);
    }

    [Fact]
    public async Task SignBlob_EncryptedKeyWithoutPasswordOrTerminal_ExitsTwo()
    {
        _cli.Environment["COSIGN_PASSWORD"] = "pw";
        var prefix = _cli.PathOf("nopw");
        Assert.Equal(0, (await _cli.RunAsync("generate-key-pair", "--output-key-prefix", prefix)).ExitCode);
        _cli.Environment.Remove("COSIGN_PASSWORD");
        var artifact = _cli.WriteFile("artifact.txt", "hello");

        var (exitCode, _, error) = await _cli.RunAsync("sign-blob", artifact, "--key", prefix + ".key", "--rekor-url", "http://127.0.0.1:1");

        Assert.Equal(2, exitCode);
        Assert.Contains("COSIGN_PASSWORD", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GenerateKeyPair_ExistingFile_ExitsTwoAndKeepsIt()
    {
        _cli.Environment["COSIGN_PASSWORD"] = string.Empty;
        var existing = _cli.WriteFile("cosign.key", "keep me");

        var (exitCode, _, error) = await _cli.RunAsync("generate-key-pair", "--output-key-prefix", _cli.PathOf("cosign"));

        Assert.Equal(2, exitCode);
        Assert.Contains("already exists", error, StringComparison.Ordinal);
        Assert.Equal("keep me", File.ReadAllText(existing));
        Assert.False(File.Exists(_cli.PathOf("cosign.pub")));
    }

    [Fact]
    public async Task GenerateKeyPair_NoPasswordAndNoTerminal_ExitsTwoWritingNothing()
    {
        var (exitCode, _, error) = await _cli.RunAsync("generate-key-pair", "--output-key-prefix", _cli.PathOf("cosign"));

        Assert.Equal(2, exitCode);
        Assert.Contains("COSIGN_PASSWORD", error, StringComparison.Ordinal);
        Assert.False(File.Exists(_cli.PathOf("cosign.key")));
    }

    public void Dispose() => _cli.Dispose();

    /// <summary>The sigstore JSON skopeo's <c>dir:</c> destination stores: a format byte and name, then the signature JSON.</summary>
    private static (byte[] Payload, byte[] Signature) ReadSkopeoSignature(string directory)
    {
        var bytes = File.ReadAllBytes(Path.Combine(directory, "signature-1"));
        var prefix = "\0sigstore-json\n"u8;
        Assert.True(bytes.AsSpan().StartsWith(prefix), "signature-1 is not a sigstore signature");
        using var json = JsonDocument.Parse(bytes.AsMemory(prefix.Length));
        Assert.Equal("application/vnd.dev.cosign.simplesigning.v1+json", json.RootElement.GetProperty("mimeType").GetString());
        return (
            json.RootElement.GetProperty("payload").GetBytesFromBase64(),
            Convert.FromBase64String(json.RootElement.GetProperty("annotations").GetProperty("dev.cosignproject.cosign/signature").GetString()!));
    }

    private static void AssertNoKeyMaterial(string privatePem, string printed)
    {
        var body = string.Concat(privatePem.Split('\n').Where(static l => !l.StartsWith("-----", StringComparison.Ordinal)));
        for (var i = 0; i + 24 <= body.Length; i += 24)
        {
            Assert.DoesNotContain(body.Substring(i, 24), printed, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("PRIVATE KEY-----", printed, StringComparison.Ordinal);
    }
}
