namespace TransparencyLog.Tests.Shared;

/// <summary>
/// Fixture builders (fake logs, test logs) sign with in-process keys, whose asynchronous signatures complete before
/// they return: such a builder takes the finished value instead of turning every caller asynchronous. Never blocks; a
/// signature still pending (a token key) is a test bug and fails loudly.
/// </summary>
internal static class InProcessSigning
{
    public static T Completed<T>(this ValueTask<T> pending) =>
        pending.IsCompletedSuccessfully
            ? pending.Result
            : throw new InvalidOperationException("only an in-process key signs synchronously; await the signature instead");

    public static void Completed(this ValueTask pending)
    {
        if (!pending.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("only an in-process key signs synchronously; await the signature instead");
        }
    }
}
