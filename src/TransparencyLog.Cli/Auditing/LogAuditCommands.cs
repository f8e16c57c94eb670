using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Http;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Rekor;

namespace TransparencyLog.Cli.Auditing;

/// <summary>rekor-cli's audit commands: <c>log search</c>, <c>log upload</c>, <c>log verify</c>, <c>log proof</c>.</summary>
internal static class LogAuditCommands
{
    private const string InclusionError = "TLOG_INCLUSION_PROOF_ERROR";
    private const string PromiseError = "TLOG_INCLUSION_PROMISE_ERROR";
    private const int MaxSignatureFileBytes = 64 * 1024;

    public static void AddTo(Command log, CliHost host)
    {
        log.Subcommands.Add(Search(host));
        log.Subcommands.Add(Upload(host));
        log.Subcommands.Add(Verify(host));
        log.Subcommands.Add(Proof(host));
    }

    private static Command Search(CliHost host)
    {
        var rekorUrl = LogFlags.RekorUrl();
        var email = new Option<string?>("--email") { Description = "Entries whose certificate names this email address.", HelpName = "ADDRESS" };
        var sha = new Option<string?>("--sha") { Description = "Entries over this artifact digest: [sha256:|sha384:|sha512:]HEX.", HelpName = "DIGEST" };
        var artifact = new Option<string?>("--artifact") { Description = "Entries over this file (its SHA-256).", HelpName = "FILE" };
        var publicKey = new Option<string?>("--public-key") { Description = "Entries signed by this PEM public key or certificate.", HelpName = "FILE" };
        var op = new Option<string?>("--operator") { Description = "Combine several criteria with and (default) or or.", HelpName = "and|or" };
        var version = new Option<int?>("--rekor-version") { Description = "1 (default): UUIDs from the Rekor v1 index; 2: entries of the Rekor v2 log [env: REKOR_V2_URL].", HelpName = "1|2" };
        var command = new Command(
            "search",
            "Find entries by artifact, digest, signer's email or public key, as rekor-cli search does.\n\n" +
            "Examples:\n  tlog log search --email me@example.com\n  tlog log search --artifact app.tar.gz --public-key cosign.pub --operator and\n" +
            "  tlog log search --sha 3f2a… --rekor-version 2 --output json");
        CommandActions.AddOptions(command, rekorUrl, email, sha, artifact, publicKey, op, version);

        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var query = SearchQuery(parseResult.GetValue(email), parseResult.GetValue(sha), parseResult.GetValue(artifact), parseResult.GetValue(publicKey), parseResult.GetValue(op));
            if (parseResult.GetValue(version) is 2)
            {
                var url = CommandActions.Required(
                    CommandActions.FlagOrEnv(parseResult, rekorUrl, host, "REKOR_V2_URL") ?? host.Context.Env("REKOR_URL"),
                    "no transparency log URL: pass --rekor-url or set REKOR_V2_URL");
                var entries = await new RekorSearchClient(host.Context.Http, url).SearchV2Async(query, cancellationToken);
                var list = new JsonArray();
                foreach (var entry in entries)
                {
                    reporter.Line($"{entry.LogIndex.ToString(CultureInfo.InvariantCulture)} {Rfc6962.HashLeaf(entry.CanonicalizedBody)}");
                    list.Add((JsonNode)Bundle.TlogEntryJson(entry));
                }

                reporter.Note(entries.Count == 0 ? "No matching entries." : $"{entries.Count} matching entries (log index, leaf hash).");
                reporter.Result(new JsonObject { ["ok"] = true, ["entries"] = list });
                return ExitCodes.Success;
            }

            if (parseResult.GetValue(version) is not (null or 1))
            {
                throw new CliException(ExitCodes.Usage, "--rekor-version must be 1 or 2");
            }

            var uuids = await new RekorSearchClient(host.Context.Http, LogFlags.BaseUrl(parseResult, rekorUrl, host)).SearchV1Async(query, cancellationToken);
            foreach (var uuid in uuids)
            {
                reporter.Line(uuid);
            }

            reporter.Note(uuids.Count == 0 ? "No matching entries." : $"{uuids.Count} matching entries.");
            reporter.Result(new JsonObject { ["ok"] = true, ["uuids"] = new JsonArray([.. uuids.Select(static u => (JsonNode?)u)]) });
            return ExitCodes.Success;
        });
        return command;
    }

    private static JsonObject SearchQuery(string? email, string? sha, string? artifact, string? publicKey, string? op)
    {
        var query = new JsonObject();
        if (sha is not null && artifact is not null)
        {
            throw new CliException(ExitCodes.Usage, "give --sha or --artifact, not both");
        }

        if (sha is not null)
        {
            query["hash"] = sha.Trim();
        }

        if (artifact is not null)
        {
            using var stream = OpenInput(artifact, "artifact");
            query["hash"] = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        if (email is not null)
        {
            query["email"] = email.Trim();
        }

        if (publicKey is not null)
        {
            query["publicKey"] = new JsonObject { ["format"] = "x509", ["content"] = Convert.ToBase64String(ReadSmallFile(publicKey, "public key file")) };
        }

        if (query.Count == 0)
        {
            throw new CliException(ExitCodes.Usage, "give at least one of --email, --sha, --artifact or --public-key");
        }

        if (op is not null)
        {
            query["operator"] = op is "and" or "or" ? op : throw new CliException(ExitCodes.Usage, "--operator must be and or or");
        }

        return query;
    }

    private static Command Upload(CliHost host)
    {
        var rekorUrl = LogFlags.RekorUrl();
        var entry = new EntryOptions();
        var command = new Command(
            "upload",
            "Record an existing signature in the log, as rekor-cli upload does: an artifact with its signature and public key " +
            "(or certificate) as a hashedrekord entry, the entry of an existing Sigstore bundle, or a proposed entry JSON. " +
            "An entry already in the log is reported, not duplicated.\n\n" +
            "Examples:\n  tlog log upload --artifact app.tar.gz --signature app.sig --public-key cosign.pub\n" +
            "  tlog log upload --bundle app.tar.gz.sigstore.json --rekor-url https://other-log.example\n  tlog log upload --entry proposed.json");
        command.Options.Add(rekorUrl);
        entry.AddTo(command);
        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var proposed = entry.Build(parseResult) ?? throw new CliException(ExitCodes.Usage, "give --artifact with --signature and --public-key, or --bundle, or --entry");
            var url = LogFlags.BaseUrl(parseResult, rekorUrl, host);
            var uri = ServiceCall.Url(url, "/api/v1/log/entries");
            var (status, body, response) = await ServiceCall.PostJsonAsync(host.Context.Http, uri, proposed, "the transparency log", cancellationToken);
            string uuid;
            TransparencyLogEntry logged;
            var existed = status == HttpStatusCode.Conflict;
            using (response)
            {
                if (existed && response.Headers.Location is { } location)
                {
                    (uuid, logged) = await new RekorClient(host.Context.Http, url).GetEntryByUuidAsync(location.OriginalString[(location.OriginalString.LastIndexOf('/') + 1)..], cancellationToken);
                }
                else
                {
                    ServiceCall.EnsureSuccess(status, body, "the transparency log", uri);
                    try
                    {
                        (uuid, logged) = RekorEntryConverter.FromResponse(Encoding.UTF8.GetString(body));
                    }
                    catch (BundleFormatException ex)
                    {
                        throw new CliException(ExitCodes.Error, $"the log sent an entry that cannot be used: {ex.Message}");
                    }
                }
            }

            reporter.Line(existed
                ? $"Entry already exists; UUID {uuid} at log index {logged.LogIndex.ToString(CultureInfo.InvariantCulture)}"
                : $"Created entry at index {logged.LogIndex.ToString(CultureInfo.InvariantCulture)}, available at: {url.TrimEnd('/')}/api/v1/log/entries/{uuid}");
            reporter.Result(new JsonObject { ["ok"] = true, ["uuid"] = uuid, ["logIndex"] = logged.LogIndex, ["alreadyExisted"] = existed, ["tlogEntry"] = Bundle.TlogEntryJson(logged) });
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Verify(CliHost host)
    {
        var rekorUrl = LogFlags.RekorUrl();
        var uuid = LogFlags.Uuid();
        var index = LogFlags.Index();
        var vkey = LogFlags.VerifierKey("default: the key the log serves");
        var logKey = new Option<string?>("--log-public-key") { Description = "The log's PEM public key file (default: the key the log serves).", HelpName = "PATH" };
        var entry = new EntryOptions();
        var command = new Command(
            "verify",
            "Verify that an entry is in the log: its body hashes to its UUID, its inclusion proof leads to a checkpoint " +
            "signed by the log's key, its signed entry timestamp verifies, and that checkpoint is consistent with the log's " +
            "latest one. The entry is named by --uuid or --index, or found from what was signed (as for upload). " +
            "Exits 3 if the entry does not verify, 4 if the log's checkpoints do.\n\n" +
            "Examples:\n  tlog log verify --uuid 24296fb24b8ad77a…\n  tlog log verify --artifact app.tar.gz --signature app.sig --public-key cosign.pub --vkey \"$REKOR_NOTE_VKEY\"");
        command.Options.Add(rekorUrl);
        command.Options.Add(uuid);
        command.Options.Add(index);
        command.Options.Add(vkey);
        command.Options.Add(logKey);
        entry.AddTo(command);
        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var url = LogFlags.BaseUrl(parseResult, rekorUrl, host);
            var client = new RekorClient(host.Context.Http, url);
            var proposed = entry.Build(parseResult);
            var byUuid = parseResult.GetValue(uuid);
            var byIndex = parseResult.GetValue(index);
            if (new object?[] { byUuid, byIndex, proposed }.Count(static o => o is not null) != 1)
            {
                throw new CliException(ExitCodes.Usage, "name the entry with exactly one of --uuid, --index, or what was signed (--artifact/--signature/--public-key, --bundle, --entry)");
            }

            var (id, logged) = byUuid is not null ? await client.GetEntryByUuidAsync(byUuid, cancellationToken)
                : byIndex is { } n ? (n >= 0 ? await client.GetEntryByIndexAsync(n, cancellationToken) : throw new CliException(ExitCodes.Usage, "--index must not be negative"))
                : await new RekorSearchClient(host.Context.Http, url).RetrieveByProposedAsync(proposed ?? [], cancellationToken)
                    ?? throw new CliException(ExitCodes.VerificationFailed, "the log has no entry for what was signed", InclusionError);

            var verifier = parseResult.GetValue(vkey) is null && parseResult.GetValue(logKey) is null
                ? LogCommands.CheckpointVerifier.FromPem(await client.GetPublicKeyPemAsync(cancellationToken))
                : LogCommands.CheckpointVerifier.Create(parseResult.GetValue(vkey), parseResult.GetValue(logKey));
            var result = await VerifyEntryAsync(client, verifier, id, logged, byUuid, cancellationToken);
            reporter.Line($"Verified: entry {logged.LogIndex.ToString(CultureInfo.InvariantCulture)} (UUID {id}) is in {result["origin"]}");
            reporter.Line($"  inclusion proof against the checkpoint of size {result["proofTreeSize"]}; latest checkpoint size {result["latestTreeSize"]} is consistent with it");
            reporter.Line(logged.InclusionPromise is null ? "  no signed entry timestamp" : $"  signed entry timestamp verified (integrated {DateTimeOffset.FromUnixTimeSeconds(logged.IntegratedTime):O})");
            result["uuid"] = id;
            result["logIndex"] = logged.LogIndex;
            reporter.Result(result);
            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task<JsonObject> VerifyEntryAsync(
        RekorClient client, LogCommands.CheckpointVerifier verifier, string id, TransparencyLogEntry logged, string? askedUuid, CancellationToken cancellationToken)
    {
        var leaf = Rfc6962.HashLeaf(logged.CanonicalizedBody);
        var uuid = id.Length > 64 ? id[^64..] : id;
        if (!string.Equals(uuid, leaf.ToString(), StringComparison.OrdinalIgnoreCase)
            || (askedUuid is not null && !string.Equals(askedUuid.Length > 64 ? askedUuid[^64..] : askedUuid, leaf.ToString(), StringComparison.OrdinalIgnoreCase)))
        {
            throw new CliException(ExitCodes.VerificationFailed, $"the entry's body hashes to {leaf}, not to its UUID {uuid}", InclusionError);
        }

        var proof = logged.InclusionProof ?? throw new CliException(ExitCodes.VerificationFailed, "the log returned the entry without an inclusion proof", InclusionError);
        var checkpoint = verifier.Verify(proof.Checkpoint, "the checkpoint of the entry's inclusion proof");
        if (checkpoint.Size != proof.TreeSize || !checkpoint.RootHash.AsSpan().SequenceEqual(proof.RootHash) || proof.LogIndex != logged.LogIndex)
        {
            throw new CliException(ExitCodes.VerificationFailed, "the inclusion proof's tree size, root or index differs from its checkpoint or entry", InclusionError);
        }

        if (proof.Hashes.Any(static h => h.Length != Hash.Size)
            || !ProofVerifier.VerifyInclusion(proof.LogIndex, proof.TreeSize, leaf, [.. proof.Hashes.Select(static h => Hash.FromBytes(h))], Hash.FromBytes(proof.RootHash)))
        {
            throw new CliException(ExitCodes.VerificationFailed, $"the inclusion proof does not lead from entry {logged.LogIndex} to the root at tree size {proof.TreeSize}", InclusionError);
        }

        if (logged.InclusionPromise is { } set && verifier.PublicKey is { } key
            && !SignedEntryTimestamp.Verify(key, set, Convert.ToBase64String(logged.CanonicalizedBody), logged.IntegratedTime, logged.LogIndex))
        {
            throw new CliException(ExitCodes.VerificationFailed, "the entry's signed entry timestamp does not verify with the log's key", PromiseError);
        }

        // The proof's checkpoint may be older than the latest one: the latest must extend it.
        var info = await client.GetLogInfoAsync(cancellationToken);
        var latest = verifier.Verify(info.SignedTreeHead, "the log's latest checkpoint");
        var proofRoot = Hash.FromBytes(proof.RootHash);
        var latestRoot = Hash.FromBytes(latest.RootHash);
        if (latest.Origin != checkpoint.Origin || latest.Size < checkpoint.Size
            || (latest.Size == checkpoint.Size && latestRoot != proofRoot))
        {
            throw new CliException(ExitCodes.LogInconsistent, $"LOG INCONSISTENT: the latest checkpoint (size {latest.Size}) does not extend the proof's (size {checkpoint.Size})", "LOG_INCONSISTENT");
        }

        if (latest.Size > checkpoint.Size)
        {
            var (root, hashes) = await client.GetConsistencyProofAsync(checkpoint.Size, latest.Size, cancellationToken);
            if (root != latestRoot || !ProofVerifier.VerifyConsistency(checkpoint.Size, latest.Size, hashes, proofRoot, latestRoot))
            {
                throw new CliException(ExitCodes.LogInconsistent, $"LOG INCONSISTENT: the tree at size {latest.Size} does not extend the tree at size {checkpoint.Size} the entry was proven in", "LOG_INCONSISTENT");
            }
        }

        return new JsonObject
        {
            ["ok"] = true,
            ["origin"] = checkpoint.Origin,
            ["proofTreeSize"] = checkpoint.Size,
            ["latestTreeSize"] = latest.Size,
            ["latestRootHash"] = latestRoot.ToString(),
            ["signedEntryTimestampVerified"] = logged.InclusionPromise is not null && verifier.PublicKey is not null,
        };
    }

    private static Command Proof(CliHost host)
    {
        var rekorUrl = LogFlags.RekorUrl();
        var first = new Option<long>("--first", "--first-size") { Description = "The smaller tree size.", HelpName = "N", Required = true };
        var last = new Option<long?>("--last", "--last-size") { Description = "The larger tree size (default: the current size).", HelpName = "M" };
        var command = new Command(
            "proof",
            "Print the RFC 6962 consistency proof between two tree sizes and the root at the larger, as rekor-cli logproof does.\n\n" +
            "Example:\n  tlog log proof --first 10 --last 42 --output json");
        command.Options.Add(rekorUrl);
        command.Options.Add(first);
        command.Options.Add(last);
        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var client = new RekorClient(host.Context.Http, LogFlags.BaseUrl(parseResult, rekorUrl, host));
            var firstSize = parseResult.GetValue(first);
            var lastSize = parseResult.GetValue(last) ?? (await client.GetLogInfoAsync(cancellationToken)).TreeSize;
            if (firstSize < 1 || lastSize < firstSize)
            {
                throw new CliException(ExitCodes.Usage, "need 1 <= --first <= --last");
            }

            var (root, hashes) = await client.GetConsistencyProofAsync(firstSize, lastSize, cancellationToken);
            reporter.Line($"Current root hash: {root}");
            reporter.Line($"Tree sizes:        {firstSize.ToString(CultureInfo.InvariantCulture)} → {lastSize.ToString(CultureInfo.InvariantCulture)}");
            reporter.Line("Hashes:");
            foreach (var hash in hashes)
            {
                reporter.Line("  " + hash);
            }

            reporter.Result(new JsonObject
            {
                ["ok"] = true,
                ["firstSize"] = firstSize,
                ["lastSize"] = lastSize,
                ["rootHash"] = root.ToString(),
                ["hashes"] = new JsonArray([.. hashes.Select(static h => (JsonNode?)h.ToString())]),
            });
            return ExitCodes.Success;
        });
        return command;
    }

    private static FileStream OpenInput(string path, string what) =>
        File.Exists(path) ? File.OpenRead(path) : throw new CliException(ExitCodes.Usage, $"{what} '{path}' does not exist");

    private static byte[] ReadSmallFile(string path, string what)
    {
        var bytes = CommandActions.ReadInputBytes(path, what);
        return bytes.Length <= MaxSignatureFileBytes ? bytes : throw new CliException(ExitCodes.Usage, $"{what} '{path}' is larger than {MaxSignatureFileBytes} bytes");
    }

    /// <summary>What was signed, as rekor-cli takes it: artifact + signature + key, a bundle, or a proposed entry.</summary>
    private sealed class EntryOptions
    {
        private readonly Option<string?> _artifact = new("--artifact") { Description = "The signed file (with --signature and --public-key).", HelpName = "FILE" };
        private readonly Option<string?> _signature = new("--signature") { Description = "The signature file (raw bytes or base64).", HelpName = "FILE" };
        private readonly Option<string?> _publicKey = new("--public-key") { Description = "The signer's PEM public key or certificate.", HelpName = "FILE" };
        private readonly Option<string?> _bundle = new("--bundle") { Description = "A Sigstore bundle whose entry (or signature and certificate) to use.", HelpName = "FILE" };
        private readonly Option<string?> _entry = new("--entry") { Description = "A proposed entry (Rekor v1 JSON: hashedrekord, dsse or intoto).", HelpName = "FILE" };

        public void AddTo(Command command)
        {
            command.Options.Add(_artifact);
            command.Options.Add(_signature);
            command.Options.Add(_publicKey);
            command.Options.Add(_bundle);
            command.Options.Add(_entry);
        }

        /// <summary>The proposed entry, or null when none of these options was given.</summary>
        public JsonObject? Build(ParseResult parseResult)
        {
            var artifact = parseResult.GetValue(_artifact);
            var signature = parseResult.GetValue(_signature);
            var publicKey = parseResult.GetValue(_publicKey);
            var bundle = parseResult.GetValue(_bundle);
            var entry = parseResult.GetValue(_entry);
            var ways = (artifact ?? signature ?? publicKey) is null ? 0 : 1;
            ways += bundle is null ? 0 : 1;
            ways += entry is null ? 0 : 1;
            if (ways == 0)
            {
                return null;
            }

            if (ways > 1)
            {
                throw new CliException(ExitCodes.Usage, "give one of: --artifact/--signature/--public-key, --bundle, --entry");
            }

            if (entry is not null)
            {
                return JsonNode.Parse(ReadSmallFile(entry, "entry file")) as JsonObject
                    ?? throw new CliException(ExitCodes.Usage, $"'{entry}' is not a JSON object");
            }

            if (bundle is not null)
            {
                return FromBundle(bundle);
            }

            if (artifact is null || signature is null || publicKey is null)
            {
                throw new CliException(ExitCodes.Usage, "--artifact, --signature and --public-key go together");
            }

            using var stream = OpenInput(artifact, "artifact");
            var digest = SHA256.HashData(stream);
            var pem = Encoding.UTF8.GetString(ReadSmallFile(publicKey, "public key file"));
            return Signing.SigningCommands.HashedRekord("sha256", digest, SignatureBytes(ReadSmallFile(signature, "signature file")), pem);
        }

        /// <summary>
        /// A bundle's logged entry is re-proposed as its canonical body (a valid proposed entry of the same kind); a
        /// bundle never logged is proposed from its message signature and certificate.
        /// </summary>
        private static JsonObject FromBundle(string path)
        {
            Bundle bundle;
            try
            {
                bundle = Bundle.Parse(Encoding.UTF8.GetString(ReadLargeFile(path)));
            }
            catch (BundleFormatException ex)
            {
                throw new CliException(ExitCodes.Usage, $"'{path}' is not a Sigstore bundle: {ex.Message}");
            }

            if (bundle.VerificationMaterial.TlogEntries.FirstOrDefault(static e => e.KindVersion.Version.StartsWith("0.0.1", StringComparison.Ordinal) || e.KindVersion.Kind == "intoto") is { } logged
                && JsonNode.Parse(logged.CanonicalizedBody) is JsonObject body)
            {
                return body;
            }

            if (bundle.MessageSignature is { MessageDigest: { } digest } message && bundle.VerificationMaterial.LeafCertificate is { } certificate)
            {
                var algorithm = digest.Algorithm switch
                {
                    "SHA2_256" => "sha256",
                    "SHA2_384" => "sha384",
                    "SHA2_512" => "sha512",
                    _ => throw new CliException(ExitCodes.Usage, $"the bundle's digest algorithm {digest.Algorithm} cannot be logged"),
                };
                var pem = PemEncoding.WriteString("CERTIFICATE", certificate);
                return Signing.SigningCommands.HashedRekord(algorithm, digest.Digest, message.Signature, pem);
            }

            throw new CliException(ExitCodes.Usage, $"'{path}' holds neither a Rekor v1 entry nor a message signature with a certificate");
        }

        private static byte[] ReadLargeFile(string path)
        {
            const int MaxBundleBytes = 16 * 1024 * 1024;
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new CliException(ExitCodes.Usage, $"bundle '{path}' does not exist");
            }

            return info.Length <= MaxBundleBytes ? File.ReadAllBytes(path) : throw new CliException(ExitCodes.Usage, $"bundle '{path}' is larger than {MaxBundleBytes} bytes");
        }

        /// <summary>cosign writes signatures as base64 text; rekor-cli also takes raw bytes.</summary>
        private static byte[] SignatureBytes(byte[] file)
        {
            var text = Encoding.ASCII.GetString(file).Trim();
            try
            {
                return text.Length > 0 && text.All(static c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=') ? Convert.FromBase64String(text) : file;
            }
            catch (FormatException)
            {
                return file;
            }
        }
    }
}
