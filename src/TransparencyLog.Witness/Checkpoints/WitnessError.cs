namespace TransparencyLog.Witness.Checkpoints;

/// <summary>
/// Why the witness refused a checkpoint: one stable code each, mapped to the status c2sp.org/tlog-witness prescribes
/// in <see cref="AddCheckpointEndpoint"/> and nowhere else.
/// </summary>
internal enum WitnessError
{
    /// <summary>400: the body does not parse, or <c>old</c> exceeds the checkpoint's size.</summary>
    MalformedRequest,

    /// <summary>413: the body exceeds the configured limit.</summary>
    TooLarge,

    /// <summary>404: no log with this origin is configured.</summary>
    UnknownLog,

    /// <summary>403: no signature by the log's keys, or one that fails.</summary>
    BadSignature,

    /// <summary>409: <c>old</c> is not the size the witness last cosigned (answered with that size).</summary>
    StaleOldSize,

    /// <summary>422: the consistency proof fails, or the checkpoint has another root for a size already cosigned.</summary>
    InconsistentCheckpoint,

    /// <summary>429: the log asked too often.</summary>
    RateLimited,
}

/// <summary>The witness's answer to one add-checkpoint request.</summary>
internal sealed record WitnessResult(string? CosignatureLine, WitnessError? Error, string Message, long CurrentSize = 0)
{
    public static WitnessResult Cosigned(string line) => new(line, null, "");

    public static WitnessResult Refused(WitnessError error, string message, long currentSize = 0) => new(null, error, message, currentSize);
}
