using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Interop.Tests.Cli;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Admission.Tests.Webhook;

/// <summary>
/// Authority fields that change what is verified, each shown to change a verdict: <c>signatureFormat</c> (where the
/// signatures are read), <c>ctlog.url</c> (which log's entry counts) and <c>key.hashAlgorithm</c> (the signature hash).
/// </summary>
public sealed partial class WebhookTests
{
    [Fact]
    public async Task Validate_SignatureFormat_ReadsOnlyTheNamedPlace()
    {
        var legacy = await SignAsync("format/legacy:1.0", "--format", "legacy");
        var bundle = await SignAsync("format/bundle:1.0", "--format", "bundle");

        await AddPolicyAsync("format-default", KeylessPolicy("format-default", $"{_lab.Registry}/format/**"));
        var defaultLegacy = await ValidateAsync(Review("Pod", "", PodSpec(containers: [legacy])));
        var defaultBundle = await ValidateAsync(Review("Pod", "", PodSpec(containers: [bundle])));
        await RemovePolicyAsync("format-default");
        await AddPolicyAsync("format-bundle", KeylessPolicy("format-bundle", $"{_lab.Registry}/format/**", attestations: "    signatureFormat: bundle"));
        var bundleLegacy = await ValidateAsync(Review("Pod", "", PodSpec(containers: [legacy])));
        var bundleBundle = await ValidateAsync(Review("Pod", "", PodSpec(containers: [bundle])));
        await RemovePolicyAsync("format-bundle");

        Assert.True(defaultLegacy["response"]!["allowed"]!.GetValue<bool>(), defaultLegacy.ToJsonString());
        Assert.Contains("in the .sig/.att tag (signatureFormat legacy)", Denial(defaultBundle), StringComparison.Ordinal);
        Assert.Contains("as sigstore bundle referrers (signatureFormat bundle)", Denial(bundleLegacy), StringComparison.Ordinal);
        Assert.True(bundleBundle["response"]!["allowed"]!.GetValue<bool>(), bundleBundle.ToJsonString());
    }

    [Fact]
    public async Task Validate_CtlogUrl_OnlyThatLogsEntryCounts()
    {
        var signed = await SignAsync("ctlog/app:1.0");
        var other = "https://rekor.other.example";
        await AddPolicyAsync("ctlog-root", TrustRootFromSystem("ctlog-root", other));

        async Task<JsonObject> Judge(string name, string url)
        {
            await AddPolicyAsync(name, KeylessPolicy(name, $"{_lab.Registry}/ctlog/**", attestations: $"    ctlog: {{url: \"{url}\", trustRootRef: ctlog-root}}"));
            try
            {
                return await ValidateAsync(Review("Pod", "", PodSpec(containers: [signed])));
            }
            finally
            {
                await RemovePolicyAsync(name);
            }
        }

        var ours = await Judge("ctlog-ours", _system["REKOR_URL"]);
        var theirs = await Judge("ctlog-theirs", other);

        Assert.True(ours["response"]!["allowed"]!.GetValue<bool>(), ours.ToJsonString());
        Assert.Contains("no trusted transparency log has log ID", Denial(theirs), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_KeyHashAlgorithm_SignatureCheckedWithThatHash()
    {
        var (privateKey, publicKey) = _tlog.WriteKeyPair("hash-signer");
        var digest = await _lab.PushImageAsync("hash/app:1.0");
        var reference = $"{_lab.Registry}/hash/app@{digest}";
        await _tlog.SucceedAsync("sign", reference, "--key", privateKey, "--rekor-url", _system["REKOR_URL"]);
        var pem = string.Join("\n", File.ReadAllText(publicKey).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(static l => "          " + l));

        async Task<JsonObject> Judge(string name, string hash)
        {
            await AddPolicyAsync(name, $"""
                apiVersion: policy.sigstore.dev/v1beta1
                kind: ClusterImagePolicy
                metadata: {"{"}name: {name}{"}"}
                spec:
                  images: [{"{"}glob: "{_lab.Registry}/hash/**"{"}"}]
                  authorities:
                  - key:
                      hashAlgorithm: {hash}
                      data: |
                {pem}
                """);
            try
            {
                return await ValidateAsync(Review("Pod", "", PodSpec(containers: [reference])));
            }
            finally
            {
                await RemovePolicyAsync(name);
            }
        }

        var sha256 = await Judge("hash-256", "sha256");
        var sha512 = await Judge("hash-512", "sha512");

        Assert.True(sha256["response"]!["allowed"]!.GetValue<bool>(), sha256.ToJsonString());
        Assert.Contains("does not verify", Denial(sha512), StringComparison.Ordinal);
    }

    private async Task<string> SignAsync(string repositoryAndTag, params string[] extra)
    {
        var digest = await _lab.PushImageAsync(repositoryAndTag);
        var reference = $"{_lab.Registry}/{repositoryAndTag.Split(':')[0]}@{digest}";
        var token = await _system.DevTokenAsync(TlogRunner.Alice);
        await _tlog.SucceedAsync(
            ["sign", reference, "--identity-token", token, "--fulcio-url", _system["FULCIO_URL"], "--rekor-url", _system["REKOR_URL"], "--tsa-url", _system["TSA_URL"], .. extra]);
        return reference;
    }

    /// <summary>A TrustRoot (sigstoreKeys) holding the system's CA, logs and TSA, plus a log of <paramref name="extraLogUrl"/> with a key nobody holds.</summary>
    private string TrustRootFromSystem(string name, string extraLogUrl)
    {
        var root = TrustedRoot.Parse(File.ReadAllText(_system["TRUSTED_ROOT"]));
        static string B64(string pem) => Convert.ToBase64String(Encoding.UTF8.GetBytes(pem));
        static string Chain(IEnumerable<byte[]> certificates) =>
            B64(string.Concat(certificates.Select(static c => PemEncoding.WriteString("CERTIFICATE", c) + "\n")));
        static string Key(byte[] spki) => B64(PemEncoding.WriteString("PUBLIC KEY", spki));
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var text = new StringBuilder($"apiVersion: policy.sigstore.dev/v1alpha1\nkind: TrustRoot\nmetadata: {{name: {name}}}\nspec:\n  sigstoreKeys:\n");
        text.Append("    certificateAuthorities:\n");
        foreach (var ca in root.CertificateAuthorities)
        {
            text.Append($"    - certChain: {Chain(ca.CertChain)}\n");
        }

        text.Append("    timestampAuthorities:\n");
        foreach (var tsa in root.TimestampAuthorities)
        {
            text.Append($"    - certChain: {Chain(tsa.CertChain)}\n");
        }

        text.Append("    tLogs:\n");
        foreach (var log in root.Tlogs.Where(static l => l.PublicKey.RawBytes.Length > 0))
        {
            text.Append($"    - {{baseURL: \"{log.BaseUrl}\", hashAlgorithm: sha-256, publicKey: {Key(log.PublicKey.RawBytes)}}}\n");
        }

        text.Append($"    - {{baseURL: \"{extraLogUrl}\", hashAlgorithm: sha-256, publicKey: {Key(stranger.ExportSubjectPublicKeyInfo())}}}\n");
        text.Append("    ctLogs:\n");
        foreach (var log in root.Ctlogs)
        {
            text.Append($"    - {{baseURL: \"{log.BaseUrl}\", hashAlgorithm: sha-256, publicKey: {Key(log.PublicKey.RawBytes)}}}\n");
        }

        return text.ToString();
    }
}
