using System.Security.Cryptography;
using System.Text;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Tuf;

namespace TransparencyLog.Policy.Documents;

/// <summary>
/// Fetches the trusted root of every TUF <c>TrustRoot</c> (<c>spec.remote</c>, or <c>spec.repository</c>: the same
/// from the serialized repository's files) of a policy set, as policy-controller does: the TUF client workflow from
/// the TrustRoot's initial root against its mirror (rotations, expiry, rollback and hashes checked by
/// <see cref="TufUpdater"/>), then the <c>trusted_root.json</c> target (or the one <c>trustedRootTarget</c> names).
/// Trusted metadata is cached per mirror (or serialized repository) and initial root under <c>cacheDirectory</c>, so
/// a rollback is caught across reloads too.
/// </summary>
public static class TufTrustRoots
{
    public const string TrustedRootTarget = "trusted_root.json";

    /// <summary>The set with every pending TUF trust root fetched; <see cref="PolicySet.TrustRootGeneration"/> then also covers the fetched roots.</summary>
    /// <exception cref="PolicyLoadException">A mirror cannot be reached, its metadata is refused, or it serves no valid trusted root.</exception>
    public static async Task<PolicySet> ResolveAsync(PolicySet set, HttpClient http, string cacheDirectory, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(http);
        if (!set.TrustRoots.Values.Any(static r => r.Pending))
        {
            return set;
        }

        var roots = new Dictionary<string, TrustRootDocument>(StringComparer.Ordinal);
        using var generation = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        generation.AppendData(Encoding.UTF8.GetBytes(set.TrustRootGeneration));
        foreach (var (name, document) in set.TrustRoots.OrderBy(static r => r.Key, StringComparer.Ordinal))
        {
            if (document is not { Pending: true, Tuf: { } source })
            {
                roots[name] = document;
                continue;
            }

            var (root, bytes) = await FetchAsync(document, source, http, cacheDirectory, now, cancellationToken);
            generation.AppendData(bytes);
            roots[name] = document with { Root = root };
        }

        return set with { TrustRoots = roots, TrustRootGeneration = Convert.ToHexStringLower(generation.GetHashAndReset())[..16] };
    }

    private static async Task<(TrustedRoot Root, byte[] Bytes)> FetchAsync(
        TrustRootDocument document, TufSource source, HttpClient http, string cacheDirectory, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var where = $"{document.Origin} ({document.Name})";
        var location = source.Mirror?.ToString() ?? "serialized-repository";
        var key = Convert.ToHexStringLower(SHA256.HashData([.. Encoding.UTF8.GetBytes(location + "\n" + source.TargetsPath + "\n"), .. source.InitialRoot]))[..24];
        var cache = Path.Combine(cacheDirectory, key);
        try
        {
            if (!File.Exists(Path.Combine(cache, "root.json")))
            {
                TufUpdater.Bootstrap(cache, source.InitialRoot);
            }

            var updater = source.Files is { } files
                ? new TufUpdater(files, cache, source.TargetsPath)
                : new TufUpdater(http, source.Mirror ?? throw new InvalidOperationException("a remote TUF source has a mirror"), cache, source.TargetsPath);
            var state = await updater.RefreshAsync(now, cancellationToken);
            var bytes = await updater.GetTargetAsync(state, source.TrustedRootTarget, cancellationToken);
            return (TrustedRoot.Parse(Encoding.UTF8.GetString(bytes)), bytes);
        }
        catch (TufException ex)
        {
            throw new PolicyLoadException(where, source.Field, $"{source.Description} was refused ({ex.Code}): {ex.Message}");
        }
        catch (HttpRequestException ex)
        {
            throw new PolicyLoadException(where, "spec.remote.mirror", $"the TUF mirror {source.Mirror} cannot be reached: {ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PolicyLoadException(where, "spec.remote.mirror", $"the TUF mirror {source.Mirror} did not answer in time");
        }
        catch (InvalidOperationException ex)
        {
            // TufMetadata.Parse lets System.Text.Json's InvalidOperationException out on invalid UTF-8 inside a
            // string (seen by fuzzing the initial root); metadata from a mirror is just as untrusted.
            throw new PolicyLoadException(where, source.Field, $"{source.Description} was refused (bad_format): {ex.Message}");
        }
        catch (Sigstore.Bundles.BundleFormatException ex)
        {
            throw new PolicyLoadException(where, source.Field, $"the repository's {source.TrustedRootTarget} is not a valid trusted root: {ex.Message}");
        }
        catch (IOException ex)
        {
            throw new PolicyLoadException(where, source.Field, $"the TUF cache {cache} cannot be written: {ex.Message}");
        }
    }
}
