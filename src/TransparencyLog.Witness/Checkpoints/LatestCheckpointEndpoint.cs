using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TransparencyLog.Sigstore.Notes;
using TransparencyLog.Witness.State;

namespace TransparencyLog.Witness.Checkpoints;

/// <summary>
/// <c>GET /{origin hash}/checkpoint</c> (the tlog-witness draft's monitoring read): the checkpoint this witness last
/// cosigned for a log, with a fresh cosignature of its own, so monitors can compare the log's view with the witness's
/// (split-view detection) without going through the log.
/// </summary>
internal static class LatestCheckpointEndpoint
{
    public static IEndpointRouteBuilder MapLatestCheckpoint(this IEndpointRouteBuilder app)
    {
        app.MapGet("/{originHash}/checkpoint", GetAsync)
            .WithName("witnessLatestCheckpoint")
            .WithTags("witness")
            .WithSummary("The checkpoint last cosigned for a log")
            .WithDescription("`originHash` = lowercase hex SHA-256 of the log's origin line. 200: the log-signed checkpoint the witness last cosigned, followed by a fresh cosignature/v1 line of the witness. 404: unknown origin, or nothing cosigned yet. 400: not 64 hex digits.")
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .Produces<string>(StatusCodes.Status400BadRequest, "text/plain")
            .Produces<string>(StatusCodes.Status404NotFound, "text/plain");
        return app;
    }

    private static async Task<ContentHttpResult> GetAsync(string originHash, WitnessDbContext db, Cosigner cosigner, TimeProvider time, CancellationToken cancellationToken)
    {
        if (originHash.Length != 64 || !originHash.All(char.IsAsciiHexDigit))
        {
            return TypedResults.Text("malformed_request: the origin hash is 64 hex digits (SHA-256 of the origin)\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
        }

        var hash = Convert.FromHexString(originHash);
        var log = await db.Logs.AsNoTracking().SingleOrDefaultAsync(l => l.OriginHash == hash, cancellationToken);
        var state = log is null ? null : await db.States.AsNoTracking().SingleOrDefaultAsync(s => s.Origin == log.Origin, cancellationToken);
        if (state is null || state.TreeSize == 0 || !SignedNote.TryParse(state.Note, out var text, out _))
        {
            return TypedResults.Text("unknown_log: this witness has cosigned no checkpoint for that origin\n", "text/plain; charset=utf-8", statusCode: StatusCodes.Status404NotFound);
        }

        var note = state.Note.EndsWith('\n') ? state.Note : state.Note + "\n";
        return TypedResults.Text(note + await cosigner.SignLineAsync(text, time.GetUtcNow().ToUnixTimeSeconds(), cancellationToken), "text/plain; charset=utf-8");
    }
}
