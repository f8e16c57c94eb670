namespace TransparencyLog.Testing;

/// <summary>'x' forever, at most 1,000 bytes per read: a peer that never ends its body or its line.</summary>
internal sealed class EndlessStream : Stream
{
    /// <summary>How many bytes were handed out.</summary>
    public long Served { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => Served; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = Math.Min(count, 1000);
        buffer.AsSpan(offset, n).Fill((byte)'x');
        Served += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>Hands out its bytes at most <paramref name="chunk"/> at a time, as a slow network does.</summary>
internal sealed class TrickleStream(byte[] bytes, int chunk) : MemoryStream(bytes)
{
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        base.ReadAsync(buffer[..Math.Min(chunk, buffer.Length)], cancellationToken);
}
