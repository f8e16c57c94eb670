using System.Diagnostics;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TransparencyLog.CaService.CertificateTransparency;
using TransparencyLog.CaService.Identity;
using TransparencyLog.CaService.Issuance;
using TransparencyLog.Sigstore.CertificateTransparency;

namespace TransparencyLog.CaService.Tests.Issuance;

internal sealed class SimpleHttpClientFactory : IHttpClientFactory
{
    public HttpClient CreateClient(string name) => new() { Timeout = TimeSpan.FromSeconds(10) };
}

/// <summary>One parsed X.509 extension, in certificate order.</summary>
internal sealed record ParsedExtension(string Oid, bool Critical, byte[] Value);

internal static class IssuanceTestSupport
{
    public const string FulcioArc = "1.3.6.1.4.1.57264.1.";

    public static Principal Principal(SanKind kind = SanKind.Email, string? value = null, IReadOnlyDictionary<string, string>? extensions = null)
    {
        var san = new SubjectAlternativeName(kind, value ?? kind switch
        {
            SanKind.Email => "alice@example.com",
            SanKind.Uri => "https://github.com/o/r/.github/workflows/release.yml@refs/heads/main",
            _ => "alice!example.com",
        });
        return new Principal(
            "https://issuer.example.com",
            san,
            [san.Value],
            extensions ?? new Dictionary<string, string>
            {
                [FulcioArc + "1"] = "https://issuer.example.com",
                [FulcioArc + "8"] = "https://issuer.example.com",
                [FulcioArc + "24"] = "alice-subject",
            });
    }

    public static CaSigner NewCa(DateTimeOffset now)
    {
        var (key, chain) = EphemeralCaBackend.Generate(now);
        return CaSigner.InProcess(key, chain);
    }

    public static CertificateIssuer NewIssuer(CaSigner ca, TimeProvider time, IssuanceOptions? options = null)
    {
        var wrapped = Options.Create(options ?? new IssuanceOptions());
        var ctLog = new CtLogClient(new SimpleHttpClientFactory(), wrapped, NullLogger<CtLogClient>.Instance);
        return new CertificateIssuer(ca, ctLog, wrapped, time, NullLogger<CertificateIssuer>.Instance);
    }

    public static SubmittedKey NewKey() =>
        SubmittedKey.FromPublicKey(ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportSubjectPublicKeyInfoPem());

    public static byte[] DerFromPem(string pem) =>
        PemEncoding.TryFind(pem, out var fields) ? Convert.FromBase64String(pem[fields.Base64Data]) : throw new FormatException();

    public static List<ParsedExtension> ReadExtensions(byte[] certDer)
    {
        var tbs = new AsnReader(certDer, AsnEncodingRules.DER).ReadSequence().ReadSequence();
        var result = new List<ParsedExtension>();
        while (tbs.HasData)
        {
            if (tbs.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 3)))
            {
                var list = tbs.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 3)).ReadSequence();
                while (list.HasData)
                {
                    var extension = list.ReadSequence();
                    var oid = extension.ReadObjectIdentifier();
                    var critical = extension.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean) && extension.ReadBoolean();
                    result.Add(new ParsedExtension(oid, critical, extension.ReadOctetString()));
                }

                break;
            }

            tbs.ReadEncodedValue();
        }

        return result;
    }

    /// <summary>The TBSCertificate bytes of a DER certificate.</summary>
    public static byte[] Tbs(byte[] certDer) =>
        new AsnReader(certDer, AsnEncodingRules.DER).ReadSequence().ReadEncodedValue().ToArray();

    public static (int ExitCode, string Output) RunOpenSsl(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("openssl")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Throws (and so fails the test) when openssl is not installed.
        using var process = Process.Start(start) ?? throw new InvalidOperationException("openssl did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error.Result);
    }
}

/// <summary>How the fake CT log misbehaves.</summary>
internal enum FakeCtLogMode
{
    Honest,
    BadSignature,
    WrongTbs,
    ServerError,
}

/// <summary>An RFC 6962 add-chain/add-pre-chain endpoint on loopback, signing SCTs with its own P-256 key.</summary>
internal sealed class FakeCtLog : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeCtLog(WebApplication app, ECDsa key)
    {
        _app = app;
        Key = key;
    }

    public ECDsa Key { get; }

    public FakeCtLogMode Mode { get; set; } = FakeCtLogMode.Honest;

    public byte[] Extensions { get; set; } = [];

    public List<byte[][]> ReceivedPreChains { get; } = [];

    public string Url => _app.Urls.First();

    public byte[] Spki => Key.ExportSubjectPublicKeyInfo();

    public static async Task<FakeCtLog> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var log = new FakeCtLog(app, ECDsa.Create(ECCurve.NamedCurves.nistP256));
        app.MapPost("/ct/v1/add-pre-chain", (Delegate)log.AddPreChainAsync);
        app.MapPost("/ct/v1/add-chain", (Delegate)log.AddChainAsync);
        await app.StartAsync();
        return log;
    }

    public string WritePublicKey(string directory)
    {
        var path = Path.Combine(directory, "ctlog.pub");
        File.WriteAllText(path, Key.ExportSubjectPublicKeyInfoPem());
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Key.Dispose();
    }

    private async Task<IResult> AddPreChainAsync(HttpRequest request)
    {
        var chain = await ReadChainAsync(request);
        ReceivedPreChains.Add(chain);
        if (Mode == FakeCtLogMode.ServerError)
        {
            return Results.StatusCode(500);
        }

        using var issuer = X509CertificateLoader.LoadCertificate(chain[1]);
        var issuerKeyHash = SHA256.HashData(issuer.PublicKey.ExportSubjectPublicKeyInfo());
        var tbs = Precertificate.TbsWithoutPoison(chain[0]);
        if (Mode == FakeCtLogMode.WrongTbs)
        {
            tbs[^1] ^= 1;
        }

        var sct = SctSignatures.SignForPrecertificate(Key, Timestamp(), issuerKeyHash, tbs, Extensions);
        return Respond(sct);
    }

    private async Task<IResult> AddChainAsync(HttpRequest request)
    {
        var chain = await ReadChainAsync(request);
        if (Mode == FakeCtLogMode.ServerError)
        {
            return Results.StatusCode(500);
        }

        return Respond(SctSignatures.SignForCertificate(Key, Timestamp(), chain[0], Extensions));
    }

    private IResult Respond(SignedCertificateTimestamp sct)
    {
        if (Mode == FakeCtLogMode.BadSignature)
        {
            var signature = sct.Signature.ToArray();
            signature[^1] ^= 1;
            sct = sct with { Signature = signature };
        }

        return Results.Text(sct.ToAddChainResponseJson(), "application/json");
    }

    private static ulong Timestamp() => (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static async Task<byte[][]> ReadChainAsync(HttpRequest request)
    {
        using var document = await JsonDocument.ParseAsync(request.Body);
        return document.RootElement.GetProperty("chain").EnumerateArray()
            .Select(e => Convert.FromBase64String(e.GetString()!)).ToArray();
    }
}
