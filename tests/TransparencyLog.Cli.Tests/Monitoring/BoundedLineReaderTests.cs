using System.Text;
using TransparencyLog.Cli.Monitoring;
using TransparencyLog.Testing;

namespace TransparencyLog.Cli.Tests.Monitoring;

/// <summary>The monitor's server-sent-events reader: lines as sent, and no unbounded buffering of a huge line.</summary>
public sealed class BoundedLineReaderTests
{
    [Fact]
    public async Task ReadLineAsync_OneByteReadsAndCrLf_ReturnsEachLine()
    {
        var reader = new BoundedLineReader(new TrickleStream(Encoding.UTF8.GetBytes("id: 7\r\ndata: {\"logIndex\":7}\n\nlast"), 1), 64);

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
}
