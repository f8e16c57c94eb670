using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Issuance;
using TransparencyLog.Sigstore.CertificateTransparency;

namespace TransparencyLog.CaService.CertificateTransparency;

/// <summary>
/// Client of an RFC 6962 §4.1 CT log (<c>add-chain</c>, <c>add-pre-chain</c>) and holder of that log's public key,
/// which every SCT the CA embeds or returns must verify against. Every failure is
/// <see cref="CaErrorCode.CertificateTransparencyFailed"/>: a certificate that should carry an SCT is never issued
/// without one.
/// </summary>
internal sealed partial class CtLogClient
{
    public const string HttpClientName = "ct-log";

    /// <summary>An AddChainResponse is about 200 bytes; anything much larger is not one.</summary>
    private const int MaxResponseBytes = 64 * 1024;

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly ILogger<CtLogClient> _logger;
    private readonly Uri? _baseUri;

    public CtLogClient(IHttpClientFactory httpClientFactory, IOptions<IssuanceOptions> options, ILogger<CtLogClient> logger)
    {
        _httpClientFactory = httpClientFactory;
        _logger = logger;
        var value = options.Value;
        if (string.IsNullOrWhiteSpace(value.CtLogUrl))
        {
            return;
        }

        _baseUri = new Uri(value.CtLogUrl.TrimEnd('/') + "/", UriKind.Absolute);
        LogSpki = LoadPublicKey(value.CtLogPublicKeyPath
                                ?? throw new InvalidOperationException("Issuance:CtLogPublicKeyPath is required when Issuance:CtLogUrl is set."));
    }

    /// <summary>Whether a CT log is configured.</summary>
    public bool IsConfigured => _baseUri is not null;

    /// <summary>The DER SubjectPublicKeyInfo of the log's key; empty when no log is configured.</summary>
    public byte[] LogSpki { get; } = [];

    /// <summary>Submits <c>[precertificate, intermediates…, root]</c> to <c>add-pre-chain</c>.</summary>
    public Task<SignedCertificateTimestamp> AddPreChainAsync(IReadOnlyList<byte[]> chainDer, CancellationToken cancellationToken) =>
        SubmitAsync("ct/v1/add-pre-chain", chainDer, cancellationToken);

    /// <summary>Submits <c>[certificate, intermediates…, root]</c> to <c>add-chain</c>.</summary>
    public Task<SignedCertificateTimestamp> AddChainAsync(IReadOnlyList<byte[]> chainDer, CancellationToken cancellationToken) =>
        SubmitAsync("ct/v1/add-chain", chainDer, cancellationToken);

    private async Task<SignedCertificateTimestamp> SubmitAsync(
        string path,
        IReadOnlyList<byte[]> chainDer,
        CancellationToken cancellationToken)
    {
        if (_baseUri is null)
        {
            throw new InvalidOperationException("No CT log is configured.");
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(
            new Dictionary<string, string[]> { ["chain"] = chainDer.Select(Convert.ToBase64String).ToArray() });
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        try
        {
            var client = _httpClientFactory.CreateClient(HttpClientName);
            using var response = await client.PostAsync(new Uri(_baseUri, path), content, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                LogRejected(_logger, path, (int)response.StatusCode);
                throw Failed();
            }

            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var buffer = new byte[MaxResponseBytes + 1];
            var length = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                length += read;
                if (length > MaxResponseBytes)
                {
                    LogMalformed(_logger, path);
                    throw Failed();
                }
            }

            return SignedCertificateTimestamp.FromAddChainResponseJson(Encoding.UTF8.GetString(buffer, 0, length));
        }
        catch (Exception e) when (e is HttpRequestException or FormatException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // A timeout surfaces as a cancellation the caller did not ask for.
            LogUnreachable(_logger, path, e);
            throw Failed();
        }
    }

    private static byte[] LoadPublicKey(string path)
    {
        var pem = File.ReadAllText(path);
        if (!PemEncoding.TryFind(pem, out var fields) || pem[fields.Label] != "PUBLIC KEY")
        {
            throw new InvalidOperationException($"Issuance:CtLogPublicKeyPath {path} does not hold a PEM PUBLIC KEY.");
        }

        var spki = Convert.FromBase64String(pem[fields.Base64Data]);
        try
        {
            // Reject a key no SCT could verify against now rather than at the first request.
            using var ecdsa = ECDsa.Create();
            ecdsa.ImportSubjectPublicKeyInfo(spki, out _);
        }
        catch (CryptographicException)
        {
            using var rsa = RSA.Create();
            rsa.ImportSubjectPublicKeyInfo(spki, out _);
        }

        return spki;
    }

    private static CaException Failed() =>
        new(CaErrorCode.CertificateTransparencyFailed, "Error entering certificate in CTL.");

    [LoggerMessage(Level = LogLevel.Warning, Message = "CT log rejected {Path} with HTTP {StatusCode}")]
    private static partial void LogRejected(ILogger logger, string path, int statusCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CT log response to {Path} is too large")]
    private static partial void LogMalformed(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CT log submission to {Path} failed")]
    private static partial void LogUnreachable(ILogger logger, string path, Exception exception);
}
