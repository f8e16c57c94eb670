using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using TransparencyLog.CaService.Api;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Issuance;
using TransparencyLog.Sigstore.CertificateTransparency;

namespace TransparencyLog.CaService.CertificateTransparency;

/// <summary>
/// Client of an RFC 6962 §4.1 CT log (<c>add-chain</c>, <c>add-pre-chain</c>) and holder of that log's public key,
/// which every SCT the CA embeds or returns must verify against. A log that stays unreachable through the retry
/// budget is <see cref="CaErrorCode.CertificateTransparencyUnavailable"/> (503); any other failure is
/// <see cref="CaErrorCode.CertificateTransparencyFailed"/>. A certificate that should carry an SCT is never issued
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
    private readonly ResiliencePipeline? _pipeline;
    private readonly TimeSpan _attemptTimeout;
    private readonly TimeSpan _retryBudget;

    /// <summary>What is left of the retry budget after the first attempt (the pipeline's outer timeout).</summary>
    private static readonly ResiliencePropertyKey<TimeSpan> RemainingBudget = new("ct-log.remaining-budget");

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
        _attemptTimeout = value.CtLogTimeout < value.CtLogRetryBudget ? value.CtLogTimeout : value.CtLogRetryBudget;
        _retryBudget = value.CtLogRetryBudget;
        _pipeline = BuildPipeline(value);
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
        if (_baseUri is null || _pipeline is null)
        {
            throw new InvalidOperationException("No CT log is configured.");
        }

        var body = ChainRequestJson(chainDer);
        var started = Stopwatch.GetTimestamp();

        // The first attempt runs outside the retry pipeline, bounded by the same attempt timeout: nearly every
        // submission succeeds at once, and the pipeline's three strategies (two timeouts, a retry with its context and
        // state) cost more per submission than the attempt's own cancellation source. A transient failure or a timeout
        // of this attempt goes on to the pipeline below, with what is left of the budget: the same attempts, delays
        // and answers as before.
        string reason;
        using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            attempt.CancelAfter(_attemptTimeout);
            try
            {
                return await AttemptAsync(path, body, attempt.Token);
            }
            catch (CtLogTransientException e)
            {
                reason = e.Message;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                reason = $"the attempt timed out after {_attemptTimeout.TotalSeconds:0.###} s";
            }
        }

        // The pipeline's first retry delay, taken here because its own first attempt follows at once.
        var delay = TimeSpan.FromMilliseconds(FirstRetryDelay.TotalMilliseconds * (0.5 + Random.Shared.NextDouble()));
        var remaining = _retryBudget - Stopwatch.GetElapsedTime(started) - delay;
        if (remaining <= TimeSpan.Zero)
        {
            throw Unavailable(path);
        }

        LogRetrying(_logger, 1, reason, (long)delay.TotalMilliseconds);
        await Task.Delay(delay, cancellationToken);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            context.Properties.Set(RemainingBudget, remaining);
            return await _pipeline.ExecuteAsync(
                static (ctx, state) => state.Client.AttemptAsync(state.Path, state.Body, ctx.CancellationToken),
                context,
                (Client: this, Path: path, Body: body));
        }
        catch (Exception e) when (e is CtLogTransientException or TimeoutRejectedException)
        {
            throw Unavailable(path);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>The budget is spent (or the last attempt failed transiently): the certificate is not issued, and the
    /// client is told to come back rather than that the request was wrong.</summary>
    private CaException Unavailable(string path)
    {
        LogUnavailable(_logger, path);
        return new CaException(CaErrorCode.CertificateTransparencyUnavailable, "The certificate transparency log is unavailable; retry later.");
    }

    /// <summary>RFC 6962 §4.1's <c>{"chain":[base64 DER, …]}</c>, base64-encoded straight into the UTF-8 body (no
    /// string per certificate).</summary>
    internal static byte[] ChainRequestJson(IReadOnlyList<byte[]> chainDer)
    {
        var buffer = new ArrayBufferWriter<byte>(64 + chainDer.Sum(der => (der.Length + 2) / 3 * 4 + 3));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("chain"u8);
            foreach (var der in chainDer)
            {
                writer.WriteBase64StringValue(der);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// One submission. Transient failures (no connection, 5xx, 429, an attempt's timeout) are retried by the pipeline;
    /// an answer that is not an SCT or a 4xx is final, since sending the same chain again gets the same answer.
    /// </summary>
    private async ValueTask<SignedCertificateTimestamp> AttemptAsync(string path, byte[] body, CancellationToken attemptToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        try
        {
            var client = _httpClientFactory.CreateClient(HttpClientName);
            using var response = await client.PostAsync(new Uri(_baseUri!, path), content, attemptToken);
            if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                throw new CtLogTransientException($"HTTP {(int)response.StatusCode}");
            }

            if (!response.IsSuccessStatusCode)
            {
                LogRejected(_logger, path, (int)response.StatusCode);
                throw Failed();
            }

            await using var stream = await response.Content.ReadAsStreamAsync(attemptToken);
            // Pooled: a fresh, zeroed 64 KiB array per submission (for an answer of about 200 bytes) was 64 KiB of
            // garbage per certificate.
            var buffer = ArrayPool<byte>.Shared.Rent(MaxResponseBytes + 1);
            try
            {
                var length = 0;
                int read;
                while ((read = await stream.ReadAsync(buffer.AsMemory(length, MaxResponseBytes + 1 - length), attemptToken)) > 0)
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
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (HttpRequestException e)
        {
            throw new CtLogTransientException(e.Message);
        }
        catch (OperationCanceledException) when (!attemptToken.IsCancellationRequested)
        {
            // HttpClient's own timeout: a cancellation nobody asked for. (The pipeline's per-attempt timeout cancels
            // attemptToken and becomes a TimeoutRejectedException, also retried.)
            throw new CtLogTransientException("the HTTP client timed out");
        }
        catch (FormatException)
        {
            LogMalformed(_logger, path);
            throw Failed();
        }
    }

    /// <summary>
    /// Retries with exponential backoff and jitter inside a total budget, each attempt bounded by its own timeout:
    /// outermost the budget, then the retry, then the attempt's timeout.
    /// </summary>
    private ResiliencePipeline BuildPipeline(IssuanceOptions options) => new ResiliencePipelineBuilder()
        .AddTimeout(new TimeoutStrategyOptions
        {
            // The budget left after the first attempt, which SubmitAsync makes outside the pipeline.
            TimeoutGenerator = arguments => ValueTask.FromResult(arguments.Context.Properties.GetValue(RemainingBudget, options.CtLogRetryBudget)),
        })
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<CtLogTransientException>().Handle<TimeoutRejectedException>(),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = FirstRetryDelay,
            MaxDelay = TimeSpan.FromSeconds(2),
            // Bounded by the budget, not by a count.
            MaxRetryAttempts = int.MaxValue,
            OnRetry = arguments =>
            {
                // Attempt 1 was SubmitAsync's, outside the pipeline: the pipeline's attempt 0 is the second.
                LogRetrying(_logger, arguments.AttemptNumber + 2, arguments.Outcome.Exception?.Message ?? "", (long)arguments.RetryDelay.TotalMilliseconds);
                return ValueTask.CompletedTask;
            },
        })
        .AddTimeout(options.CtLogTimeout)
        .Build();

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>A failure worth another attempt; never leaves this class.</summary>
    private sealed class CtLogTransientException(string message) : Exception(message);

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "CT log submission attempt {Attempt} failed ({Reason}); retrying in {DelayMs} ms")]
    private static partial void LogRetrying(ILogger logger, int attempt, string reason, long delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CT log stayed unavailable for {Path} through the retry budget; answering 503")]
    private static partial void LogUnavailable(ILogger logger, string path);
}
