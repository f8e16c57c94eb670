using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Npgsql;
using TransparencyLog.LogService.Http;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Proofs;
using TransparencyLog.LogService.Sequencing;
using TransparencyLog.LogService.Storage;
using TransparencyLog.LogService.Tiles;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.CertificateTransparency;
using TransparencyLog.Sigstore.Json;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.LogService.CertificateTransparency;

/// <summary>
/// The RFC 6962 §4 API of the certificate-transparency log (<c>/ct/v1/…</c>), on the same sequencer and storage as
/// the other logs, plus its tlog-tiles view at <c>/ct/checkpoint</c> and <c>/ct/tile/…</c>. Nothing is mapped unless
/// <c>Logs:Ct:Enabled</c> is true.
/// </summary>
internal static partial class CertificateTransparencyApi
{
    private const string LogSection = "Logs:Ct";

    public static IHostApplicationBuilder AddCertificateTransparency(this IHostApplicationBuilder builder)
    {
        var options = builder.Services.AddOptions<CertificateTransparencyOptions>().BindConfiguration(CertificateTransparencyOptions.Section);
        if (builder.Configuration.GetValue<bool>(LogSection + ":Enabled"))
        {
            options.ValidateDataAnnotations().ValidateOnStart();
        }

        builder.Services.AddSingleton<AcceptedRoots>();
        return builder;
    }

    /// <summary>RFC 6962 signatures are ECDSA or RSA; clients cannot verify an Ed25519 SCT.</summary>
    /// <exception cref="InvalidOperationException">The CT log's key is not ECDSA P-256.</exception>
    public static void RequireSctKey(LogInstance log)
    {
        if (log.Signer.KeyType != LogKeyType.EcdsaP256)
        {
            throw new InvalidOperationException($"the CT log {log.Name} needs an ECDSA P-256 key (Logs:Ct), not {log.Signer.KeyType}");
        }
    }

    /// <summary>Maps the API when the CT log is enabled; call after <see cref="Hosting.ServiceHosting.OpenLogsAsync"/>.</summary>
    public static IEndpointRouteBuilder MapCertificateTransparency(this IEndpointRouteBuilder app)
    {
        var logOptions = app.ServiceProvider.GetRequiredService<IOptionsMonitor<LogOptions>>().Get(nameof(LogKind.CertificateTransparency));
        if (!logOptions.Enabled)
        {
            return app;
        }

        // Not open yet when PostgreSQL was unreachable at start-up: LogOpening checks the key once it opens the log.
        if (app.ServiceProvider.GetRequiredService<LogRegistry>().TryGet(LogKind.CertificateTransparency, out var log) && log is not null)
        {
            RequireSctKey(log);
        }

        var api = app.MapGroup("/ct/v1").AnswerStorageOutage((status, message) => TypedResults.Text(message + "\n", "text/plain; charset=utf-8", statusCode: status));
        api.MapPost("/add-chain", (HttpContext context, [AsParameters] Submission submission) => AddAsync(context, submission, CtEntryType.X509));
        api.MapPost("/add-pre-chain", (HttpContext context, [AsParameters] Submission submission) => AddAsync(context, submission, CtEntryType.Precertificate));
        api.MapGet("/get-sth", GetSthAsync);
        api.MapGet("/get-sth-consistency", GetSthConsistencyAsync);
        api.MapGet("/get-proof-by-hash", GetProofByHashAsync);
        api.MapGet("/get-entries", GetEntriesAsync);
        api.MapGet("/get-roots", GetRoots);
        api.MapGet("/public-key", GetPublicKey);
        app.MapTiles("/ct", LogKind.CertificateTransparency);
        return app;
    }

