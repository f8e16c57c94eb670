namespace TransparencyLog.LogService.Storage;

/// <summary>
/// Storage does not hold what the log's invariants promise (a missing tile, a root that does not recompute). The
/// service refuses to append or to answer from such state rather than sign something inconsistent.
/// </summary>
internal sealed class LogStorageException(string message) : Exception(message);
