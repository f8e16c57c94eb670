namespace TransparencyLog.Merkle;

/// <summary>
/// A c2sp.org/tlog-tiles tile: tile level <see cref="Level"/> holds the node hashes of tree level 8·Level; tile
/// <see cref="Index"/> holds entries [Index·256, Index·256 + <see cref="Width"/>) of that level.
/// </summary>
public readonly record struct TileId(int Level, long Index, int Width)
{
    private const string Prefix = "tile/";
    private const string EntriesPrefix = "tile/entries/";
    private const string PartialMarker = ".p/";

    public int Level { get; } = Level is >= 0 and <= TileMath.MaxLevel
        ? Level
        : throw new ArgumentOutOfRangeException(nameof(Level), Level, "A tile level is between 0 and 63.");

    public long Index { get; } = Index >= 0
        ? Index
        : throw new ArgumentOutOfRangeException(nameof(Index), Index, "A tile index is not negative.");

    public int Width { get; } = Width is >= 1 and <= TileMath.Width
        ? Width
        : throw new ArgumentOutOfRangeException(nameof(Width), Width, "A tile holds 1 to 256 entries.");

    public bool IsFull => Width == TileMath.Width;

    /// <summary><c>tile/{L}/{N}</c> or <c>tile/{L}/{N}.p/{W}</c>.</summary>
    public string Path => $"{Prefix}{Level}/{TileMath.FormatIndex(Index)}{WidthSuffix}";

    /// <summary><c>tile/entries/{N}</c> or <c>tile/entries/{N}.p/{W}</c>: the entry bundle matching a level-0 tile.</summary>
    public string EntriesPath => $"{EntriesPrefix}{TileMath.FormatIndex(Index)}{WidthSuffix}";

    private string WidthSuffix => IsFull ? string.Empty : $"{PartialMarker}{Width}";

    /// <summary>
    /// Parses a tile or entry bundle path in its canonical form only (the one <see cref="Path"/> and
    /// <see cref="EntriesPath"/> produce), so that every tile has exactly one URL.
    /// </summary>
    public static bool TryParse(string? path, out TileId tile, out bool isEntries)
    {
        tile = default;
        isEntries = false;
        if (path is null || !path.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = path.AsSpan(Prefix.Length);
        var slash = rest.IndexOf('/');
        if (slash < 0)
        {
            return false;
        }

        var levelText = rest[..slash];
        rest = rest[(slash + 1)..];
        int level;
        if (levelText.SequenceEqual("entries"))
        {
            isEntries = true;
            level = 0;
        }
        else if (!TryParseCanonical(levelText, TileMath.MaxLevel, out level))
        {
            return false;
        }

        var width = TileMath.Width;
        var marker = rest.IndexOf(PartialMarker);
        if (marker >= 0)
        {
            if (!TryParseCanonical(rest[(marker + PartialMarker.Length)..], TileMath.Width - 1, out width) || width == 0)
            {
                return false;
            }

            rest = rest[..marker];
        }

        if (!TryParseIndex(rest, out var index))
        {
            return false;
        }

        tile = new TileId(level, index, width);
        return true;
    }

    // Decimal without sign, whitespace or leading zeros.
    private static bool TryParseCanonical(ReadOnlySpan<char> text, int max, out int value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 3 || (text[0] == '0' && text.Length > 1))
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return value <= max;
    }

    // "x001/x234/067": three-digit groups, all but the last prefixed with 'x', no leading zero group.
    private static bool TryParseIndex(ReadOnlySpan<char> text, out long index)
    {
        index = 0;
        var groups = 0;
        while (true)
        {
            var slash = text.IndexOf('/');
            var last = slash < 0;
            var group = last ? text : text[..slash];
            if (!last)
            {
                if (group.Length != 4 || group[0] != 'x')
                {
                    return false;
                }

                group = group[1..];
            }

            if (group.Length != 3 || !char.IsAsciiDigit(group[0]) || !char.IsAsciiDigit(group[1]) || !char.IsAsciiDigit(group[2]))
            {
                return false;
            }

            var value = ((group[0] - '0') * 100) + ((group[1] - '0') * 10) + (group[2] - '0');
            if (groups == 0 && value == 0 && !last)
            {
                return false;
            }

            if (index > (long.MaxValue - value) / 1000)
            {
                return false;
            }

            index = (index * 1000) + value;
            groups++;
            if (last)
            {
                return true;
            }

            text = text[(slash + 1)..];
        }
    }
}
