using System.Security.Cryptography;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Tuf;

namespace TransparencyLog.Cli.Tuf;

/// <summary>
/// A key holders' working directory for a signing event, laid out as tuf-on-ci's: <c>metadata/</c> holds what was
/// published (<c>N.root.json</c> for every root, <c>targets.json</c>), <c>staged/</c> the next <c>root.json</c> and
/// <c>targets.json</c> collecting signatures, <c>targets/</c> the target files. Contains no private key.
/// </summary>
internal sealed class TufStagingArea(string directory)
{
    public string Directory { get; } = directory;

    private string Metadata => Path.Combine(Directory, "metadata");

    private string Staged => Path.Combine(Directory, "staged");

    public string TargetsDirectory => Path.Combine(Directory, "targets");

    public bool Exists => System.IO.Directory.Exists(Metadata) || System.IO.Directory.Exists(Staged);

    /// <summary>The latest published root, or null before the first publish.</summary>
    public TufRoot? PublishedRoot()
    {
        if (!System.IO.Directory.Exists(Metadata))
        {
            return null;
        }

        var latest = System.IO.Directory.GetFiles(Metadata, "*.root.json")
            .Select(static f => (File: f, Version: long.TryParse(Path.GetFileName(f).Split('.')[0], out var v) ? v : 0))
            .OrderByDescending(static f => f.Version)
            .FirstOrDefault();
        return latest.File is null ? null : TufRoot.From(Read(latest.File, TufMetadata.Root));
    }

    public TufMetadata? PublishedTargets() => File.Exists(Path.Combine(Metadata, "targets.json")) ? Read(Path.Combine(Metadata, "targets.json"), TufMetadata.Targets) : null;

    public TufMetadata? StagedRole(string role) => File.Exists(StagedPath(role)) ? Read(StagedPath(role), role) : null;

    /// <summary>The root the next signatures are checked against: the staged one if any, else the published one.</summary>
    public TufRoot CurrentRoot() =>
        (StagedRole(TufMetadata.Root) is { } staged ? TufRoot.From(staged) : PublishedRoot())
        ?? throw new CliException(ExitCodes.Usage, $"{Directory} holds no TUF repository: run tlog tuf init first");

    public void Stage(TufMetadata metadata)
    {
        System.IO.Directory.CreateDirectory(Staged);
        CommandActions.WriteFileAtomically(StagedPath(metadata.Type), System.Text.Encoding.UTF8.GetString(metadata.ToBytes()));
    }

    /// <summary>After a publish: the staged files become the published ones.</summary>
    public void MarkPublished()
    {
        System.IO.Directory.CreateDirectory(Metadata);
        if (StagedRole(TufMetadata.Root) is { } root)
        {
            File.Move(StagedPath(TufMetadata.Root), Path.Combine(Metadata, $"{root.Version}.root.json"), overwrite: true);
        }

        if (File.Exists(StagedPath(TufMetadata.Targets)))
        {
            File.Move(StagedPath(TufMetadata.Targets), Path.Combine(Metadata, "targets.json"), overwrite: true);
        }
    }

    public static DateTimeOffset Expiry(CliHost host, int days)
    {
        var at = host.Context.Time.GetUtcNow().AddDays(days);
        return new DateTimeOffset(at.Year, at.Month, at.Day, at.Hour, at.Minute, at.Second, TimeSpan.Zero);
    }

    public static TufKey LoadPublicKey(string path)
    {
        var text = CommandActions.ReadInputFile(path, "public key");
        return TufKey.FromPublicKey(LogPublicKey.FromPem(text));
    }

    /// <summary>A key holder's key: a PEM file (encrypted: TLOG_TUF_KEY_PASSWORD), or a <c>pkcs11:</c> URI of a key in a token.</summary>
    public static LogSigner LoadPrivateKey(CliHost host, string path)
    {
        if (Sigstore.Keys.Pkcs11.Pkcs11Uri.IsPkcs11(path))
        {
            try
            {
                return LogSigner.FromSigner(Sigstore.Keys.Pkcs11.Pkcs11Signer.Open(path));
            }
            catch (KeyLoadException e)
            {
                throw new CliException(ExitCodes.Error, $"cannot use the key in the token: {e.Message}");
            }
        }

        return LogSigner.LoadPem(CommandActions.ReadInputFile(path, "private key"), host.Context.Env("TLOG_TUF_KEY_PASSWORD"));
    }

    /// <summary>The next targets to edit: a copy of the staged targets, else of the published ones with the version bumped.</summary>
    public TufMetadata NextTargets(CliHost host, int expiresDays)
    {
        if (StagedRole(TufMetadata.Targets) is { } staged)
        {
            return TufDocuments.BuildTargets(staged.Version, Expiry(host, expiresDays), TufDocuments.TargetFiles(staged));
        }

        var published = PublishedTargets();
        return TufDocuments.BuildTargets((published?.Version ?? 0) + 1, Expiry(host, expiresDays), published is null ? [] : TufDocuments.TargetFiles(published));
    }

    public static JsonObject? Custom(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(json) as JsonObject ?? throw new CliException(ExitCodes.Usage, "--custom must be a JSON object");
        }
        catch (System.Text.Json.JsonException)
        {
            throw new CliException(ExitCodes.Usage, "--custom is not valid JSON");
        }
    }

    public static TufTargetFile Describe(byte[] bytes, JsonObject? custom) => new(bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes)), custom);

    private string StagedPath(string role) => Path.Combine(Staged, role + ".json");

    private static TufMetadata Read(string path, string role)
    {
        try
        {
            return TufMetadata.Parse(File.ReadAllBytes(path), role);
        }
        catch (TufException ex)
        {
            throw new CliException(ExitCodes.Error, $"{path}: {ex.Message}");
        }
    }
}
