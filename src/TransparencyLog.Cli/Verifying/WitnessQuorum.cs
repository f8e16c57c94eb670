using System.CommandLine;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Monitoring;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Notes;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Verification;

namespace TransparencyLog.Cli.Verifying;

/// <summary>One checkpoint whose witness quorum was verified, and who cosigned it.</summary>
internal sealed record WitnessedCheckpoint(string Origin, long Size, string RootHash, IReadOnlyList<string> Witnesses)
{
    public JsonObject ToJson() => new()
    {
        ["origin"] = Origin,
        ["treeSize"] = Size,
        ["rootHash"] = RootHash,
        ["witnesses"] = new JsonArray([.. Witnesses.Select(static w => (JsonNode?)w)]),
    };
}

/// <summary>
/// <c>--witness-policy FILE</c>: the checkpoint an entry is proved against must carry cosignatures satisfying a
/// c2sp.org/tlog-policy quorum. Bundles keep a log-signed checkpoint only (sigstore clients reject unknown signature
/// lines, docs/witness.md), so the cosigned checkpoint is fetched beside them from the log's <c>/checkpoint</c>
/// (Rekor v1 at the log's URL, Rekor v2 under <c>/api/v2</c>), verified with the trusted log key and the policy, and
/// the entry's inclusion in it is proved from the log's tiles.
/// </summary>
internal sealed class WitnessQuorum
{
    public const string QuorumUnmet = "WITNESS_QUORUM_UNMET";
    public const string BadCosignature = "WITNESS_COSIGNATURE_INVALID";
    public const string NotCovered = "WITNESS_CHECKPOINT_BEHIND";
    public const string Stale = "WITNESS_COSIGNATURE_STALE";
    public const string Inconsistent = "WITNESS_CHECKPOINT_INCONSISTENT";

    private static readonly string[] s_tilePrefixes = ["", "/api/v2"];

    private readonly HttpClient _http;
    private readonly TimeProvider _time;

    private WitnessQuorum(HttpClient http, TimeProvider time, WitnessPolicy policy, string path, TimeSpan? maxAge)
    {
        _http = http;
        _time = time;
        Policy = policy;
        PolicyPath = path;
        MaxAge = maxAge;
    }

    /// <summary>--max-cosignature-age: a cosignature older than this does not count (null: any age).</summary>
    public TimeSpan? MaxAge { get; }

    public WitnessPolicy Policy { get; }

    public string PolicyPath { get; }

    public static Option<string?> Option() => new("--witness-policy")
    {
        Description = "Require the log checkpoint to carry witness cosignatures satisfying this c2sp.org/tlog-policy file " +
            "(witness NAME VKEY [URL], group NAME k|any|all MEMBER..., quorum NAME); needs the log to be reachable.",
        HelpName = "FILE",
    };

    /// <summary>The parsed policy of <paramref name="option"/>, or null when the flag is absent.</summary>
    public static WitnessQuorum? From(ParseResult parseResult, Option<string?> option, CliHost host, TimeSpan? maxAge = null)
    {
        if (parseResult.GetValue(option) is not { } path)
        {
            return null;
        }

        if (!File.Exists(path))
        {
            throw new CliException(ExitCodes.Usage, $"witness policy '{path}' does not exist");
        }

        if (new FileInfo(path).Length > WitnessPolicy.MaxBytes)
        {
            throw new CliException(ExitCodes.Usage, $"witness policy '{path}' is larger than {WitnessPolicy.MaxBytes} bytes");
        }

        try
        {
            return new WitnessQuorum(host.Context.Http, host.Context.Time, WitnessPolicy.Parse(File.ReadAllText(path)), path, maxAge);
        }
        catch (FormatException ex)
        {
            throw new CliException(ExitCodes.Usage, $"'{path}' is not a valid witness policy: {ex.Message}");
        }
    }

    /// <summary>
    /// Checks <paramref name="note"/> (already verified as the log's) against the policy: its <c>log</c> lines, if any,
    /// must name the log, every cosignature line of a policy witness must verify, and the quorum must be met.
    /// </summary>
    public WitnessedCheckpoint RequireQuorum(string note, Checkpoint checkpoint, int failureExitCode)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (Policy.LogKeys.Count > 0)
        {
            var keys = new List<NoteVerifierKey>();
            foreach (var key in Policy.LogKeys)
            {
                keys.Add(NoteVerifierKey.Parse(key));
            }

            if (!new NoteVerifier(keys).TryVerifyCheckpoint(note, out _))
            {
                throw new CliException(failureExitCode, $"the checkpoint of '{checkpoint.Origin}' is not signed by a log the witness policy {PolicyPath} lists", QuorumUnmet);
            }
        }

