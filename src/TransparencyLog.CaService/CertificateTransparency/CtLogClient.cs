using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using TransparencyLog.CaService.Api;
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
internal sealed partial class CtLogClient : IDisposable
{
    public const string HttpClientName = "ct-log";

    /// <summary>An AddChainResponse is about 200 bytes; anything much larger is not one.</summary>
    private const int MaxResponseBytes = 64 * 1024;

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly ILogger<CtLogClient> _logger;
    private readonly Uri? _baseUri;
    private readonly byte[] _logId = [];
    private readonly AsymmetricAlgorithm? _logKey;
    private readonly Lock _logKeyLock = new();

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
        _logId = SctSignatures.LogIdFromSpki(LogSpki);
        _logKey = ImportLogKey(LogSpki);
    }

    /// <summary>Whether a CT log is configured.</summary>
    public bool IsConfigured => _baseUri is not null;

    /// <summary>The DER SubjectPublicKeyInfo of the log's key; empty when no log is configured.</summary>
    public byte[] LogSpki { get; } = [];

    /// <summary>
    /// Whether <paramref name="sct"/> comes from this log and verifies over <paramref name="signedData"/>, with the
    /// log key imported once (an import costs about as much as the verification). One verification at a time:
    /// .NET does not promise that one key object verifies on several threads at once.
    /// </summary>
    public bool Verify(SignedCertificateTimestamp sct, ReadOnlySpan<byte> signedData)
    {
        if (_logKey is null)
        {
            return false;
        }

        lock (_logKeyLock)
        {
            return SctSignatures.Verify(sct, signedData, _logKey, _logId);
        }
    }

    public void Dispose() => _logKey?.Dispose();

    /// <summary>Submits <c>[precertificate, intermediates…, root]</c> to <c>add-pre-chain</c>.</summary>
    public Task<SignedCertificateTimestamp> AddPreChainAsync(IReadOnlyList<byte[]> chainDer, CancellationToken cancellationToken) =>
        CaMetrics.TimeCtSubmissionAsync("add-pre-chain", SubmitAsync("ct/v1/add-pre-chain", chainDer, cancellationToken));

    /// <summary>Submits <c>[certificate, intermediates…, root]</c> to <c>add-chain</c>.</summary>
    public Task<SignedCertificateTimestamp> AddChainAsync(IReadOnlyList<byte[]> chainDer, CancellationToken cancellationToken) =>
        CaMetrics.TimeCtSubmissionAsync("add-chain", SubmitAsync("ct/v1/add-chain", chainDer, cancellationToken));

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

        // ImportLogKey rejects a key no SCT could verify against now rather than at the first request.
        return Convert.FromBase64String(pem[fields.Base64Data]);
    }

    /// <summary>The log key as ECDSA, else RSA; null when the SPKI has trailing bytes (no SCT verifies then, as with
    /// <see cref="SctSignatures.Verify(SignedCertificateTimestamp, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>).</summary>
    private static AsymmetricAlgorithm? ImportLogKey(byte[] spki)
    {
        AsymmetricAlgorithm key = ECDsa.Create();
        int read;
        try
        {
            key.ImportSubjectPublicKeyInfo(spki, out read);
        }
        catch (CryptographicException)
        {
            key.Dispose();
            key = RSA.Create();
            key.ImportSubjectPublicKeyInfo(spki, out read);
        }

        if (read != spki.Length)
        {
            key.Dispose();
            return null;
        }

        return key;
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
