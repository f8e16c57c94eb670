using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using TransparencyLog.Interop.Tests.Infrastructure;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.Interop.Tests.Cli;

/// <summary>
/// skopeo 1.13.3 signs keyless against the running system: <c>--sign-by-sigstore PARAMS.yaml</c> gets a certificate
/// through the CA's Fulcio v1 API with a development token and logs the signature in the Rekor v1 log; skopeo's own
/// <c>sigstoreSigned</c> policy (fulcio + rekorPublicKeyPath) then accepts the image and refuses another identity.
/// </summary>
[Collection(ImageSystemCollection.Name)]
public sealed class SkopeoKeylessTests(LocalSystem system) : IDisposable
{
    private const string Signer = "skopeo-signer@example.com";
    private const string Reference = "registry.example/app:v1";

    private readonly TlogRunner _tlog = new(system);

    [Fact]
    public async Task SkopeoCopy_SignBySigstoreThroughOurCa_SkopeoPolicyAcceptsIt()
    {
        var token = await system.DevTokenAsync(Signer);
        var parameters = _tlog.Write("params.yaml", $"""
            fulcio:
              fulcioURL: "{system["FULCIO_URL"]}"
              oidcMode: "staticToken"
              oidcIDToken: "{token}"
            rekorURL: "{system["REKOR_URL"]}"
            """);
        var image = Skopeo.WriteImage(_tlog.PathOf("image"));
        var anything = _tlog.Write("anything.json", """{"default":[{"type":"insecureAcceptAnything"}]}""");

        var signed = await RunSkopeoAsync("--policy", anything, "copy", "--sign-by-sigstore", parameters, "--sign-identity", Reference, "dir:" + image, "dir:" + _tlog.PathOf("signed"));

        Assert.True(signed.ExitCode == 0, signed.Output);
        var annotations = ReadAnnotations(_tlog.PathOf("signed"));
        using var leaf = X509Certificate2.CreateFromPem(annotations.GetProperty("dev.sigstore.cosign/certificate").GetString());
        Assert.Contains(Signer, leaf.GetNameInfo(X509NameType.EmailName, forIssuer: false), StringComparison.Ordinal);
        Assert.True(annotations.TryGetProperty("dev.sigstore.cosign/bundle", out _), "the signature carries the Rekor SET");

        // skopeo's own verifier: the chain to our CA root, the SET under our log key, the email, the reference.
        using var http = new HttpClient();
        var rootCert = await http.GetStringAsync(system["FULCIO_URL"] + "/api/v1/rootCert");
        var roots = new X509Certificate2Collection();
        roots.ImportFromPem(rootCert);
        var caFile = _tlog.Write("fulcio-root.pem", roots[^1].ExportCertificatePem() + "\n");
        var rekorKey = _tlog.Write("rekor.pub", await http.GetStringAsync(system["REKOR_URL"] + "/api/v1/log/publicKey"));
        var accepted = await RunSkopeoAsync("--policy", Policy(caFile, rekorKey, Signer), "copy", "dir:" + _tlog.PathOf("signed"), "dir:" + _tlog.PathOf("accepted"));
        var otherIdentity = await RunSkopeoAsync("--policy", Policy(caFile, rekorKey, "mallory@example.com"), "copy", "dir:" + _tlog.PathOf("signed"), "dir:" + _tlog.PathOf("refused"));

        Assert.True(accepted.ExitCode == 0, accepted.Output);
        Assert.NotEqual(0, otherIdentity.ExitCode);
    }

    public void Dispose() => _tlog.Dispose();

    private string Policy(string caFile, string rekorKey, string email) => _tlog.Write($"policy-{email}.json", JsonSerializer.Serialize(new
    {
        @default = new[] { new { type = "reject" } },
        transports = new Dictionary<string, object>
        {
            ["dir"] = new Dictionary<string, object>
            {
                [""] = new object[]
                {
                    new Dictionary<string, object>
                    {
                        ["type"] = "sigstoreSigned",
                        ["fulcio"] = new { caPath = caFile, oidcIssuer = system["OIDC_ISSUER"], subjectEmail = email },
                        ["rekorPublicKeyPath"] = rekorKey,
                        ["signedIdentity"] = new { type = "exactReference", dockerReference = Reference },
                    },
                },
            },
        },
    }));

    private Task<ProcessResult> RunSkopeoAsync(params string[] arguments) =>
        LocalSystem.RunAsync(Skopeo.Binary, arguments, null, TimeSpan.FromMinutes(2), _tlog.Directory);

    private static JsonElement ReadAnnotations(string directory)
    {
        var bytes = File.ReadAllBytes(Path.Combine(directory, "signature-1"));
        var prefix = "\0sigstore-json\n"u8;
        Assert.True(bytes.AsSpan().StartsWith(prefix), "signature-1 is not a sigstore signature");
        using var json = JsonDocument.Parse(bytes.AsMemory(prefix.Length));
        return json.RootElement.GetProperty("annotations").Clone();
    }
}
