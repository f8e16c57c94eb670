using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Http;
using TransparencyLog.Cli.Monitoring;
using TransparencyLog.Cli.Verifying;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Cli.Auditing;

/// <summary><c>log info</c>, <c>log get</c> and the auditor's <c>log verify-consistency</c>.</summary>
internal static class LogCommands
{
    private const string Inconsistent = "LOG_INCONSISTENT";
    private const string BadSignature = "CHECKPOINT_SIGNATURE_ERROR";

    public static Command Create(CliHost host)
    {
        var command = new Command("log", "Inspect and audit the transparency log.");
        command.Subcommands.Add(Info(host));
        command.Subcommands.Add(Get(host));
        command.Subcommands.Add(VerifyConsistency(host));
        LogAuditCommands.AddTo(command, host);
        return command;
    }

    private static RekorClient Client(ParseResult parseResult, Option<string?> rekorUrl, CliHost host) =>
        new(host.Context.Http, LogFlags.BaseUrl(parseResult, rekorUrl, host));

    private static Command Info(CliHost host)
    {
        var rekorUrl = LogFlags.RekorUrl();
        var command = new Command("info", "Show the log's current tree size, root hash and signed checkpoint.\n\nExample:\n  tlog log info --rekor-url http://127.0.0.1:3000");
        command.Options.Add(rekorUrl);
        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var info = await Client(parseResult, rekorUrl, host).GetLogInfoAsync(cancellationToken);
            reporter.Line($"Tree size:  {info.TreeSize}");
            reporter.Line($"Root hash:  {info.RootHash}");
            reporter.Line($"Tree ID:    {info.TreeId}");
            reporter.Line("Checkpoint:");
            reporter.Line(info.SignedTreeHead.TrimEnd('\n'));
            reporter.Result(new JsonObject
            {
                ["ok"] = true,
                ["treeSize"] = info.TreeSize,
                ["rootHash"] = info.RootHash,
                ["treeID"] = info.TreeId,
                ["signedTreeHead"] = info.SignedTreeHead,
            });
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Get(CliHost host)
    {
        var rekorUrl = LogFlags.RekorUrl();
        var index = LogFlags.Index();
        var uuid = LogFlags.Uuid();
        var command = new Command(
            "get",
            "Fetch one entry by index or UUID; with --output json, prints it as a bundle tlogEntry.\n\n" +
            "Examples:\n  tlog log get --index 42\n  tlog log get --uuid 24296fb24b8ad77a… --output json");
        command.Options.Add(rekorUrl);
        command.Options.Add(index);
        command.Options.Add(uuid);
        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var byIndex = parseResult.GetValue(index);
            var byUuid = parseResult.GetValue(uuid);
            if ((byIndex is null) == (byUuid is null))
            {
                throw new CliException(ExitCodes.Usage, "give exactly one of --index or --uuid");
            }

            if (byIndex < 0)
            {
                throw new CliException(ExitCodes.Usage, "--index must not be negative");
            }

            var client = Client(parseResult, rekorUrl, host);
            var (id, entry) = byIndex is { } n
                ? await client.GetEntryByIndexAsync(n, cancellationToken)
                : await client.GetEntryByUuidAsync(byUuid ?? string.Empty, cancellationToken);
            reporter.Line($"UUID:            {id}");
            reporter.Line($"Index:           {entry.LogIndex}");
            reporter.Line($"Kind:            {entry.KindVersion.Kind} {entry.KindVersion.Version}");
            reporter.Line($"Integrated time: {DateTimeOffset.FromUnixTimeSeconds(entry.IntegratedTime):O}");
            reporter.Line($"Body:            {Encoding.UTF8.GetString(entry.CanonicalizedBody)}");
            reporter.Result(new JsonObject { ["ok"] = true, ["uuid"] = id, ["tlogEntry"] = Bundle.TlogEntryJson(entry) });
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command VerifyConsistency(CliHost host)
    {
        var rekorUrl = LogFlags.RekorUrl();
        var vkey = LogFlags.VerifierKey("or --public-key");
        var publicKey = new Option<string?>("--public-key") { Description = "The log's PEM public key file (alternative to --vkey).", HelpName = "PATH" };
        var state = new Option<string?>("--state")
        {
            Description = "State file holding the last verified checkpoint (default: ~/.config/tlog/checkpoints/<sha256 of origin>).",
            HelpName = "PATH",
        };
        var witness = new WitnessFlags();
        var command = new Command(
            "verify-consistency",
            "Audit the log: verify the current checkpoint's signature, prove it consistent with the last checkpoint " +
            "verified here (RFC 6962 consistency proof), then remember it. The first run trusts what it sees. Exits 4, " +
            "leaving the state untouched, if the log forked, shrank, or signed something that does not verify. With " +
            "--witness-policy, the checkpoint audited is the log's witnessed one (/checkpoint), and it must carry the " +
            "policy's quorum of cosignatures (else exit 3, state untouched).\n\n" +
            "Examples:\n" +
            "  tlog log verify-consistency --rekor-url http://127.0.0.1:3000 --vkey \"$(curl -s http://127.0.0.1:3000/api/v1/log/verifierKey)\"\n" +
            "  tlog log verify-consistency --public-key rekor.pub --state ./rekor.checkpoint\n" +
            "  tlog log verify-consistency --vkey \"$REKOR_NOTE_VKEY\" --witness-policy witnesses.policy");
        command.Options.Add(rekorUrl);
        command.Options.Add(vkey);
        command.Options.Add(publicKey);
        command.Options.Add(state);
        witness.AddTo(command);
        CommandActions.Set(command, host, CommandActions.OutputOption(), async (parseResult, reporter, cancellationToken) =>
        {
            var verifier = CheckpointVerifier.Create(parseResult.GetValue(vkey), parseResult.GetValue(publicKey));
            var quorum = witness.Resolve(parseResult, host);
            var client = Client(parseResult, rekorUrl, host);
            string note;
            Checkpoint current;
            WitnessedCheckpoint? witnessed = null;
            if (quorum is null)
            {
                var info = await client.GetLogInfoAsync(cancellationToken);
                note = info.SignedTreeHead;
                current = verifier.Verify(note, "the log's current checkpoint");
                if (current.Size != info.TreeSize || !string.Equals(Convert.ToHexStringLower(current.RootHash), info.RootHash, StringComparison.OrdinalIgnoreCase))
                {
                    throw new CliException(ExitCodes.LogInconsistent, "the log's treeSize/rootHash do not match its own signed checkpoint", Inconsistent);
                }
            }
            else
            {
                // API answers carry the log's signature only (docs/witness.md); /checkpoint carries the cosignatures.
                try
                {
                    note = await new TileLogClient(host.Context.Http, client.BaseUrl).GetCheckpointAsync(cancellationToken);
                }
                catch (MonitorLogException ex)
                {
                    throw new CliException(ExitCodes.Error, ex.Message);
                }

                current = verifier.Verify(note, "the log's witnessed checkpoint");
                witnessed = quorum.RequireQuorum(note, current, ExitCodes.VerificationFailed);
            }

            var rootHex = Convert.ToHexStringLower(current.RootHash);
            var statePath = parseResult.GetValue(state) ?? DefaultStatePath(host, current.Origin);
            var result = new JsonObject { ["ok"] = true, ["origin"] = current.Origin, ["treeSize"] = current.Size, ["rootHash"] = rootHex, ["state"] = statePath };
            if (witnessed is not null)
            {
                result["witnesses"] = new JsonArray([.. witnessed.Witnesses.Select(static w => (JsonNode?)w)]);
                reporter.Line($"Witnessed: cosigned by {string.Join(", ", witnessed.Witnesses)} (policy {quorum?.PolicyPath} met).");
            }

            if (!File.Exists(statePath))
            {
                CommandActions.WriteFileAtomically(statePath, note);
                reporter.Line($"No previous checkpoint: trusting {current.Origin} at size {current.Size} (root {rootHex}).");
                reporter.Line($"Saved to {statePath}");
                result["previousSize"] = null;
                reporter.Result(result);
                return ExitCodes.Success;
            }

            Checkpoint previous;
            try
            {
                previous = verifier.Verify(await File.ReadAllTextAsync(statePath, cancellationToken), $"the saved checkpoint in {statePath}");
            }
            catch (CliException ex) when (ex.Code == BadSignature)
            {
                throw new CliException(ExitCodes.Error, $"the state file {statePath} does not hold a checkpoint this key verifies: {ex.Message}");
            }

            if (previous.Origin != current.Origin)
            {
                throw new CliException(ExitCodes.LogInconsistent, $"the state file is for log '{previous.Origin}', but the log now calls itself '{current.Origin}'", Inconsistent);
            }

            if (current.Size < previous.Size)
            {
                throw new CliException(
                    ExitCodes.LogInconsistent,
                    $"LOG ROLLED BACK: the log now has {current.Size} entries, but {previous.Size} were verified before",
                    Inconsistent);
            }

            var previousRoot = Hash.FromBytes(previous.RootHash);
            var currentRoot = Hash.FromBytes(current.RootHash);
            if (current.Size == previous.Size)
            {
                if (previousRoot != currentRoot)
                {
                    throw new CliException(
                        ExitCodes.LogInconsistent,
                        $"LOG FORKED: two different signed roots for size {current.Size}: {previousRoot} (saved) and {currentRoot} (now)",
                        Inconsistent);
                }
            }
            else
            {
                var (proofRoot, hashes) = await client.GetConsistencyProofAsync(previous.Size, current.Size, cancellationToken);
                if (proofRoot != currentRoot || !ProofVerifier.VerifyConsistency(previous.Size, current.Size, hashes, previousRoot, currentRoot))
                {
                    throw new CliException(
                        ExitCodes.LogInconsistent,
                        $"LOG INCONSISTENT: the tree at size {current.Size} (root {currentRoot}) does not extend the verified tree at size {previous.Size} (root {previousRoot})",
                        Inconsistent);
                }
            }

            CommandActions.WriteFileAtomically(statePath, note);
            reporter.Line($"Consistent: {current.Origin} grew from {previous.Size} to {current.Size} entries (root {rootHex}).");
            result["previousSize"] = previous.Size;
            reporter.Result(result);
            return ExitCodes.Success;
        });
        return command;
    }

    private static string DefaultStatePath(CliHost host, string origin)
    {
        var name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(origin)));
        return Path.Combine(host.HomeDirectoryOrThrow(), ".config", "tlog", "checkpoints", name);
    }

