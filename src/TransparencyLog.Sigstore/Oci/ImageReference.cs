using System.Text.RegularExpressions;

namespace TransparencyLog.Sigstore.Oci;

/// <summary>
/// An image reference <c>[HOST[:PORT]/]REPO[:TAG][@sha256:HEX]</c>, normalized as Docker's reference grammar
/// (distribution/reference) does: the first path part names the registry when it is <c>localhost</c>, holds a dot or a
/// colon, or holds an uppercase letter (repository paths are lowercase, so it cannot be one); any other reference is
/// a Docker Hub repository (<c>index.docker.io/library/x</c>). A registry must be a host name, an IPv4 address or a
/// bracketed IPv6 address, with an optional port.
/// </summary>
public sealed partial record ImageReference(string Registry, string Repository, string? Tag, string? Digest)
{
    public const int MaxLength = 1024;

    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex("^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")]
    private static partial Regex TagPattern();

    // distribution/reference's domainAndPort: dot-separated components of [a-zA-Z0-9-] not starting or ending with
    // '-' (IPv4 included), or [IPv6], then an optional :port.
    [GeneratedRegex(@"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$")]
    private static partial Regex HostPattern();

    /// <summary>The tag or digest to fetch: the digest when both are given (a digest pins; the tag is informational).</summary>
    public string Reference => Digest ?? Tag ?? "latest";

    /// <summary><c>registry/repository</c>: what cosign writes as <c>docker-reference</c>.</summary>
    public string RepositoryName => $"{Registry}/{Repository}";

    public ImageReference WithDigest(string digest) => this with { Digest = digest };

    public override string ToString() =>
        RepositoryName + (Tag is null ? string.Empty : ":" + Tag) + (Digest is null ? string.Empty : "@" + Digest);

    public static ImageReference Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxLength)
        {
            throw Invalid(text, $"an image reference must be 1 to {MaxLength} characters");
        }

        string? digest = null;
        var at = text.IndexOf('@', StringComparison.Ordinal);
        var rest = text;
        if (at >= 0)
        {
            digest = text[(at + 1)..];
            rest = text[..at];
            if (!OciDigest.IsValid(digest))
            {
                throw Invalid(text, "the digest must be sha256: followed by 64 lowercase hex digits");
            }
        }

        string? tag = null;
        var lastSlash = rest.LastIndexOf('/');
        var colon = rest.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                throw Invalid(text, "a tag is 1 to 128 of [A-Za-z0-9_.-] and does not start with . or -");
            }
        }

        string registry;
        string repository;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? string.Empty : rest[..slash];
        if (slash > 0 && NamesRegistry(first))
        {
            registry = first;
            repository = rest[(slash + 1)..];
            if (!HostPattern().IsMatch(registry))
            {
                throw Invalid(text, $"the registry '{registry}' is not a host name, IPv4 or [IPv6] address with an optional :port");
            }
        }
        else
        {
            registry = "index.docker.io";
            repository = slash < 0 ? "library/" + rest : rest;
        }

        if (registry == "docker.io")
        {
            registry = "index.docker.io";
            repository = repository.Contains('/', StringComparison.Ordinal) ? repository : "library/" + repository;
        }

        if (!RepositoryPattern().IsMatch(repository) || repository.Length > 255)
        {
            throw Invalid(text, "the repository name must be lowercase path components of [a-z0-9] separated by . _ __ or -");
        }

        return new ImageReference(registry, repository, digest is null ? tag ?? "latest" : tag, digest);
    }

    /// <summary>
    /// A repository named without tag or digest, normalized as <see cref="Parse"/> does: where signatures and
    /// attestations are stored apart from the image (cosign's <c>COSIGN_REPOSITORY</c>, policy-controller's
    /// <c>source[].oci</c>).
    /// </summary>
    public static ImageReference ParseRepository(string text)
    {
        var parsed = Parse(text);
        if (parsed.Digest is not null || text.LastIndexOf(':') > text.LastIndexOf('/'))
        {
            throw Invalid(text, "a signature repository is REGISTRY/REPO, without a tag or digest");
        }

        return parsed with { Tag = null };
    }

    /// <summary>
    /// Whether the part of a reference before its first <c>/</c> names a registry rather than the first path component
    /// of a Docker Hub repository (distribution/reference <c>splitDockerDomain</c>).
    /// </summary>
    public static bool NamesRegistry(string firstComponent) =>
        firstComponent == "localhost"
        || firstComponent.Contains('.', StringComparison.Ordinal)
        || firstComponent.Contains(':', StringComparison.Ordinal)
        || firstComponent.Any(char.IsAsciiLetterUpper);

    private static OciException Invalid(string text, string why) =>
        new(OciFailure.Usage, $"'{(text.Length > 200 ? text[..200] + "…" : text)}' is not a valid image reference: {why}", "INVALID_REFERENCE");
}

/// <summary>OCI content digests: only <c>sha256</c> is produced or accepted.</summary>
public static partial class OciDigest
{
    [GeneratedRegex("^sha256:[a-f0-9]{64}$")]
    private static partial Regex Pattern();

    public static bool IsValid(string? digest) => digest is not null && Pattern().IsMatch(digest);

    public static string Of(ReadOnlySpan<byte> content) => "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content));

    /// <summary>The hex part of a sha256 digest.</summary>
    public static string Hex(string digest) => digest["sha256:".Length..];

    /// <summary>The cosign tag for a digest: <c>sha256-HEX.suffix</c> (suffix without the dot; empty for the referrers fallback tag).</summary>
    public static string Tag(string digest, string suffix) => "sha256-" + Hex(digest) + (suffix.Length == 0 ? string.Empty : "." + suffix);
}
