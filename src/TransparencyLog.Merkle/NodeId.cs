namespace TransparencyLog.Merkle;

/// <summary>
/// A perfect subtree node: level 0 holds the leaves; the node covers leaves
/// [<see cref="Index"/>·2^<see cref="Level"/>, (<see cref="Index"/>+1)·2^<see cref="Level"/>).
/// </summary>
public readonly record struct NodeId(int Level, long Index)
{
    public int Level { get; } = Level is >= 0 and <= 62
        ? Level
        : throw new ArgumentOutOfRangeException(nameof(Level), Level, "A node level is between 0 and 62.");

    public long Index { get; } = Index >= 0 && Index < (long.MaxValue >> Level)
        ? Index
        : throw new ArgumentOutOfRangeException(nameof(Index), Index, "The node must cover leaves below 2^63.");
}
