namespace TransparencyLog.LogService.Integrity;

/// <summary>
/// The log's storage failed an integrity check, so the service signs nothing more on top of it: appends are refused
/// (503) and the checkpoint is not re-signed until an operator repairs or restores the database and restarts.
/// </summary>
internal sealed class LogSuspendedException()
    : Exception("the log's storage failed an integrity check; appends are suspended until an operator repairs it");
