using System.Text.Json;
using System.Text.Json.Serialization;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Merkle;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>
/// What the monitor has verified, saved after each cycle (temp file + rename): the log's verifier key (pinned on first
/// use), the last verified checkpoint, and the right edge of the tree at that size, from which the next checkpoint's
/// root is recomputed over the new entries (proving consistency and the entries' integrity at once).
/// </summary>
internal sealed record MonitorState(
    string Url,
    string VerifierKey,
    string Checkpoint,
    long Size,
    string RootHash,
    IReadOnlyList<IReadOnlyList<string>> Edge)
{
    public const int Version = 1;

    private const int MaxStateBytes = 1024 * 1024;

    /// <summary>A setter, not init, so a file without it keeps the default (see <see cref="MonitorConfig"/>).</summary>
    [JsonPropertyName("version")]
    public int FormatVersion { get; set; } = Version;

    public TreeEdge ToEdge()
    {
        try
        {
            return new TreeEdge(Size, [.. Edge.Select(static level => level.Select(Hash.FromHex).ToArray())]);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            throw new CliException(ExitCodes.Error, $"the monitor state's tree edge is corrupt: {ex.Message}");
        }
    }

    public static IReadOnlyList<IReadOnlyList<string>> EdgeOf(TreeEdge edge) =>
        [.. edge.PartialTiles.Select(static level => (IReadOnlyList<string>)[.. level.Select(static h => h.ToString())])];

    public static MonitorState? Load(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var info = new FileInfo(path);
        if (info.Length > MaxStateBytes)
        {
            throw new CliException(ExitCodes.Error, $"the state file {path} is larger than {MaxStateBytes} bytes");
        }

        try
        {
            var state = JsonSerializer.Deserialize(File.ReadAllText(path), MonitorStateJsonContext.Default.MonitorState);
            return state is { FormatVersion: Version, Checkpoint.Length: > 0, VerifierKey.Length: > 0 }
                ? state
                : throw new CliException(ExitCodes.Error, $"{path} is not a tlog monitor state file (version {Version})");
        }
        catch (JsonException)
        {
            throw new CliException(ExitCodes.Error, $"{path} is not a tlog monitor state file (a rekor-monitor checkpoint file cannot be reused: start without it)");
        }
    }

    public void Save(string path) => CommandActions.WriteFileAtomically(path, JsonSerializer.Serialize(this, MonitorStateJsonContext.Default.MonitorState));
}