    private static string HomeDirectoryOrThrow(this CliHost host) =>
        host.Context.HomeDirectory is { Length: > 0 } home
            ? home
            : throw new CliException(ExitCodes.Usage, "no home directory: pass --state");

    /// <summary>Verifies checkpoints with the auditor's configured key, under whatever name the log signs as.</summary>
    internal sealed class CheckpointVerifier
    {
        private readonly NoteVerifierKey? _vkey;
        private readonly LogPublicKey? _key;

        private CheckpointVerifier(NoteVerifierKey? vkey, LogPublicKey? key)
        {
            _vkey = vkey;
            _key = key;
        }

        public static CheckpointVerifier Create(string? vkey, string? publicKeyPath)
        {
            if ((vkey is null) == (publicKeyPath is null))
            {
                throw new CliException(ExitCodes.Usage, "give exactly one of --vkey or --public-key: the auditor must know the log's key in advance");
            }

            if (vkey is not null)
            {
                var text = File.Exists(vkey) ? File.ReadAllText(vkey).Trim() : vkey.Trim();
                try
                {
                    return new CheckpointVerifier(NoteVerifierKey.Parse(text), null);
                }
                catch (FormatException ex)
                {
                    throw new CliException(ExitCodes.Usage, $"--vkey is not a C2SP verifier key: {ex.Message}");
                }
            }

            var pem = CommandActions.ReadInputFile(publicKeyPath ?? string.Empty, "public key file");
            try
            {
                return new CheckpointVerifier(null, LogPublicKey.FromPem(pem));
            }
            catch (KeyLoadException ex)
            {
                throw new CliException(ExitCodes.Error, $"'{publicKeyPath}' is not a log public key: {ex.Message}");
            }
        }

