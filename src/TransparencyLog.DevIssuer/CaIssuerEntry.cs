using System.Text.Json;
using Microsoft.Extensions.Options;

namespace TransparencyLog.DevIssuer;

/// <summary>
/// This issuer's entry in a CA's issuers directory (<see cref="DevIssuerOptions.CaIssuersDirectory"/>): written once
/// the issuer listens (its URL is known then, even with port 0), removed when it stops, so a CA that reloads the
/// directory trusts the development issuer exactly while it runs. Written to a hidden temporary name and renamed, so
/// the CA never reads half a file.
/// </summary>
internal sealed class CaIssuerEntry(IOptions<DevIssuerOptions> options, IssuerAddress address, ILogger<CaIssuerEntry> logger)
{
    public const string FileName = "dev-issuer.json";

    private string? EntryPath => options.Value.CaIssuersDirectory is { Length: > 0 } directory ? Path.Combine(directory, FileName) : null;

    public void Write()
    {
        if (EntryPath is not { } path)
        {
            return;
        }

        var entry = new
        {
            issuers = new[]
            {
                new
                {
                    issuerUrl = address.Url,
                    type = "email",
                    description = "the development OIDC issuer: it mints a token for anyone who reaches it, never for production",
                },
            },
        };
        var temporary = Path.Combine(Path.GetDirectoryName(path) ?? ".", "." + FileName + ".tmp");
        try
        {
            File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(entry, new JsonSerializerOptions { WriteIndented = true }));
            File.Move(temporary, path, overwrite: true);
            Log.CaIssuerEntryWritten(logger, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The issuer still serves tokens; the CA just does not learn of it (the error says where it failed).
            Log.CaIssuerEntryFailed(logger, e, path);
        }
    }

    public void Remove()
    {
        if (EntryPath is not { } path || !File.Exists(path))
        {
            return;
        }

        try
        {
            File.Delete(path);
            Log.CaIssuerEntryRemoved(logger, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.CaIssuerEntryFailed(logger, e, path);
        }
    }
}
