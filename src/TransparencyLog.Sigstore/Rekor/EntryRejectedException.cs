namespace TransparencyLog.Sigstore.Rekor;

/// <summary>
/// A proposed entry was refused (HTTP 400). The message is stable, safe to return to the client, and never
/// echoes more than a short, sanitized fragment of the input.
/// </summary>
public sealed class EntryRejectedException(string message) : Exception(message);
