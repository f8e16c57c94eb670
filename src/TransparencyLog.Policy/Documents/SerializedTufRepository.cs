using System.Formats.Tar;
using System.IO.Compression;

namespace TransparencyLog.Policy.Documents;

/// <summary>
/// policy-controller's serialized TUF repository (<c>TrustRoot</c> <c>spec.repository.mirrorFS</c>, admission-policy
/// §3.5): a gzipped tar of the repository directory, read into memory, never onto disk. As policy-controller writes it
/// (<c>tar -czf repo.tgz repository/</c>), a leading <c>repository/</c> is stripped; only regular files are kept.
/// Everything is bounded before it is decompressed further: the archive, the total it expands to, the entry count.
/// </summary>
internal static class SerializedTufRepository
{
    public const int MaxEntries = 4096;
    public const long MaxExpandedBytes = 32L * 1024 * 1024;
    private const string Prefix = "repository/";

    /// <exception cref="InvalidDataException">Not a gzipped tar, or beyond a limit; the message says which.</exception>
    public static Dictionary<string, byte[]> Read(byte[] archive)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var gzip = new GZipStream(new MemoryStream(archive, writable: false), CompressionMode.Decompress);
        using var bounded = new BoundedReadStream(gzip, MaxExpandedBytes);
        using var reader = new TarReader(bounded);
        var entries = 0;
        while (reader.GetNextEntry() is { } entry)
        {
            if (++entries > MaxEntries)
            {
                throw new InvalidDataException($"more than {MaxEntries} entries");
            }

            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
            {
                continue; // directories carry nothing; links are not followed (policy-controller keeps only files too)
            }

            var name = Name(entry.Name);
            using var content = new MemoryStream();
            entry.DataStream?.CopyTo(content);
            if (!files.TryAdd(name, content.ToArray()))
            {
                throw new InvalidDataException($"{name} appears twice");
            }
        }

        return files.Count > 0 ? files : throw new InvalidDataException("it holds no files");
    }

    /// <summary>The path relative to the repository root; <c>..</c> and absolute names are refused, not resolved.</summary>
    private static string Name(string entryName)
    {
        var name = entryName.Replace('\\', '/');
        while (name.StartsWith("./", StringComparison.Ordinal))
        {
            name = name[2..];
        }

        name = name.TrimStart('/');
        if (name.StartsWith(Prefix, StringComparison.Ordinal))
        {
            name = name[Prefix.Length..];
        }

        if (name.Length == 0 || name.Split('/').Any(static s => s is "" or "." or ".."))
        {
            throw new InvalidDataException($"the entry name '{entryName}' is not a path inside the repository");
        }

        return name;
    }

    /// <summary>Fails once more than <c>limit</c> bytes came out: a small archive cannot expand without bound.</summary>
    private sealed class BoundedReadStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));

        private int Count(int read)
        {
            _read += read;
            return _read > limit ? throw new InvalidDataException($"it expands to more than {limit} bytes") : read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
