using System.IO.Pipelines;
using Google.Protobuf;
using TransparencyLog.CaService.Fulcio;
using TransparencyLog.CaService.Grpc;

namespace TransparencyLog.CaService.Tests.Grpc;

public sealed class GrpcFramingTests
{
    private static readonly byte[] Message = new Credentials { OidcIdentityToken = "header.payload.signature" }.ToByteArray();

    private static byte[] Frame(byte flag, uint length, byte[] body) =>
        [flag, (byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length, .. body];

    private static async Task<byte[]> ReadAsync(IEnumerable<byte[]> chunks, int max = 1024)
    {
        var pipe = new Pipe();
        var read = GrpcFraming.ReadUnaryMessageAsync(pipe.Reader, max, CancellationToken.None);
        foreach (var chunk in chunks)
        {
            await pipe.Writer.WriteAsync(chunk);
        }

        await pipe.Writer.CompleteAsync();
        return await read;
    }

    [Fact]
    public async Task ReadUnaryMessage_WholeFrame_ReturnsMessage()
    {
        Assert.Equal(Message, await ReadAsync([Frame(0, (uint)Message.Length, Message)]));
    }

    [Fact]
    public async Task ReadUnaryMessage_FrameSplitIntoSingleBytes_ReturnsMessage()
    {
        var frame = Frame(0, (uint)Message.Length, Message);
        Assert.Equal(Message, await ReadAsync(frame.Select(b => new[] { b })));
    }

    [Fact]
    public async Task ReadUnaryMessage_EmptyMessage_ReturnsEmpty()
    {
        Assert.Empty(await ReadAsync([Frame(0, 0, [])]));
    }

    [Fact]
    public async Task ReadUnaryMessage_LengthAboveLimit_ThrowsResourceExhaustedBeforeReadingBody()
    {
        var error = await Assert.ThrowsAsync<GrpcFramingException>(() => ReadAsync([Frame(0, uint.MaxValue, [])], max: 1024));
        Assert.Equal(GrpcStatusCode.ResourceExhausted, error.Status);
    }

    [Fact]
    public async Task ReadUnaryMessage_CompressedFlag_ThrowsUnimplemented()
    {
        var error = await Assert.ThrowsAsync<GrpcFramingException>(() => ReadAsync([Frame(1, (uint)Message.Length, Message)]));
        Assert.Equal(GrpcStatusCode.Unimplemented, error.Status);
    }

    [Fact]
    public async Task ReadUnaryMessage_InvalidFlag_ThrowsInternal()
    {
        var error = await Assert.ThrowsAsync<GrpcFramingException>(() => ReadAsync([Frame(7, (uint)Message.Length, Message)]));
        Assert.Equal(GrpcStatusCode.Internal, error.Status);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(10)]
    public async Task ReadUnaryMessage_StreamEndsInsideFrame_ThrowsInternal(int bytes)
    {
        var frame = Frame(0, (uint)Message.Length, Message);
        var error = await Assert.ThrowsAsync<GrpcFramingException>(() => ReadAsync([frame[..bytes]]));
        Assert.Equal(GrpcStatusCode.Internal, error.Status);
    }

    [Fact]
    public async Task ReadUnaryMessage_TwoMessages_ThrowsUnimplemented()
    {
        var frame = Frame(0, (uint)Message.Length, Message);
        var error = await Assert.ThrowsAsync<GrpcFramingException>(() => ReadAsync([frame, frame]));
        Assert.Equal(GrpcStatusCode.Unimplemented, error.Status);
    }

    [Fact]
    public void WriteMessage_Message_WritesFlagBigEndianLengthAndBody()
    {
        var message = new Credentials { OidcIdentityToken = "t" };
        var writer = new System.Buffers.ArrayBufferWriter<byte>();

        GrpcFraming.WriteMessage(writer, message);

        Assert.Equal(Frame(0, (uint)message.CalculateSize(), message.ToByteArray()), writer.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData("plain ascii", "plain ascii")]
    [InlineData("100% sure", "100%25 sure")]
    [InlineData("line\nbreak", "line%0Abreak")]
    [InlineData("café", "caf%C3%A9")]
    public void EncodeMessage_Text_PercentEncodesOutsidePrintableAsciiAndPercent(string text, string expected)
    {
        Assert.Equal(expected, GrpcFraming.EncodeMessage(text));
    }
}
