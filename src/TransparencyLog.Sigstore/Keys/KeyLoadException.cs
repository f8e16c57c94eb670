namespace TransparencyLog.Sigstore.Keys;

/// <summary>A key could not be loaded. The message names the problem and never contains key material.</summary>
public sealed class KeyLoadException : Exception
{
    public KeyLoadException(string message)
        : base(message)
    {
    }

    public KeyLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
