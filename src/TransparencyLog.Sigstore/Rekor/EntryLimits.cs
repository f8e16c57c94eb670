namespace TransparencyLog.Sigstore.Rekor;

/// <summary>Bounds checked before and during parsing of a proposed entry.</summary>
public sealed record EntryLimits
{
    public static EntryLimits Default { get; } = new();

    /// <summary>Request body size, checked before any parsing.</summary>
    public int MaxRequestBytes { get; init; } = 1024 * 1024;

    /// <summary>65,535 bytes: a tlog-tiles entry bundle stores each entry behind a uint16 length.</summary>
    public int MaxCanonicalBodyBytes { get; init; } = ushort.MaxValue;

    /// <summary>Decoded DSSE / in-toto payload size.</summary>
    public int MaxDssePayloadBytes { get; init; } = 512 * 1024;

    public int MaxSignatures { get; init; } = 16;

    public int MaxVerifiers { get; init; } = 16;
}
