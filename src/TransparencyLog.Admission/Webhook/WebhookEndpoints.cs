using System.Buffers;
using System.Net.Security;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TransparencyLog.Admission.Policies;
using TransparencyLog.Hosting;
using TransparencyLog.Policy.Evaluation;

namespace TransparencyLog.Admission.Webhook;

/// <summary>
/// <c>POST /validate</c> and <c>POST /mutate</c>: AdmissionReview v1 in, AdmissionReview v1 out (admission-policy
/// §1). Every well-formed review gets an answer within the deadline, never an error status: a policy that cannot be
/// checked denies (or warns, in warn mode). Malformed or oversized requests get 400/413.
/// </summary>
internal static class WebhookEndpoints
{
    public static IHostApplicationBuilder AddWebhook(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdmissionOptions>()
            .BindConfiguration(AdmissionOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(static o => Uri.TryCreate(o.Url, UriKind.Absolute, out var u) && u.Scheme == Uri.UriSchemeHttps, "Admission:Url must be https://HOST:PORT")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHttpClient("registry", static client => client.Timeout = TimeSpan.FromSeconds(10));
        builder.Services.AddHttpClient("tuf", static client => client.Timeout = TimeSpan.FromSeconds(15));
        builder.Services.AddSingleton<PullSecrets>();
        builder.Services.AddSingleton(static services => new OutcomeCache(
            services.GetRequiredService<TimeProvider>(), services.GetRequiredService<IOptions<AdmissionOptions>>().Value.CacheEntries));
        builder.Services.AddSingleton<ReviewHandler>();
        builder.Services.AddApiDescriptions(Operations);
        builder.Services.AddSingleton(static services =>
        {
            var admission = services.GetRequiredService<IOptions<AdmissionOptions>>().Value;
            return new ServingCertificate(admission.CertificatePath, admission.KeyPath, services.GetRequiredService<ILogger<ServingCertificate>>());
        });
        builder.Services.AddOptions<KestrelServerOptions>().Configure<IOptions<AdmissionOptions>, ServingCertificate>(static (kestrel, options, certificate) =>
        {
            var admission = options.Value;
            kestrel.Limits.MaxRequestBodySize = admission.MaxRequestBytes;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            if (Uri.TryCreate(admission.Url, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttps)
            {
                var address = url.Host is "localhost" ? System.Net.IPAddress.Loopback : System.Net.IPAddress.Parse(url.Host.Trim('[', ']'));
                // HTTP/1.1 and HTTP/2 (ALPN) for API servers, which keep connections open; one shared certificate
                // context, re-read only when the files change.
                kestrel.Listen(address, url.Port, listen => listen.UseHttps(new TlsHandshakeCallbackOptions
                {
                    OnConnection = _ => ValueTask.FromResult(new SslServerAuthenticationOptions
                    {
                        ServerCertificateContext = certificate.Current(),
                        EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
                    }),
                }));
            }
        });
        return builder;
    }

    private static readonly ApiOperation[] Operations =
    [
        new("POST", "/validate", "validate", "Validating admission webhook",
            "An admission.k8s.io/v1 AdmissionReview; answers allowed or denied (status 403 with each failing image, policy and authority), warnings for warn-mode policies, and audit annotations.",
            [new(200, "The AdmissionReview response.", "application/json"), new(400, "The body is not an AdmissionReview v1.", "application/problem+json"), new(413, "The body is larger than Admission:MaxRequestBytes.", "application/problem+json")]),
        new("POST", "/mutate", "mutate", "Mutating admission webhook",
            "An admission.k8s.io/v1 AdmissionReview; pins every image given by tag to its current digest with a base64 JSONPatch (repo:tag@sha256:…).",
            [new(200, "The AdmissionReview response.", "application/json"), new(400, "The body is not an AdmissionReview v1.", "application/problem+json"), new(413, "The body is larger than Admission:MaxRequestBytes.", "application/problem+json")]),
    ];

    public static WebApplication MapWebhook(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<AdmissionOptions>>().Value;
        app.Lifetime.ApplicationStarted.Register(() => Log.Listening(app.Logger, options.Url));
        _ = app.Services.GetRequiredService<PolicyStore>();
        app.MapPost("/validate", (HttpContext context, ReviewHandler handler, CancellationToken cancellationToken) => handler.HandleAsync(context, mutate: false, cancellationToken));
        app.MapPost("/mutate", (HttpContext context, ReviewHandler handler, CancellationToken cancellationToken) => handler.HandleAsync(context, mutate: true, cancellationToken));
        return app;
    }
}

/// <summary>Reads one review (bounded), judges it with the policies in force, records the decision.</summary>
internal sealed class ReviewHandler(PolicyStore store, PullSecrets pullSecrets, OutcomeCache cache, TimeProvider time, IOptions<AdmissionOptions> options, ILogger<ReviewHandler> logger)
{
    /// <summary>How far past the limit a refused body is still read (and dropped) so the 413 reaches the client.</summary>
    private const int DrainFactor = 4;

    private static readonly JsonSerializerOptions s_compact = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public async Task<Results<FileContentHttpResult, ProblemHttpResult>> HandleAsync(HttpContext context, bool mutate, CancellationToken cancellationToken)
    {
        var endpoint = mutate ? "mutate" : "validate";
        var started = time.GetTimestamp();
        var admission = options.Value;
        JsonNode? body;
        try
        {
            body = await ReadBodyAsync(context, admission.MaxRequestBytes, cancellationToken);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Refuse(StatusCodes.Status413PayloadTooLarge, $"the AdmissionReview is larger than {admission.MaxRequestBytes} bytes");
        }
        catch (ReviewFormatException ex)
        {
            return Refuse(StatusCodes.Status400BadRequest, ex.Message);
        }

        var set = store.Current;
        var evaluator = new ReviewEvaluator(
            new PolicyEvaluator(store.DefaultRoot, cache, pullSecrets.ConnectSignatureSecrets),
            (ns, secrets) => new ReviewRegistries(pullSecrets.Connect(ns, secrets, out var scope), scope),
            time,
            TimeSpan.FromSeconds(admission.DeadlineSeconds));
        ReviewDecision decision;
        try
        {
            if (set is null)
            {
                decision = await evaluator.EvaluateAsync(NoPolicies, body, mutate: false, requireDigest: true, cancellationToken);
                decision = Deny(decision, "no policy set is in force (the policy files did not load)");
            }
            else if (Exempt(body, admission))
            {
                decision = await evaluator.EvaluateAsync(AllowAll, body, mutate: false, requireDigest: false, cancellationToken);
            }
            else
            {
                decision = await evaluator.EvaluateAsync(set, body, mutate, admission.RequireDigest, cancellationToken);
            }
        }
        catch (ReviewFormatException ex)
        {
            return Refuse(StatusCodes.Status400BadRequest, ex.Message);
        }

        var verdict = decision.Verdict;
        AdmissionMetrics.Reviews.WithLabels(endpoint, verdict).Inc();
        AdmissionMetrics.ReviewDuration.WithLabels(endpoint, verdict).Observe(time.GetElapsedTime(started).TotalSeconds);
        AdmissionMetrics.CacheEntries.Set(cache.Count);
        Log.Decision(logger, verdict, decision.Record["reviewUID"]?.ToString() ?? string.Empty, decision.Record.ToJsonString(s_compact));
        return Answer(decision.Review);
    }

    /// <summary>
    /// The answer as bytes with a Content-Length: a streamed (chunked) body cannot keep an HTTP/1.0 keep-alive
    /// connection open, and with one fresh TLS handshake per review the handshake, not the review, is the cost.
    /// </summary>
    private static FileContentHttpResult Answer(JsonObject review)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            review.WriteTo(writer);
        }

        return TypedResults.Bytes(buffer.WrittenMemory, "application/json; charset=utf-8");
    }

