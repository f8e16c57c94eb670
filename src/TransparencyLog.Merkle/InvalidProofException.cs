namespace TransparencyLog.Merkle;

/// <summary>A proof cannot be evaluated: its length or position does not fit the tree it claims to be about.</summary>
public sealed class InvalidProofException : Exception
{
    public InvalidProofException()
    {
    }

    public InvalidProofException(string message)
        : base(message)
    {
    }

    public InvalidProofException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