        if (!Policy.TryVerify(note, out var cosigned))
        {
            throw new CliException(failureExitCode, $"the checkpoint of '{checkpoint.Origin}' at size {checkpoint.Size} carries a witness cosignature that does not verify", BadCosignature);
        }

        var names = cosigned.Order(StringComparer.Ordinal).ToList();
        if (MaxAge is { } maxAge)
        {
            // A cosignature says "at T this was the newest tree I saw": an old T counts for nothing newer.
            var now = _time.GetUtcNow();
            var stale = new List<string>();
            foreach (var witness in Policy.Witnesses.Where(w => cosigned.Contains(w.Name)))
            {
                Cosignature.TryVerify(note, witness.Key, out var time);
                var signedAt = DateTimeOffset.FromUnixTimeSeconds(Math.Min(time, DateTimeOffset.MaxValue.ToUnixTimeSeconds()));
                if (now - signedAt > maxAge)
                {
                    stale.Add($"{witness.Name} cosigned at {signedAt:yyyy-MM-ddTHH:mm:ssZ} ({FormatAge(now - signedAt)} ago)");
                    names.Remove(witness.Name);
                }
            }

            if (stale.Count > 0 && !Policy.IsSatisfiedBy(names.ToHashSet(StringComparer.Ordinal)))
            {
                throw new CliException(
                    failureExitCode,
                    $"WITNESS COSIGNATURES TOO OLD: the checkpoint of '{checkpoint.Origin}' at size {checkpoint.Size}: {string.Join("; ", stale)}, " +
                    $"older than --max-cosignature-age {FormatAge(maxAge)}; the fresh ones (" + (names.Count == 0 ? "none" : string.Join(", ", names)) +
                    $") do not satisfy the quorum of {PolicyPath}",
                    Stale);
            }
        }

        if (!Policy.IsSatisfiedBy(names.ToHashSet(StringComparer.Ordinal)))
        {
            throw new CliException(
                failureExitCode,
                $"WITNESS QUORUM NOT MET: the checkpoint of '{checkpoint.Origin}' at size {checkpoint.Size} is cosigned by " +
                (names.Count == 0 ? "no witness of the policy" : string.Join(", ", names)) + $", which does not satisfy the quorum of {PolicyPath}" +
                (cosigned.Count == 0 ? "; a log that collects cosignatures in the background (fail-open) serves its newest checkpoint uncosigned for a moment: retry" : ""),
                QuorumUnmet);
        }