    private static readonly Policy.Documents.PolicySet NoPolicies = new([], new Dictionary<string, Policy.Documents.TrustRootDocument>(), Policy.Documents.NoMatchPolicy.Deny, "none", "none");
    private static readonly Policy.Documents.PolicySet AllowAll = new([], new Dictionary<string, Policy.Documents.TrustRootDocument>(), Policy.Documents.NoMatchPolicy.Allow, "exempt", "exempt");

    // Read before the evaluator checks the review's shape: each level is matched by type, because JsonNode's string
    // indexer throws InvalidOperationException on an array or a value (a body of [] was a 500).
    private static bool Exempt(JsonNode? body, AdmissionOptions admission) =>
        body is JsonObject review && review["request"] is JsonObject request && request["namespace"] is JsonValue ns
        && ns.GetValueKind() == JsonValueKind.String && admission.ExemptNamespaces.Contains(ns.GetValue<string>());

    private static ReviewDecision Deny(ReviewDecision decision, string reason)
    {
        var response = decision.Review["response"]!.AsObject();
        response["allowed"] = false;
        response["status"] = new JsonObject { ["code"] = 403, ["reason"] = "Forbidden", ["message"] = reason };
        if (response["auditAnnotations"] is JsonObject annotations)
        {
            annotations["image-policy/decision"] = "denied";
            if (annotations["image-policy/record"]?.GetValue<string>() is { } text && JsonNode.Parse(text) is JsonObject summary)
            {
                summary["verdict"] = "denied";
                annotations["image-policy/record"] = summary.ToJsonString();
            }
        }

        decision.Record["allowed"] = false;
        decision.Record["verdict"] = "denied";
        decision.Record["errors"] = new JsonArray(reason);
        return decision with { Allowed = false, Verdict = "denied" };
    }

