using System.Text;
using System.Text.RegularExpressions;
using TransparencyLog.Sigstore.Oci;

namespace TransparencyLog.Policy.Matching;

/// <summary>
/// A policy-controller image glob (admission-policy §3.2): characters <c>[a-zA-Z0-9-_:/*.@]</c>, anchored; <c>*</c> is
/// any run without <c>/</c> (so it spans <c>:tag</c> and <c>@sha256:…</c>), <c>**</c> anything. A bare <c>*</c> means
/// <c>index.docker.io/library/*</c> and <c>*/*</c> means <c>index.docker.io/*/*</c>.
/// </summary>
public sealed partial class ImageGlob
{
    public const int MaxLength = 512;

    private readonly Regex _regex;

    private ImageGlob(string text, Regex regex)
    {
        Text = text;
        _regex = regex;
    }

    public string Text { get; }

    [GeneratedRegex("^[a-zA-Z0-9_:/*.@-]+$")]
    private static partial Regex AllowedCharacters();

    /// <exception cref="ArgumentException">Empty, too long, or a character outside the allowed set.</exception>
    public static ImageGlob Parse(string text)
    {
        if (string.IsNullOrEmpty(text) || text.Length > MaxLength || !AllowedCharacters().IsMatch(text))
        {
            throw new ArgumentException($"'{(text.Length > 80 ? text[..80] + "…" : text)}' is not a glob: 1 to {MaxLength} of [a-zA-Z0-9-_:/*.@]");
        }

        var expanded = text switch
        {
            "*" => "index.docker.io/library/*",
            "*/*" => "index.docker.io/*/*",
            _ => text,
        };
        var pattern = new StringBuilder("\\A");
        for (var i = 0; i < expanded.Length; i++)
        {
            if (expanded[i] == '*')
            {
                if (i + 1 < expanded.Length && expanded[i + 1] == '*')
                {
                    pattern.Append(".*");
                    i++;
                }
                else
                {
                    pattern.Append("[^/]*");
                }
            }
            else
            {
                pattern.Append(Regex.Escape(expanded[i].ToString()));
            }
        }

        pattern.Append("\\z");
        // Linear-time matching, so no match timeout: a timeout is measured in wall-clock time, and on a starved
        // machine a trivial match of a review's image outlived 100 ms and failed the review with a 500.
        return new ImageGlob(text, new Regex(pattern.ToString(), RegexOptions.CultureInvariant | RegexOptions.NonBacktracking));
    }

    /// <summary>
    /// Matches the full names policy-controller matches (<c>repo@digest</c>, <c>repo:tag</c>), in both the ggcr
    /// (<c>index.docker.io</c>) and the distribution (<c>docker.io</c>) spelling of Docker Hub.
    /// </summary>
    public bool Matches(ImageReference image)
    {
        foreach (var name in ImageNames.FullNames(image))
        {
            if (_regex.IsMatch(name))
            {
                return true;
            }
        }

        return false;
    }

    public override string ToString() => Text;
}

/// <summary>Image names as policies and records show them (admission-policy §2).</summary>
public static class ImageNames
{
    /// <summary>The distribution form: <c>docker.io/library/nginx:1.0@sha256:…</c> (Docker Hub as <c>docker.io</c>).</summary>
    public static string Normalized(ImageReference image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Repository(image) + (image.Tag is null ? string.Empty : ":" + image.Tag) + (image.Digest is null ? string.Empty : "@" + image.Digest);
    }

    public static string Repository(ImageReference image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return (image.Registry == "index.docker.io" ? "docker.io" : image.Registry) + "/" + image.Repository;
    }

    public static IEnumerable<string> FullNames(ImageReference image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var repositories = image.Registry == "index.docker.io"
            ? new[] { "index.docker.io/" + image.Repository, "docker.io/" + image.Repository }
            : [image.RepositoryName];
        foreach (var repository in repositories)
        {
            if (image.Digest is not null)
            {
                yield return repository + "@" + image.Digest;
            }

            if (image.Tag is not null)
            {
                yield return repository + ":" + image.Tag;
            }
        }
    }
}
