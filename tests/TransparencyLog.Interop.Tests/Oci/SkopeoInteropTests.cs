using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using TransparencyLog.Interop.Tests.Cli;
using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests.Oci;

/// <summary>
/// Signatures that upstream skopeo (containers/image, which nobody here wrote) accepts under a <c>sigstoreSigned</c>
/// policy, and signatures skopeo wrote that <c>tlog verify</c> accepts.
/// </summary>
[Collection(ImageSystemCollection.Name)]
public sealed class SkopeoInteropTests(LocalSystem system) : IDisposable
{
    private readonly TlogRunner _tlog = new(system);
    private readonly ImageLab _lab = new(system);

    [Fact]
    public async Task SignWithKey_SkopeoKeyPolicy_Accepts()
    {
        await _lab.PushImageAsync("skopeo/key:1.0");
        var (privateKey, publicKey) = _tlog.WriteKeyPair("signer");
        await _tlog.SucceedAsync("sign", $"{_lab.Registry}/skopeo/key:1.0", "--key", privateKey, "--rekor-url", system["REKOR_URL"]);

        var policy = _lab.WritePolicy("key-policy.json", new JsonObject { ["keyPath"] = publicKey });
        var result = await _lab.PullUnderPolicyAsync(policy, "skopeo/key:1.0");

        Assert.True(result.ExitCode == 0, $"skopeo rejected the image tlog signed:\n{result.Output}");
    }

