using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Notes;
using TransparencyLog.Witness.State;

namespace TransparencyLog.Witness.Checkpoints;

/// <summary>
/// The witness's one decision: cosign a checkpoint only when its log signed it and it is consistent with the one
/// checkpoint this witness last cosigned for that origin. Checks run in the order c2sp.org/tlog-witness lists them;
/// the state advances by compare-and-swap on (size, root), and the cosignature is released only after that commit,
/// so two witness processes on one database never cosign two views of a log.
/// </summary>
internal sealed partial class CheckpointWitness(
    WitnessDbContext db, WitnessedLogs logs, Cosigner cosigner, TimeProvider time, ILogger<CheckpointWitness> logger)
{
    public async Task<WitnessResult> AddCheckpointAsync(ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var request = AddCheckpointRequest.Parse(body.Span, out var parseError);
        if (request is null)
        {
            return WitnessResult.Refused(WitnessError.MalformedRequest, parseError ?? "malformed request");
        }

        var checkpoint = request.Checkpoint;
        if (logs.Find(checkpoint.Origin) is not { } log)
        {
            return WitnessResult.Refused(WitnessError.UnknownLog, "this witness does not cosign checkpoints of that origin");
        }

        using (var lease = log.Limiter.AttemptAcquire())
        {
            if (!lease.IsAcquired)
            {
                return WitnessResult.Refused(WitnessError.RateLimited, "too many requests for this log; retry later");
            }
        }

        if (!log.Verifier.TryVerify(request.Note, out _))
        {
            return WitnessResult.Refused(WitnessError.BadSignature, "the checkpoint carries no valid signature of the log's key");
        }

        if (request.OldSize > checkpoint.Size)
        {
            return WitnessResult.Refused(WitnessError.MalformedRequest, "old size exceeds the checkpoint's size");
        }

        var root = Hash.FromBytes(checkpoint.RootHash);
        if (checkpoint.Size == 0 && root != Rfc6962.EmptyRoot)
        {
            return await RefuseInconsistentAsync(request, "a size-0 checkpoint must have the empty root", cancellationToken);
        }

        // The state this process last saw saves a read: the CAS below matches the row against it, so a stale hint can
        // only cost a 409 after a re-read, never a cosignature over a moved state. A refusal or a mismatch is decided
        // on the row itself.
        var known = log.Known;
        var state = known ?? await ReadStateAsync(checkpoint.Origin, log, cancellationToken);
        if (request.OldSize != state.TreeSize && known is not null)
        {
            state = await ReadStateAsync(checkpoint.Origin, log, cancellationToken);
            known = null;
        }

        if (request.OldSize != state.TreeSize)
        {
            return WitnessResult.Refused(WitnessError.StaleOldSize, "old size is not the size this witness last cosigned", state.TreeSize);
        }

        if (ConsistencyFailure(request, Hash.FromBytes(state.RootHash), root) is not null && known is not null)
        {
            log.Forget(known);
            state = await ReadStateAsync(checkpoint.Origin, log, cancellationToken);
            if (request.OldSize != state.TreeSize)
            {
                return WitnessResult.Refused(WitnessError.StaleOldSize, "old size is not the size this witness last cosigned", state.TreeSize);
            }
        }

        if (ConsistencyFailure(request, Hash.FromBytes(state.RootHash), root) is { } failure)
        {
            return await RefuseInconsistentAsync(request, failure, cancellationToken);
        }

        // The compare-and-swap: one statement, atomic in PostgreSQL, so of two requests (or processes) proving from the
        // same state only one moves it, and the cosignature is made only after that commit.
        var now = time.GetUtcNow();
        var advanced = await db.Database.ExecuteSqlAsync(
            $"""
            UPDATE witness_state SET tree_size = {checkpoint.Size}, root_hash = {checkpoint.RootHash}, note = {request.Note}, cosigned_at = {now}
            WHERE origin = {checkpoint.Origin} AND tree_size = {state.TreeSize} AND root_hash = {state.RootHash}
            """,
            cancellationToken);
        if (advanced == 0)
        {
            // Another request (or witness process) moved the state between our read and our write: its size is the
            // one the log must prove from now.
            var current = await ReadStateAsync(checkpoint.Origin, log, cancellationToken);
            LogLostRace(logger, checkpoint.Origin, state.TreeSize, current.TreeSize);
            return WitnessResult.Refused(WitnessError.StaleOldSize, "old size is not the size this witness last cosigned", current.TreeSize);
        }

        log.Remember(new KnownState(checkpoint.Size, checkpoint.RootHash));
        LogCosigned(logger, checkpoint.Origin, checkpoint.Size);
        return WitnessResult.Cosigned(await cosigner.SignLineAsync(request.NoteText, now.ToUnixTimeSeconds(), cancellationToken));
    }

    /// <summary>The state of <paramref name="origin"/>, creating size 0 with the empty root the first time it is asked about.</summary>
    private async Task<KnownState> ReadStateAsync(string origin, WitnessedLogEntry? log, CancellationToken cancellationToken)
    {
        if (await StateOf(db, origin, cancellationToken) is { } stored)
        {
            var state = new KnownState(stored.TreeSize, stored.RootHash);
            log?.Remember(state);
            return state;
        }

        // Two processes may create it at once; ON CONFLICT keeps the first, and rows are never removed afterwards.
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(origin));
        var empty = Rfc6962.EmptyRoot.ToArray();
        await db.Database.ExecuteSqlAsync(
            $"INSERT INTO witness_log (origin, origin_hash, added_at) VALUES ({origin}, {hash}, {time.GetUtcNow()}) ON CONFLICT DO NOTHING",
            cancellationToken);
        await db.Database.ExecuteSqlAsync(
            $"INSERT INTO witness_state (origin, tree_size, root_hash, note) VALUES ({origin}, 0, {empty}, '') ON CONFLICT DO NOTHING",
            cancellationToken);
        var created = await StateOf(db, origin, cancellationToken) ?? throw new InvalidOperationException($"the witness state of {origin} vanished");
        return new KnownState(created.TreeSize, created.RootHash);
    }

    // Compiled once: the per-request LINQ translation and cache lookup are skipped.
    private static readonly Func<WitnessDbContext, string, CancellationToken, Task<WitnessState?>> StateOf =
        EF.CompileAsyncQuery((WitnessDbContext db, string origin, CancellationToken cancellationToken) =>
            db.States.AsNoTracking().SingleOrDefault(s => s.Origin == origin));

    /// <summary>Null when the request's proof shows the checkpoint extends the stored (size, root); else why not.</summary>
    private static string? ConsistencyFailure(AddCheckpointRequest request, Hash storedRoot, Hash root)
    {
        var size = request.Checkpoint.Size;
        if (request.OldSize == 0)
        {
            return request.Proof.Count == 0 ? null : "a proof from size 0 must be empty";
        }

        if (request.OldSize == size)
        {
            return request.Proof.Count != 0 ? "a proof between equal sizes must be empty"
                : root != storedRoot ? "the checkpoint has another root for the size this witness cosigned"
                : null;
        }

        return ProofVerifier.VerifyConsistency(request.OldSize, size, request.Proof, storedRoot, root)
            ? null
            : "the consistency proof does not prove the checkpoint extends the one this witness cosigned";
    }

    /// <summary>422, keeping the log-signed note as evidence of misbehaviour (it verified under the log's key).</summary>
    private async Task<WitnessResult> RefuseInconsistentAsync(AddCheckpointRequest request, string reason, CancellationToken cancellationToken)
    {
        var origin = request.Checkpoint.Origin;
        LogInconsistent(logger, origin, request.OldSize, request.Checkpoint.Size, reason);
        await ReadStateAsync(origin, null, cancellationToken);
        db.Evidence.Add(new WitnessEvidence
        {
            Origin = origin,
            ReceivedAt = time.GetUtcNow(),
            Reason = reason,
            OldSize = request.OldSize,
            Note = request.Note,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException)
        {
            // Evidence is best effort: the refusal stands either way.
            LogEvidenceNotKept(logger, origin);
        }

        return WitnessResult.Refused(WitnessError.InconsistentCheckpoint, reason);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "cosigned {Origin} at size {Size}")]
    private static partial void LogCosigned(ILogger logger, string origin, long size);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Origin}: state moved from {Expected} to {Current} during the request; answered 409")]
    private static partial void LogLostRace(ILogger logger, string origin, long expected, long current);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Origin}: refused a log-signed checkpoint (old {OldSize}, size {Size}): {Reason}")]
    private static partial void LogInconsistent(ILogger logger, string origin, long oldSize, long size, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Origin}: could not store the evidence of an inconsistent checkpoint")]
    private static partial void LogEvidenceNotKept(ILogger logger, string origin);
}
