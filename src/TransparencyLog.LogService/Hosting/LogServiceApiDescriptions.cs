using TransparencyLog.Hosting;
using TransparencyLog.LogService.Rekor;
using TransparencyLog.LogService.RekorV2;
using TransparencyLog.LogService.Timestamping;

namespace TransparencyLog.LogService.Hosting;

/// <summary>
/// The OpenAPI description of every REST route of the log service. The Rekor v1 operations carry the operation ids,
/// paths and response codes of Rekor's published openapi.yaml (Rekor's <c>default</c> error is our explicit 500, and
/// the limits it leaves implicit are listed: 413, 503).
/// </summary>
internal static class LogServiceApiDescriptions
{
    private const string Json = "application/json";
    private const string Text = "text/plain";

    public static IHostApplicationBuilder AddLogServiceApiDescriptions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddApiDescriptions([.. RekorV1, .. Tiles("", ""), .. ShardTiles, .. RekorV2, .. Tiles("/api/v2", "V2"), .. CertificateTransparency, .. Tiles("/ct", "Ct"), .. Timestamping]);
        foreach (var path in Logs.RekorV2PeriodConfiguration.Paths(builder.Configuration))
        {
            // A period log's routes are the Rekor v2 routes under /{path}, one operation id per log.
            var suffix = "_" + path.Replace('-', '_');
            builder.Services.AddApiDescriptions([
                .. RekorV2.Select(o => o with
                {
                    Path = "/" + path + o.Path,
                    OperationId = o.OperationId + suffix,
                    Summary = o.Summary.Replace("the Rekor v2 log", $"the Rekor v2 period log {path}", StringComparison.Ordinal)
                        .Replace("The Rekor v2 log", $"The Rekor v2 period log {path}", StringComparison.Ordinal),
                }),
                .. Tiles($"/{path}/api/v2", "V2" + suffix)]);
        }