    /// <summary>
    /// Reads at most <paramref name="maxBytes"/>. A larger body is refused with 413; unless the client waits for
    /// 100-continue (then nothing more is sent), the rest is read and dropped, up to <see cref="DrainFactor"/> times
    /// the limit, so a client that sends everything at once sees the 413 instead of a connection reset.
    /// </summary>
    private static async Task<JsonNode?> ReadBodyAsync(HttpContext context, int maxBytes, CancellationToken cancellationToken)
    {
        var drainLimit = (long)maxBytes * DrainFactor;
        var waitsForContinue = context.Request.Headers.Expect.Any(static e => string.Equals(e, "100-continue", StringComparison.OrdinalIgnoreCase));
        if (context.Request.ContentLength > maxBytes && (waitsForContinue || context.Request.ContentLength > drainLimit))
        {
            throw new Microsoft.AspNetCore.Http.BadHttpRequestException("too large", StatusCodes.Status413PayloadTooLarge);
        }

        // Kestrel's own limit stays at maxBytes for every other route; here it is raised so the excess can be drained.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = drainLimit;
        }

        // Pooled: one buffer per review would be most of the webhook's allocation on cached reviews.
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(context.Request.ContentLength ?? 16 * 1024, maxBytes) + 1);
        try
        {
            var length = 0;
            var tooLarge = false;
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                length += read;
                if (length > maxBytes)
                {
                    tooLarge = true;
                    length = 0; // the excess is read and dropped
                }
                else if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }

            return tooLarge
                ? throw new Microsoft.AspNetCore.Http.BadHttpRequestException("too large", StatusCodes.Status413PayloadTooLarge)
                : ReviewEvaluator.ParseReview(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static ProblemHttpResult Refuse(int status, string detail)
    {
        AdmissionMetrics.MalformedReviews.Inc();
        return TypedResults.Problem(statusCode: status, title: status == StatusCodes.Status413PayloadTooLarge ? "review too large" : "not an AdmissionReview", detail: detail);
    }
}
