using System.Text;
using TransparencyLog.Cli.Monitoring;

namespace TransparencyLog.Cli.Tests.Monitoring;

/// <summary>The monitor's server-sent-events reader: lines as sent, and no unbounded buffering of a huge line.</summary>
public sealed class BoundedLineReaderTests
{
    [Fact]
    public async Task ReadLineAsync_OneByteReadsAndCrLf_ReturnsEachLine()
    {
        var reader = new BoundedLineReader(new TrickleStream(Encoding.UTF8.GetBytes("id: 7\r\ndata: {\"logIndex\":7}\n\nlast")), 64);

        Assert.Equal("id: 7", await reader.ReadLineAsync(CancellationToken.None));
        Assert.Equal("data: {\"logIndex\":7}", await reader.ReadLineAsync(CancellationToken.None));
        Assert.Equal("", await reader.ReadLineAsync(CancellationToken.None));
        Assert.Equal("last", await reader.ReadLineAsync(CancellationToken.None));
        Assert.Null(await reader.ReadLineAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ReadLineAsync_ManyLinesOverTheBufferSize_AllReturnedInOrder()
    {
        var text = string.Concat(Enumerable.Range(0, 5000).Select(i => $"id: {i}\n"));
        var reader = new BoundedLineReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), 32);

        for (var i = 0; i < 5000; i++)
        {
            Assert.Equal($"id: {i}", await reader.ReadLineAsync(CancellationToken.None));
        }

        Assert.Null(await reader.ReadLineAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ReadLineAsync_LineLongerThanTheCap_ThrowsWithoutReadingItAll()
    {
        var stream = new EndlessStream();
        var reader = new BoundedLineReader(stream, EntryStreamWaker.MaxLineBytes);

        await Assert.ThrowsAsync<IOException>(() => reader.ReadLineAsync(CancellationToken.None));
        Assert.True(stream.Served <= EntryStreamWaker.MaxLineBytes + 8192, $"read {stream.Served} bytes");
    }

    /// <summary>Serves its bytes one at a time.</summary>
    private sealed class TrickleStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(1, buffer.Length)], cancellationToken);
    }

    /// <summary>'x' forever, no newline: a server that never ends its line.</summary>
    private sealed class EndlessStream : Stream
    {
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
}
