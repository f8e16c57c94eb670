using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using TransparencyLog.LogService.Http;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Sequencing;
using TransparencyLog.LogService.Storage;
using TransparencyLog.LogService.Tiles;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Rekor;
using TransparencyLog.Sigstore.Rekor.V2;

namespace TransparencyLog.LogService.RekorV2;

/// <summary>
/// The Rekor v2 (rekor-tiles) REST API on its own log: <c>POST /api/v2/log/entries</c> plus the tlog-tiles read API
/// under <c>/api/v2</c>. Served only when <c>Logs:RekorV2:Enabled</c> is true.
/// </summary>
internal static partial class RekorV2Api
{
    public static IHostApplicationBuilder AddRekorV2Api(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }

    public static IEndpointRouteBuilder MapRekorV2Api(this IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<IOptionsMonitor<LogOptions>>().Get(nameof(LogKind.RekorV2));
        if (options.Enabled)
        {
            app.MapRekorV2Log("/api/v2", static registry => registry.Get(LogKind.RekorV2));
        }

        // Period logs: each under its own path, so a base URL http://HOST:PORT/{path} reaches it unmodified.
        foreach (var path in RekorV2PeriodConfiguration.Paths(app.ServiceProvider.GetRequiredService<IConfiguration>()))
        {
            app.MapRekorV2Log($"/{path}/api/v2", registry => registry.GetPeriod(path));
        }

        return app;
    }

    /// <summary>One Rekor v2 log's routes under <paramref name="prefix"/>.</summary>
    private static void MapRekorV2Log(this IEndpointRouteBuilder app, string prefix, Func<LogRegistry, LogInstance> logOf)
    {
        var api = app.MapGroup(prefix).AnswerStorageOutage(RekorV2Error.Result);
        api.MapPost("/log/entries", (HttpContext context, LogRegistry registry, Sequencers sequencers, IOptions<LimitsOptions> limits) =>
            CreateEntryAsync(context, logOf(registry), sequencers, limits));
        api.MapGet("/log/publicKey", (LogRegistry registry) => GetPublicKey(logOf(registry)));
        api.MapGet("/log/verifierKey", (LogRegistry registry) => GetVerifierKey(logOf(registry)));
        api.MapGet("/log/tlogInstance", (HttpContext context, LogRegistry registry) => GetTlogInstance(context, logOf(registry)));
        api.MapPost("/index/retrieve", (HttpContext context, LogRegistry registry, EntryStore entries, LogHeads heads, Proofs.ProofService proofs, IOptions<LimitsOptions> limits) =>
            RekorV2Search.SearchAsync(context, logOf(registry), entries, heads, proofs, limits));
        app.MapTiles(prefix, logOf);
    }

    private static async Task<IResult> CreateEntryAsync(
        HttpContext context, LogInstance log, Sequencers sequencers, IOptions<LimitsOptions> limits)
    {
        if (log.Options.ReadOnly)
        {
            // Before the body is read: a frozen log changes nothing whatever is sent.
            return RekorV2Error.Result(
                StatusCodes.Status400BadRequest,
                RekorV2Error.FailedPrecondition,
                $"the log {log.Name} is frozen (read-only): it serves its entries, proofs and checkpoints but takes no new entries; " +
                "submit to the log the current signing config names");
        }

        ProposedEntry proposed;
        try
        {
            var body = await RequestBodies.ReadAsync(context.Request, limits.Value.MaxRequestBytes, context.RequestAborted);
            proposed = RekorV2EntryParser.Parse(body, limits.Value.ToEntryLimits());
        }
        catch (RequestTooLargeException e)
        {
            return RekorV2Error.Result(StatusCodes.Status413PayloadTooLarge, e.Message);
        }
        catch (EntryRejectedException e)
        {
            return RekorV2Error.Result(StatusCodes.Status400BadRequest, e.Message);
        }

        var entry = new EntryToAppend(proposed.CanonicalBody, proposed.Kind, proposed.ApiVersion, Rekor.SearchKeys.For(proposed.IndexKeys));
        var (outcome, failure) = await sequencers.For(log).TryAppendAsync(entry);
        if (failure is not null)
        {
            failure.SetRetryAfter(context.Response);
            return RekorV2Error.Result(failure.Status, failure.Message);
        }

        switch (outcome)
        {
            case Appended appended:
                return new JsonBytes(
                    TransparencyLogEntryWriter.Write(log, appended.Index, proposed.Kind, proposed.ApiVersion, entry.Body, appended.Head, appended.InclusionProof),
                    StatusCodes.Status201Created);

            case AlreadyPresent present:
                // rekor-tiles answers AlreadyExists (409) and names the existing index in this header.
                context.Response.Headers["X-Log-Index"] = present.Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return RekorV2Error.Result(
                    StatusCodes.Status409Conflict, $"an equivalent entry already exists in the transparency log at index {present.Index}");

            case AppendedWithoutProof added:
                context.Response.Headers["X-Log-Index"] = added.Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return RekorV2Error.Result(
                    StatusCodes.Status500InternalServerError,
                    $"the entry was added at index {added.Index} but its inclusion proof could not be built; read it from the tiles");

            default:
                throw new InvalidOperationException("unknown append outcome");
        }
    }

    private static ContentHttpResult GetPublicKey(LogInstance log) =>
        TypedResults.Text(log.Signer.PublicKeyPem, "application/x-pem-file");

    private static ContentHttpResult GetVerifierKey(LogInstance log) =>
        TypedResults.Text(log.VerifierKey + "\n", "text/plain; charset=utf-8");

    /// <summary>
    /// Our addition: this log as a trusted root's <c>tlogs[]</c> item. <c>baseUrl</c> assumes clients reach the log
    /// at its name with the scheme of this request (a period log's name carries its path: <c>HOST:PORT/{path}</c>);
    /// an operator behind a proxy should check it.
    /// </summary>
    private static JsonHttpResult<TlogInstance> GetTlogInstance(HttpContext context, LogInstance log)
    {
        var keyDetails = log.Signer.KeyType == LogKeyType.Ed25519 ? "PKIX_ED25519" : "PKIX_ECDSA_P256_SHA_256";
        return TypedResults.Json(new TlogInstance(
            $"{context.Request.Scheme}://{log.Name}",
            "SHA2_256",
            new TlogPublicKey(Convert.ToBase64String(log.Signer.PublicKeySpki), keyDetails),
            new TlogKeyId(Convert.ToBase64String(log.CheckpointKeyHash)),
            new TlogKeyId(Convert.ToBase64String(log.CheckpointKeyId))));
    }

    /// <summary>A <c>dev.sigstore.trustroot.v1.TransparencyLogInstance</c> (protobuf-JSON names).</summary>
    internal sealed record TlogInstance(string BaseUrl, string HashAlgorithm, TlogPublicKey PublicKey, TlogKeyId LogId, TlogKeyId CheckpointKeyId);

    internal sealed record TlogPublicKey(string RawBytes, string KeyDetails);

    internal sealed record TlogKeyId(string KeyId);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Appending a Rekor v2 entry failed")]
        public static partial void AppendFailed(ILogger logger, Exception exception);
    }
}
