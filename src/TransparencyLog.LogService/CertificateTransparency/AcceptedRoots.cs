using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.LogService.CertificateTransparency;

/// <summary>
/// The root certificates the log accepts chains to, read from <see cref="CertificateTransparencyOptions.RootsPath"/>.
/// Only self-issued certificates in the file are taken, so the CA's chain file can be used as is. The file is re-read
/// when its size or modification time changes, so a CA that creates its root after the log started is accepted
/// without a restart. While roots are loaded, the file is looked at (one <c>stat</c>) at most every
/// <see cref="RecheckInterval"/> rather than on every submission; while there are none, on every submission, so a
/// root written after the log started is accepted at once. A file that cannot be parsed (for example one caught
/// half-written) keeps the previous set and is tried again at its next change.
/// </summary>
internal sealed partial class AcceptedRoots(IOptions<CertificateTransparencyOptions> options, TimeProvider time, ILogger<AcceptedRoots> logger)
{
    /// <summary>How long a loaded set is used without looking at the file: a changed or removed file takes effect
    /// within this time.</summary>
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private (DateTime Modified, long Length)? _loadedVersion;
    private IReadOnlyList<X509Certificate2> _roots = [];

    // The set and when the file was last looked at, published together for the lock-free path.
    private volatile Checked? _checked;

    /// <summary>The current roots, in file order; empty when the file does not exist (yet).</summary>
    public IReadOnlyList<X509Certificate2> Current
    {
        get
        {
            var now = time.GetTimestamp();
            if (_checked is { Roots.Count: > 0 } recent && time.GetElapsedTime(recent.At, now) < RecheckInterval)
            {
                return recent.Roots;
            }

            var roots = Read();
            _checked = new Checked(roots, now);
            return roots;
        }
    }

    private IReadOnlyList<X509Certificate2> Read()
    {
        var path = options.Value.RootsPath;
        var file = new FileInfo(path);
        (DateTime, long)? version = file.Exists ? (file.LastWriteTimeUtc, file.Length) : null;
        lock (_lock)
        {
            if (version == _loadedVersion)
            {
                return _roots;
            }

            if (version is null)
            {
                _roots = [];
                _loadedVersion = null;
                return _roots;
            }

            try
            {
                _roots = Parse(File.ReadAllText(path));
                _loadedVersion = version;
                Log.RootsLoaded(logger, _roots.Count, path);
            }
            catch (Exception e) when (e is IOException or CryptographicException or FormatException or UnauthorizedAccessException)
            {
                // Remember the version so a bad file is reported once, not on every request.
                _loadedVersion = version;
                Log.RootsUnreadable(logger, path, e);
            }

            return _roots;
        }
    }

    private sealed record Checked(IReadOnlyList<X509Certificate2> Roots, long At);

    private static List<X509Certificate2> Parse(string pem)
    {
        var roots = new List<X509Certificate2>();
        foreach (var certificate in PemCertificates.Read(pem))
        {
            if (certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData))
            {
                roots.Add(certificate);
            }
            else
            {
                // Only self-issued certificates are roots, so the CA's whole chain file (issuing CA first, root
                // last) can be given as is without making its intermediate a trust anchor.
                certificate.Dispose();
            }
        }

        return roots;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "CT log: {Count} accepted roots loaded from {Path}")]
        public static partial void RootsLoaded(ILogger logger, int count, string path);

        [LoggerMessage(Level = LogLevel.Warning, Message = "CT log: the roots file {Path} cannot be read; keeping the previous roots")]
        public static partial void RootsUnreadable(ILogger logger, string path, Exception exception);
    }
}