        return new WitnessedCheckpoint(checkpoint.Origin, checkpoint.Size, Convert.ToHexStringLower(checkpoint.RootHash), names);
    }

    /// <summary>
    /// For each entry: fetches its log's served checkpoint, verifies it with the trusted root and the policy, and proves
    /// the entry included in it from the log's tiles.
    /// </summary>
    public async Task<IReadOnlyList<WitnessedCheckpoint>> RequireForEntriesAsync(
        TrustedRoot root, IEnumerable<TransparencyLogEntry> entries, CancellationToken cancellationToken, IReadOnlyList<CosignedBeside>? beside = null)
    {
        var verifier = new BundleVerifier(root);
        var results = new List<WitnessedCheckpoint>();
        foreach (var entry in entries)
        {
            if (beside is not null)
            {
                results.Add(RequireFromBeside(verifier, entry, beside));
                continue;
            }

            var (tiles, note, checkpoint) = await FetchCheckpointAsync(root, verifier, entry, cancellationToken);
            var witnessed = RequireQuorum(note, checkpoint, ExitCodes.VerificationFailed);
            var index = entry.InclusionProof?.LogIndex ?? entry.LogIndex;
            if (index >= checkpoint.Size)
            {
                throw new CliException(
                    ExitCodes.VerificationFailed,
                    $"the log's witnessed checkpoint (size {checkpoint.Size}) does not cover entry {index} yet; a log collecting " +
                    "cosignatures in the background (fail-open) catches up within seconds: retry",
                    NotCovered);
            }

            var proof = await InclusionProofAsync(tiles, index, checkpoint.Size, cancellationToken);
            if (!ProofVerifier.VerifyInclusion(index, checkpoint.Size, Rfc6962.HashLeaf(entry.CanonicalizedBody), proof, Hash.FromBytes(checkpoint.RootHash)))
            {
                throw new CliException(
                    ExitCodes.VerificationFailed,
                    $"entry {index} is not included in the witnessed checkpoint of '{checkpoint.Origin}' at size {checkpoint.Size}",
                    VerificationErrorCode.TlogInclusionProof.ToString());
            }

            results.Add(witnessed);
        }

        return results;
    }

    /// <summary>
    /// Offline: a cosigned checkpoint the log served beside the entry, of its log, proved consistent with the tree of the
    /// entry's (already verified) inclusion proof, whose quorum the policy requires.
    /// </summary>
    private WitnessedCheckpoint RequireFromBeside(BundleVerifier verifier, TransparencyLogEntry entry, IReadOnlyList<CosignedBeside> beside)
    {
        var index = entry.InclusionProof?.LogIndex ?? entry.LogIndex;
        if (entry.InclusionProof is not { } proof)
        {
            throw new CliException(ExitCodes.VerificationFailed, $"entry {index} has no inclusion proof to relate the cosigned checkpoint to", QuorumUnmet);
        }

        foreach (var candidate in beside)
        {
            Checkpoint checkpoint;
            try
            {
                checkpoint = verifier.VerifyLogCheckpoint(entry, candidate.Note);
            }
            catch (VerificationException)
            {
                continue; // Another log's (a retrieve answer may hold several).
            }

            var witnessed = RequireQuorum(candidate.Note, checkpoint, ExitCodes.VerificationFailed);
            if (checkpoint.Size < proof.TreeSize
                || !ProofVerifier.VerifyConsistency(proof.TreeSize, checkpoint.Size, candidate.ConsistencyProof, Hash.FromBytes(proof.RootHash), Hash.FromBytes(checkpoint.RootHash)))
            {
                throw new CliException(
                    ExitCodes.VerificationFailed,
                    $"the cosigned checkpoint of '{checkpoint.Origin}' at size {checkpoint.Size} is not consistent with the tree of size {proof.TreeSize} " +
                    $"entry {index} is proved in (the consistency proof beside it does not verify)",
                    Inconsistent);
            }

            return witnessed;
        }

        throw new CliException(ExitCodes.VerificationFailed, $"the cosigned checkpoint file holds no checkpoint signed by the log of entry {index}", QuorumUnmet);
    }

    private static string FormatAge(TimeSpan age) =>
        age.TotalHours >= 1 ? $"{(long)age.TotalHours}h{age.Minutes}m" : age.TotalMinutes >= 1 ? $"{(long)age.TotalMinutes}m{age.Seconds}s" : $"{(long)age.TotalSeconds}s";

    private async Task<(TileLogClient Tiles, string Note, Checkpoint Checkpoint)> FetchCheckpointAsync(
        TrustedRoot root, BundleVerifier verifier, TransparencyLogEntry entry, CancellationToken cancellationToken)
    {
        var baseUrls = root.FindTlogs(entry.LogId).Select(static l => l.BaseUrl.TrimEnd('/')).Where(static u => u.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (baseUrls.Count == 0)
        {
            throw new CliException(ExitCodes.VerificationFailed, $"no trusted transparency log with a URL has log ID {Convert.ToHexStringLower(entry.LogId)}", QuorumUnmet);
        }

        var reasons = new List<string>();
        foreach (var baseUrl in baseUrls)
        {
            foreach (var prefix in s_tilePrefixes)
            {
                var tiles = new TileLogClient(_http, baseUrl + prefix);
                string note;
                try
                {
                    note = await tiles.GetCheckpointAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is CliException or MonitorLogException)
                {
                    reasons.Add(ex.Message);
                    continue;
                }

                try
                {
                    return (tiles, note, verifier.VerifyLogCheckpoint(entry, note));
                }
                catch (VerificationException)
                {
                    // Another log on the same host (v1 and v2 share one); the right one verifies with the entry's key.
                    reasons.Add($"{tiles.Prefix}/checkpoint is not signed by the entry's log");
                }
            }
        }

        throw new CliException(
            ExitCodes.VerificationFailed,
            $"cannot get a witnessed checkpoint of the log holding entry {entry.LogIndex}: {string.Join("; ", reasons)}",
            QuorumUnmet);
    }

    /// <summary>An inclusion proof for the tree of <paramref name="size"/>, built from the log's tiles (c2sp.org/tlog-tiles).</summary>
    private static async Task<IReadOnlyList<Hash>> InclusionProofAsync(TileLogClient tiles, long index, long size, CancellationToken cancellationToken)
    {
        try
        {
            return await tiles.ProofAsync(ProofPlanner.Inclusion(index, size), size, cancellationToken);
        }
        catch (MonitorLogException ex)
        {
            throw new CliException(ExitCodes.Error, ex.Message);
        }
    }
}