    /// <summary>What a submission handler needs, resolved from DI in one parameter.</summary>
    private sealed record Submission(
        [FromServices] LogRegistry Registry,
        [FromServices] Sequencers Sequencers,
        [FromServices] EntryStore Entries,
        [FromServices] AcceptedRoots Roots,
        [FromServices] TimeProvider Time,
        [FromServices] IOptions<CertificateTransparencyOptions> Options,
        [FromServices] ILoggerFactory Loggers);

    private static async Task<IResult> AddAsync(HttpContext context, Submission submission, CtEntryType type)
    {
        var log = submission.Registry.Get(LogKind.CertificateTransparency);
        var options = submission.Options.Value;
        var cancellationToken = context.RequestAborted;
        ValidatedChain chain;
        try
        {
            byte[] body;
            try
            {
                body = await RequestBodies.ReadAsync(context.Request, options.MaxRequestBytes, cancellationToken);
            }
            catch (RequestTooLargeException e)
            {
                throw new ChainRejectedException(e.Message);
            }

            chain = ChainValidator.Validate(ParseChain(body, options), type, submission.Roots.Current);
        }
        catch (ChainRejectedException e)
        {
            return BadRequest(e.Message);
        }

        try
        {
            var timestamp = (ulong)submission.Time.GetUtcNow().ToUnixTimeMilliseconds();
            EntryToAppend entry;
            SignedCertificateTimestamp sct;
            try
            {
                (entry, sct) = await CtEntries.CreateAsync(chain, timestamp, log.Signer, cancellationToken);
            }
            catch (FormatException)
            {
                return BadRequest("chain[0] is not a DER X.509 certificate");
            }

            var (outcome, failure) = await submission.Sequencers.For(log).TryAppendAsync(entry);
            if (failure is not null)
            {
                failure.SetRetryAfter(context.Response);
                return TypedResults.Text(failure.Message + "\n", "text/plain; charset=utf-8", statusCode: failure.Status);
            }

            switch (outcome)
            {
                case AppendedWithoutProof or Appended:
                    // An SCT needs no inclusion proof (none is built: EntryToAppend.NeedsInclusionProof): the entry is
                    // durable, so its promise can be given.
                    return SctResult(sct);

                case AlreadyPresent present:
                    // RFC 6962 logs give a resubmitted (pre)certificate its first SCT. The sequencer found the entry
                    // holding the same certificate (CtEntries.DuplicateKey) under the head lock, already logged or
                    // earlier in the same batch, and wrote nothing; this SCT, signed over a leaf with a later
                    // timestamp, is dropped, and every submission of the certificate gets the stored one.
                    return await StoredSctAsync(submission.Entries, log, present.Index, cancellationToken) is { } existing
                        ? SctResult(existing)
                        : throw new LogStorageException($"log {log.Name}: entry {present.Index} has no SCT signature");

                default:
                    throw new InvalidOperationException("unknown append outcome");
            }
        }
        catch (LogStoppingException e)
        {
            context.Response.Headers.RetryAfter = "1";
            return TypedResults.Text(e.Message + "\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        catch (Exception e) when ((e is NpgsqlException or LogStorageException or TimeoutException) && !StorageAvailability.IsOutage(e))
        {
            Log.AppendFailed(submission.Loggers.CreateLogger(typeof(CertificateTransparencyApi)), e);
            return TypedResults.Text("the log could not store the entry; it was not added\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status500InternalServerError);
        }
    }

    /// <summary>Parses <c>{"chain":[base64 DER, …]}</c> within the configured bounds.</summary>
    internal static List<byte[]> ParseChain(byte[] body, CertificateTransparencyOptions options)
    {
        try
        {
            using var document = JsonInput.Parse(body, new JsonDocumentOptions { MaxDepth = 4 });
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("chain", out var array)
                || array.ValueKind != JsonValueKind.Array)
            {
                throw new ChainRejectedException("the request body must be a JSON object {\"chain\": [base64 DER certificates]}");
            }

            var count = array.GetArrayLength();
            if (count == 0)
            {
                throw new ChainRejectedException("the chain is empty");
            }

            if (count > options.MaxChainLength)
            {
                throw new ChainRejectedException($"the chain holds {count} certificates; at most {options.MaxChainLength} are accepted");
            }

            var chain = new List<byte[]>(count);
            foreach (var element in array.EnumerateArray())
            {
                var position = chain.Count;
                if (element.ValueKind != JsonValueKind.String || !element.TryGetBytesFromBase64(out var der))
                {
                    throw new ChainRejectedException($"chain[{position}] is not a base64 string");
                }

                if (der.Length == 0 || der.Length > options.MaxCertificateBytes)
                {
                    throw new ChainRejectedException($"chain[{position}] is {der.Length} bytes; certificates of 1 to {options.MaxCertificateBytes} bytes are accepted");
                }

                chain.Add(der);
            }

            return chain;
        }
        catch (NotUtf8JsonException)
        {
            throw new ChainRejectedException("the request body is not UTF-8 JSON");
        }
        catch (JsonException)
        {
            throw new ChainRejectedException("the request body is not valid JSON");
        }
    }

    private static async Task<SignedCertificateTimestamp?> StoredSctAsync(EntryStore entries, LogInstance log, long index, CancellationToken cancellationToken)
    {
        var stored = await entries.GetByIndexAsync(log.Id, index, cancellationToken);
        return stored?.EntrySignature is { } signature ? CtEntries.StoredSct(log.Signer.LogId, stored.Body, signature) : null;
    }

    private static JsonBytes SctResult(SignedCertificateTimestamp sct) =>
        new(System.Text.Encoding.UTF8.GetBytes(sct.ToAddChainResponseJson()));

    private static async Task<IResult> GetSthAsync(LogRegistry registry, LogHeads heads, CancellationToken cancellationToken)
    {
        var log = registry.Get(LogKind.CertificateTransparency);
        var head = await heads.GetServableAsync(log.Id, fresh: true, cancellationToken);
        var timestamp = (ulong)head.SignedAt.ToUnixTimeMilliseconds();
        var signature = await log.Signer.SignAsync(CtSignedData.TreeHeadSignatureInput(timestamp, head.Size, head.Root), cancellationToken);
        return TypedResults.Json(new
        {
            tree_size = head.Size,
            timestamp,
            sha256_root_hash = head.Root.ToBase64(),
            tree_head_signature = Convert.ToBase64String(DigitallySigned(signature)),
        });
    }

    /// <summary>TLS <c>DigitallySigned</c>: sha256, ecdsa, u16 length, DER signature.</summary>
    private static byte[] DigitallySigned(byte[] signature)
    {
        var result = new byte[4 + signature.Length];
        result[0] = SctSignatures.Sha256;
        result[1] = SctSignatures.Ecdsa;
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(2), (ushort)signature.Length);
        signature.CopyTo(result, 4);
        return result;
    }

    private static async Task<IResult> GetSthConsistencyAsync(
        string? first, string? second, LogRegistry registry, LogHeads heads, ProofService proofs, CancellationToken cancellationToken)
    {
        if (!TryParseSize(first, out var size1) || !TryParseSize(second, out var size2))
        {
            return BadRequest("first and second must be non-negative integers");
        }

        if (size1 > size2)
        {
            return BadRequest("first must not exceed second");
        }

        var log = registry.Get(LogKind.CertificateTransparency);
        var head = await heads.GetAsync(log.Id, fresh: true, cancellationToken);
        if (size2 > head.Size)
        {
            // A standby may lag the head the client was given; the primary has the last word.
            head = await heads.GetNewestAsync(log.Id, cancellationToken);
        }

        if (size2 > head.Size)
        {
            return BadRequest($"second {size2} is beyond the current tree size {head.Size}");
        }

        // An empty tree, or a tree with itself, is consistent with nothing to show.
        var proof = size1 == 0 || size1 == size2 ? [] : await proofs.ConsistencyAsync(log.Id, size1, size2, cancellationToken);
        return TypedResults.Json(new { consistency = proof.Select(h => h.ToBase64()).ToArray() });
    }

    private static async Task<IResult> GetProofByHashAsync(
        string? hash, string? tree_size, LogRegistry registry, LogHeads heads, EntryStore entries, ProofService proofs, CancellationToken cancellationToken)
    {
        // A '+' left unescaped in the query arrives as a space.
        if (!Hash.TryFromBase64(hash?.Replace(' ', '+'), out var leafHash))
        {
            return BadRequest("hash must be a base64 SHA-256 leaf hash");
        }

        if (!TryParseSize(tree_size, out var size) || size < 1)
        {
            return BadRequest("tree_size must be a positive integer");
        }

        var log = registry.Get(LogKind.CertificateTransparency);
        var head = await heads.GetAsync(log.Id, fresh: true, cancellationToken);
        if (size > head.Size)
        {
            // A standby may lag the head the client was given; the primary has the last word.
            head = await heads.GetNewestAsync(log.Id, cancellationToken);
        }

        if (size > head.Size)
        {
            return BadRequest($"tree_size {size} is beyond the current tree size {head.Size}");
        }

        var stored = await entries.GetByLeafHashAsync(log.Id, leafHash, cancellationToken);
        if (stored is null)
        {
            return TypedResults.Text("no entry with that leaf hash\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status404NotFound);
        }

        if (stored.Index >= size)
        {
            return BadRequest($"the entry is not in the tree of size {size}");
        }

        var proof = await proofs.InclusionAsync(log.Id, stored.Index, size, cancellationToken);
        return TypedResults.Json(new { leaf_index = stored.Index, audit_path = proof.Select(h => h.ToBase64()).ToArray() });
    }

    private static async Task<IResult> GetEntriesAsync(
        string? start,
        string? end,
        LogRegistry registry,
        LogHeads heads,
        EntryStore entries,
        IOptions<CertificateTransparencyOptions> options,
        CancellationToken cancellationToken)
    {
        if (!TryParseSize(start, out var first) || !TryParseSize(end, out var last))
        {
            return BadRequest("start and end must be non-negative integers");
        }

        if (first > last)
        {
            return BadRequest("start must not exceed end");
        }

        var log = registry.Get(LogKind.CertificateTransparency);
        var head = await heads.GetAsync(log.Id, fresh: true, cancellationToken);
        if (first >= head.Size)
        {
            return BadRequest($"start {first} is beyond the current tree size {head.Size}");
        }

        // RFC 6962 lets a log return fewer entries than asked; clients continue from the last one they got.
        last = Math.Min(Math.Min(last, head.Size - 1), first + options.Value.MaxGetEntries - 1);
        var rows = await entries.GetBodiesWithExtraDataAsync(log.Id, first, (int)(last - first + 1), cancellationToken);
        return TypedResults.Json(new
        {
            entries = rows.Select(r => new
            {
                leaf_input = Convert.ToBase64String(r.Body),
                extra_data = Convert.ToBase64String(r.ExtraData ?? []),
            }).ToArray(),
        });
    }

    private static IResult GetRoots(AcceptedRoots roots) =>
        TypedResults.Json(new { certificates = roots.Current.Select(r => Convert.ToBase64String(r.RawData)).ToArray() });

    /// <summary>Our addition: the log's public key (PEM), which the CA needs to verify SCTs.</summary>
    private static IResult GetPublicKey(LogRegistry registry) =>
        TypedResults.Text(registry.Get(LogKind.CertificateTransparency).Signer.PublicKeyPem, "application/x-pem-file");

    private static IResult BadRequest(string message) =>
        TypedResults.Text(message + "\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);

    private static bool TryParseSize(string? text, out long value) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Appending a CT entry failed")]
        public static partial void AppendFailed(ILogger logger, Exception exception);
    }
}