        /// <summary>The log's public key, when the auditor gave one (signed entry timestamps need it).</summary>
        public LogPublicKey? PublicKey => _key;

        /// <summary>A verifier for the PEM key the log itself serves (trust on first use, as rekor-cli does).</summary>
        public static CheckpointVerifier FromPem(string pem)
        {
            try
            {
                return new CheckpointVerifier(null, LogPublicKey.FromPem(pem));
            }
            catch (KeyLoadException ex)
            {
                throw new CliException(ExitCodes.Error, $"the log's public key cannot be used: {ex.Message}");
            }
        }

        public Checkpoint Verify(string note, string what)
        {
            List<NoteVerifierKey> keys;
            if (_vkey is not null)
            {
                keys = [_vkey];
            }
            else
            {
                // A bare public key has no name: accept the names the note uses (ECDSA key IDs ignore the name anyway).
                if (!SignedNote.TryParse(note, out _, out var signatures))
                {
                    throw new CliException(ExitCodes.LogInconsistent, $"{what} is not a well-formed signed note", BadSignature);
                }

                keys = [.. signatures.Select(s => s.Name).Distinct(StringComparer.Ordinal).Select(n => new NoteVerifierKey(n, _key ?? throw new InvalidOperationException("no key")))];
            }

            if (keys.Count == 0 || !new NoteVerifier(keys).TryVerifyCheckpoint(note, out var checkpoint) || checkpoint is null)
            {
                throw new CliException(ExitCodes.LogInconsistent, $"CHECKPOINT SIGNATURE INVALID: {what} is not validly signed by the log's key", BadSignature);
            }

            return checkpoint;
        }
    }
}