        return builder;
    }

    private static ApiResponse Ok(string what, string contentType = Json, Type? body = null) => new(200, what, contentType, body);

    private static ApiResponse RekorBadRequest => new(400, "The content supplied to the server was invalid.", Json, typeof(RekorError));

    private static ApiResponse RekorNotFound => new(404, "The content requested could not be found.", Json, typeof(RekorError));

    private static ApiResponse RekorInternal => new(500, "There was an internal error in the server while processing the request (storage unreachable).", Json, typeof(RekorError));

    private static ApiResponse TooLarge => new(413, "The request body is larger than Limits:MaxRequestBytes (or the server's body limit).");

    private static readonly ApiOperation[] RekorV1 =
    [
        new("POST", "/api/v1/log/entries", "createLogEntry", "Creates an entry in the transparency log",
            "Appends a hashedrekord 0.0.1, dsse 0.0.1 or intoto 0.0.2 entry once it is durably committed, with its inclusion proof, checkpoint and signed entry timestamp.",
            [
                new(201, "Returns the entry created in the transparency log (ETag: its UUID, Location: its URL).", Json),
                RekorBadRequest,
                new(409, "The entry is already in the log; Location names the existing entry.", Json, typeof(RekorError)),
                TooLarge,
                new(415, "The body is not application/json.", Json, typeof(RekorError)),
                RekorInternal,
                new(503, "The sequencer queue is full or the service is stopping; retry after Retry-After seconds.", Json, typeof(RekorError)),
            ]),
        new("GET", "/api/v1/log", "getLogInfo", "Get information about the current state of the transparency log",
            "Returns the active shard's root hash, tree size, signed tree head (checkpoint) and tree ID, and inactiveShards: the same four fields for each frozen shard, oldest first. With treeID, those four fields of that shard (a frozen shard's final head).",
            [Ok("A JSON object with the root hash and tree size as properties."), RekorBadRequest, RekorInternal]),
        new("GET", "/api/v1/log/publicKey", "getPublicKey", "Retrieve the public key that can be used to validate the signed tree head",
            "The log's public key, PEM encoded: the active shard's, or with treeID that shard's.",
            [Ok("The public key.", "application/x-pem-file"), RekorBadRequest]),
        new("GET", "/api/v1/log/verifierKey", "getVerifierKey", "Retrieve the C2SP note verifier key of the log",
            "The verifier key (name+hash+key) for checking checkpoints with standard signed-note tools; our addition to Rekor's API.",
            [Ok("The verifier key.", Text)]),
        new("GET", "/api/v1/log/proof", "getLogProof", "Get information required to generate a consistency proof for the transparency log",
            "Returns the hashes proving that the tree of size firstSize is a prefix of the tree of size lastSize, with the root of lastSize, in the active shard or the one treeID names.",
            [Ok("All hashes required to compute the consistency proof."), RekorBadRequest, RekorInternal]),
        new("GET", "/api/v1/log/entries", "getLogEntryByIndex", "Retrieves an entry and inclusion proof from the transparency log (if it exists) by index",
            "The entry at logIndex (global across shards) with its inclusion proof (shard-local index) against its shard's latest checkpoint.",
            [Ok("The entry in the transparency log requested."), RekorBadRequest, RekorNotFound, RekorInternal]),
        new("GET", "/api/v1/log/entries/{entryUUID}", "getLogEntryByUUID", "Get log entry and information required to generate an inclusion proof for the entry in the transparency log",
            "The entry whose UUID (leaf hash, optionally prefixed by the tree ID) is given, with its inclusion proof against the latest checkpoint.",
            [Ok("The entry in the transparency log requested."), RekorBadRequest, RekorNotFound, RekorInternal]),
        new("POST", "/api/v1/log/entries/retrieve", "searchLogQuery", "Searches transparency log for one or more log entries",
            "Up to Limits:MaxRetrieveItems entries by UUID, log index or proposed entry; unknown ones are left out.",
            [
                Ok("Returns zero or more entries from the transparency log, according to how many were included in request query."),
                RekorBadRequest,
                TooLarge,
                new(415, "The body is not application/json.", Json, typeof(RekorError)),
                new(422, "The query is well-formed JSON but cannot be processed (for example several search kinds at once).", Json, typeof(RekorError)),
                RekorInternal,
            ]),
        new("POST", "/api/v1/index/retrieve", "searchIndex", "Searches index by entry metadata",
            "UUIDs of the entries matching an artifact hash, public key, email or subject.",
            [
                Ok("Returns zero or more entry UUIDs from the transparency log based on search query."),
                RekorBadRequest,
                TooLarge,
                new(415, "The body is not application/json.", Json, typeof(RekorError)),
                RekorInternal,
            ]),
        new("GET", "/api/v1/log/stream", "streamLogEntries", "Server-sent events of new log entries (our addition)",
            "One `entry` event per committed entry in index order, from the index `from` (else after the Last-Event-ID header, else the current tree size); the event id is the log index and the data {logIndex, uuid, body (base64 canonical body)}. Comment lines keep an idle stream alive.",
            [
                Ok("The event stream.", "text/event-stream"),
                RekorBadRequest,
                RekorInternal,
                new(503, "EntryStream:MaxSubscribers streams are open; retry after Retry-After seconds.", Json, typeof(RekorError)),
            ]),
    ];

    private static readonly ApiOperation[] RekorV2 =
    [
        new("POST", "/api/v2/log/entries", "createEntry", "Creates an entry in the Rekor v2 log",
            "Appends a hashedrekord or dsse 0.0.2 entry and returns the TransparencyLogEntry (protobuf JSON) with its inclusion proof and checkpoint.",
            [
                new(201, "The TransparencyLogEntry of the new (or already present) entry.", Json),
                new(400, "The request is not a valid CreateEntryRequest (code 3), or the log is frozen, read-only (code 9).", Json, typeof(RekorV2Error)),
                TooLarge,
                new(415, "The body is not application/json.", Json, typeof(RekorV2Error)),
                new(500, "Storage failed; the entry was not added.", Json, typeof(RekorV2Error)),
                new(503, "The sequencer queue is full or the service is stopping; retry after Retry-After seconds.", Json, typeof(RekorV2Error)),
            ]),
        new("GET", "/api/v2/log/publicKey", "getV2PublicKey", "The Rekor v2 log's public key", "PEM encoded.", [Ok("The public key.", "application/x-pem-file")]),
        new("GET", "/api/v2/log/verifierKey", "getV2VerifierKey", "The Rekor v2 log's C2SP verifier key", "For checking its checkpoints with signed-note tools.", [Ok("The verifier key.", Text)]),
        new("GET", "/api/v2/log/tlogInstance", "getTlogInstance", "The Rekor v2 log as a signing_config/trusted_root entry",
            "Base URL, log ID, key and validity of this log, to put in a trusted root.", [Ok("The log instance.")]),
        new("POST", "/api/v2/index/retrieve", "searchV2Index", "Searches the Rekor v2 log by entry metadata (our addition)",
            "The body of /api/v1/index/retrieve (hash, publicKey, email, subject, operator); answers {\"entries\": [TransparencyLogEntry]} with inclusion proofs against the current checkpoint, in index order, at most Limits:MaxSearchResults.",
            [
                Ok("Zero or more matching entries."),
                new(400, "The query is malformed or names nothing to search for.", Json, typeof(RekorV2Error)),
                TooLarge,
                new(415, "The body is not application/json.", Json, typeof(RekorV2Error)),
                new(500, "Storage failed.", Json, typeof(RekorV2Error)),
            ]),
    ];

    private static ApiOperation[] Tiles(string prefix, string log) =>
    [
        new("GET", prefix + "/checkpoint", "getCheckpoint" + log, "The latest checkpoint (c2sp.org/tlog-tiles)",
            "The signed note of the latest tree head; never cached.",
            [Ok("The checkpoint.", Text), new(500, "Storage failed.")]),
        new("GET", prefix + "/tile/{path}", "getTile" + log, "A tile or entry bundle (c2sp.org/tlog-tiles)",
            "tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]; full tiles are immutable and cached for a year.",
            [
                Ok("The tile's hashes or the entry bundle.", "application/octet-stream"),
                new(400, "The tile path is malformed."),
                new(404, "The tile is beyond the current tree."),
                new(500, "Storage failed."),
            ]),
    ];

    private static readonly ApiOperation[] ShardTiles =
    [
        new("GET", "/shards/{treeID}/checkpoint", "getShardCheckpoint", "A Rekor v1 shard's latest checkpoint (c2sp.org/tlog-tiles)",
            "The checkpoint of the shard treeID names (decimal): a frozen shard's final one, or the active shard's latest; never cached.",
            [Ok("The checkpoint.", Text), new(404, "No shard has this tree ID."), new(500, "Storage failed.")]),
        new("GET", "/shards/{treeID}/tile/{path}", "getShardTile", "A tile or entry bundle of a Rekor v1 shard (c2sp.org/tlog-tiles)",
            "tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>] of the shard treeID names, in shard-local indices; full tiles are immutable and cached for a year.",
            [
                Ok("The tile's hashes or the entry bundle.", "application/octet-stream"),
                new(404, "No shard has this tree ID, or the tile is beyond the shard's tree."),
                new(500, "Storage failed."),
            ]),
    ];

    private static readonly ApiOperation[] CertificateTransparency =
    [
        new("POST", "/ct/v1/add-chain", "addChain", "Add a certificate chain (RFC 6962 4.1)", "Appends the chain's end-entity certificate and returns its SCT.", CtSubmission()),
        new("POST", "/ct/v1/add-pre-chain", "addPreChain", "Add a precertificate chain (RFC 6962 4.1)", "Appends the precertificate and returns the SCT the CA embeds.", CtSubmission()),
        new("GET", "/ct/v1/get-sth", "getSth", "Retrieve the latest signed tree head (RFC 6962 4.3)", "Tree size, timestamp, root hash and signature.", [Ok("The signed tree head."), new(500, "Storage failed.")]),
        new("GET", "/ct/v1/get-sth-consistency", "getSthConsistency", "Retrieve a consistency proof between two tree heads (RFC 6962 4.4)", "Between tree sizes first and second.",
            [Ok("The consistency proof."), new(400, "first or second is missing, malformed or out of range.", Json), new(500, "Storage failed.")]),
        new("GET", "/ct/v1/get-proof-by-hash", "getProofByHash", "Retrieve an inclusion proof by leaf hash (RFC 6962 4.5)", "For the leaf hash in a tree of tree_size.",
            [Ok("The leaf index and audit path."), new(400, "hash or tree_size is missing or malformed.", Json), new(404, "No such leaf in the tree of that size.", Json), new(500, "Storage failed.")]),
        new("GET", "/ct/v1/get-entries", "getEntries", "Retrieve entries (RFC 6962 4.6)", "Entries start..end, at most CertificateTransparency:MaxGetEntries of them.",
            [Ok("The entries."), new(400, "start or end is missing, malformed or out of range.", Json), new(500, "Storage failed.")]),
        new("GET", "/ct/v1/get-roots", "getRoots", "Retrieve the accepted root certificates (RFC 6962 4.7)", "The roots chains must end in.", [Ok("The accepted roots.")]),
        new("GET", "/ct/v1/public-key", "getCtPublicKey", "The CT log's public key", "PEM encoded; the CA verifies every SCT against it.", [Ok("The public key.", "application/x-pem-file")]),
    ];

    private static ApiResponse[] CtSubmission() =>
    [
        Ok("The signed certificate timestamp."),
        new(400, "The chain is malformed, does not end in an accepted root, or is the wrong kind for this endpoint.", Json),
        TooLarge,
        new(500, "Storage failed; the certificate was not added."),
        new(503, "The sequencer queue is full or the service is stopping; retry after Retry-After seconds."),
    ];

    private static readonly ApiOperation[] Timestamping =
    [
        new("POST", "/api/v1/timestamp", "getTimestampResponse", "Generates a new timestamp response (RFC 3161)",
            "Accepts a DER TimeStampReq (application/timestamp-query) or its JSON form and answers a DER TimeStampResp.",
            [
                Ok("The timestamp response.", TimestampingEndpoints.TimestampReplyMediaType),
                new(400, "The request is not a valid timestamp request (or the JSON form is too large).", Json, typeof(TimestampError)),
                new(413, "The request body is larger than Timestamping:MaxRequestBytes.", Json, typeof(TimestampError)),
                new(415, "Content-Type is neither application/timestamp-query nor application/json.", Json, typeof(TimestampError)),
            ]),
        new("GET", "/api/v1/timestamp/certchain", "getTimestampCertChain", "Retrieve the certificate chain for timestamping",
            "The TSA's certificate chain, leaf first, PEM encoded.", [Ok("The certificate chain.", TimestampingEndpoints.CertificateChainMediaType)]),
    ];
}
