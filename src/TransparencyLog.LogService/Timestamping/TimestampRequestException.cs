namespace TransparencyLog.LogService.Timestamping;

/// <summary>
/// A request the authority refuses. The message is fixed text chosen here, safe to return to the client; it never
/// echoes request bytes or exception text. The endpoint maps it to 400 in one place.
/// </summary>
internal sealed class TimestampRequestException(string message) : Exception(message)
{
    public const string WeakHashAlgorithm = "weak hash algorithm: SHA-1 is not accepted, use sha256, sha384 or sha512";
}
