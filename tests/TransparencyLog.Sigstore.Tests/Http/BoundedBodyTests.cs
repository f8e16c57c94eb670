using System.Net.Http.Headers;
using TransparencyLog.Sigstore.Http;
using TransparencyLog.Testing;

namespace TransparencyLog.Sigstore.Tests.Http;

/// <summary>
/// The one reader of bodies from peers we do not control (services, registries, mirrors, witnesses, clients): a body
/// within the limit arrives whole, a longer one is refused, whether its length is declared or it streams without one.
/// </summary>
public sealed class BoundedBodyTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(16 * 1024)]
    [InlineData(40_000)]
    public async Task ReadAsync_AtMostTheLimit_ReturnsEveryByte(int length)
    {
        var bytes = Enumerable.Range(0, length).Select(static i => (byte)(i * 7)).ToArray();

        Assert.Equal(bytes, await BoundedBody.ReadAsync(new ByteArrayContent(bytes), 40_000, CancellationToken.None));
        Assert.Equal(bytes, await BoundedBody.ReadAsync(new StreamContent(new TrickleStream(bytes, 1000)), 40_000, CancellationToken.None));
    }

    [Fact]
    public async Task ReadAsync_OneByteOverTheLimit_Refused()
    {
        var bytes = new byte[40_001];

        Assert.Null(await BoundedBody.ReadAsync(new ByteArrayContent(bytes), 40_000, CancellationToken.None));
        Assert.Null(await BoundedBody.ReadAsync(new StreamContent(new TrickleStream(bytes, 1000)), 40_000, CancellationToken.None));
    }

    [Fact]
    public async Task ReadAsync_DeclaredLengthOverTheLimit_RefusedWithoutReading()
    {
        var body = new EndlessStream();
        var content = new StreamContent(body);
        content.Headers.ContentLength = 1_000_000;

        Assert.Null(await BoundedBody.ReadAsync(content, 1024, CancellationToken.None));
        Assert.Equal(0, body.Served);
    }

    [Fact]
    public async Task ReadAsync_EndlessBodyWithoutLength_RefusedSoonAfterTheLimit()
    {
        var body = new EndlessStream();
        var content = new StreamContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain");

        Assert.Null(await BoundedBody.ReadAsync(content, 64 * 1024, CancellationToken.None));
        Assert.InRange(body.Served, 64 * 1024, 128 * 1024);
    }

    [Fact]
    public async Task ReadAsync_DeclaredLengthShorterThanTheBody_StillBoundedByTheLimit()
    {
        // A peer that declares a small length and then streams on: only the stream's own end or the limit stops it.
        var body = new EndlessStream();

        Assert.Null(await BoundedBody.ReadAsync(body, 10, 64 * 1024, CancellationToken.None));
        Assert.InRange(body.Served, 64 * 1024, 128 * 1024);
    }
}