    [Fact]
    public async Task SkopeoKeyPolicy_UnsignedImage_Rejects()
    {
        await _lab.PushImageAsync("skopeo/unsigned:1.0");
        var (_, publicKey) = _tlog.WriteKeyPair("signer");

        var result = await _lab.PullUnderPolicyAsync(_lab.WritePolicy("p.json", new JsonObject { ["keyPath"] = publicKey }), "skopeo/unsigned:1.0");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("no signature exists", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SkopeoKeyPolicy_SignedByAnotherKey_Rejects()
    {
        await _lab.PushImageAsync("skopeo/otherkey:1.0");
        var (privateKey, _) = _tlog.WriteKeyPair("signer");
        var (_, otherPublic) = _tlog.WriteKeyPair("other");
        await _tlog.SucceedAsync("sign", $"{_lab.Registry}/skopeo/otherkey:1.0", "--key", privateKey, "--rekor-url", system["REKOR_URL"]);

        var result = await _lab.PullUnderPolicyAsync(_lab.WritePolicy("p.json", new JsonObject { ["keyPath"] = otherPublic }), "skopeo/otherkey:1.0");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("rejected", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SkopeoKeyPolicy_SignatureCopiedFromAnotherDigest_Rejects()
    {
        var signed = await _lab.PushImageAsync("skopeo/copied:signed");
        var victim = await _lab.PushImageAsync("skopeo/copied:victim");
        var (privateKey, publicKey) = _tlog.WriteKeyPair("signer");
        await _tlog.SucceedAsync("sign", $"{_lab.Registry}/skopeo/copied@{signed}", "--key", privateKey, "--rekor-url", system["REKOR_URL"], "--format", "legacy");
        await CopyManifestAsync("skopeo/copied", SigTag(signed), SigTag(victim));

        var skopeo = await _lab.PullUnderPolicyAsync(_lab.WritePolicy("p.json", new JsonObject { ["keyPath"] = publicKey }), "skopeo/copied:victim");
        var tlog = await _tlog.RunAsync("verify", $"{_lab.Registry}/skopeo/copied:victim", "--key", publicKey, "--trusted-root", system["TRUSTED_ROOT"]);

        Assert.NotEqual(0, skopeo.ExitCode);
        TlogRunner.AssertFailed(tlog, 12, "is for another digest");
    }

    [Fact]
    public async Task SignKeyless_SkopeoFulcioPolicy_Accepts()
    {
        await _lab.PushImageAsync("skopeo/keyless:1.0");
        var token = await system.DevTokenAsync(TlogRunner.Alice);
        await _tlog.SucceedAsync(
            "sign", $"{_lab.Registry}/skopeo/keyless:1.0", "--identity-token", token, "--fulcio-url", system["FULCIO_URL"], "--rekor-url", system["REKOR_URL"]);
        var caRoot = _lab.PathOf("ca-root.pem");
        var chain = await File.ReadAllTextAsync(Path.Combine(system.DataDirectory, "keys", "ca", "ca-chain.pem"));
        await File.WriteAllTextAsync(caRoot, chain[chain.LastIndexOf("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)..]);
        var rekorKey = _lab.PathOf("rekor.pub");
        using (var http = new HttpClient())
        {
            await File.WriteAllTextAsync(rekorKey, await http.GetStringAsync($"{system["REKOR_URL"]}/api/v1/log/publicKey"));
        }

        JsonObject Requirement(string email) => new()
        {
            ["fulcio"] = new JsonObject { ["caPath"] = caRoot, ["oidcIssuer"] = system["OIDC_ISSUER"], ["subjectEmail"] = email },
            ["rekorPublicKeyPath"] = rekorKey,
        };
        var accepted = await _lab.PullUnderPolicyAsync(_lab.WritePolicy("alice.json", Requirement(TlogRunner.Alice)), "skopeo/keyless:1.0");
        var rejected = await _lab.PullUnderPolicyAsync(_lab.WritePolicy("mallory.json", Requirement("mallory@example.com")), "skopeo/keyless:1.0");

        Assert.True(accepted.ExitCode == 0, $"skopeo's fulcio policy rejected a keyless tlog signature:\n{accepted.Output}");
        Assert.NotEqual(0, rejected.ExitCode);
    }

    [Fact]
    public async Task SkopeoSignedWithItsKey_TlogVerifyKey_Accepts()
    {
        var passphrase = _lab.PathOf("passphrase");
        await File.WriteAllTextAsync(passphrase, "correct horse");
        var prefix = _lab.PathOf("skopeo-key");
        var generated = await _lab.SkopeoAsync("generate-sigstore-key", "--output-prefix", prefix, "--passphrase-file", passphrase);
        Assert.True(generated.ExitCode == 0, generated.Output);
        var digest = await _lab.PushImageAsync("skopeo/by-skopeo:src");
        var copied = await _lab.SkopeoAsync(
            "--policy", _lab.PathOf("accept.json"), "--registries.d", _lab.PathOf("registries.d"), "copy", "--src-tls-verify=false", "--dest-tls-verify=false",
            "--sign-by-sigstore-private-key", prefix + ".private", "--sign-passphrase-file", passphrase,
            $"docker://{_lab.Registry}/skopeo/by-skopeo:src", $"docker://{_lab.Registry}/skopeo/by-skopeo:signed");
        Assert.True(copied.ExitCode == 0, copied.Output);
        var (_, otherKey) = _tlog.WriteKeyPair("other");

        var verified = await _tlog.RunAsync("verify", $"{_lab.Registry}/skopeo/by-skopeo:signed", "--key", prefix + ".pub", "--insecure-ignore-tlog");
        var wrongKey = await _tlog.RunAsync("verify", $"{_lab.Registry}/skopeo/by-skopeo:signed", "--key", otherKey, "--insecure-ignore-tlog");

        Assert.True(verified.ExitCode == 0, verified.Output);
        Assert.Contains(digest, verified.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("containers/image", verified.StandardOutput, StringComparison.Ordinal);
        TlogRunner.AssertFailed(wrongKey, 12, "SIGNATURE_ERROR");
    }

    private static string SigTag(string digest) => "sha256-" + digest["sha256:".Length..] + ".sig";

    private async Task CopyManifestAsync(string repository, string fromTag, string toTag)
    {
        using var http = new HttpClient();
        using var get = new HttpRequestMessage(HttpMethod.Get, $"http://{_lab.Registry}/v2/{repository}/manifests/{fromTag}");
        get.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.oci.image.manifest.v1+json"));
        using var response = await http.SendAsync(get);
        response.EnsureSuccessStatusCode();
        var bytes = await response.Content.ReadAsByteArrayAsync();
        using var put = new HttpRequestMessage(HttpMethod.Put, $"http://{_lab.Registry}/v2/{repository}/manifests/{toTag}") { Content = new ByteArrayContent(bytes) };
        put.Content.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.oci.image.manifest.v1+json");
        using var stored = await http.SendAsync(put);
        stored.EnsureSuccessStatusCode();
    }

    public void Dispose()
    {
        _tlog.Dispose();
        _lab.Dispose();
    }
}
