using System.Buffers.Binary;
using Google.Protobuf;

namespace TransparencyLog.CaService.Tests.Grpc;

/// <summary>The gRPC length-prefixed message (PROTOCOL-HTTP2.md), written by hand so tests can send bad frames.</summary>
internal static class GrpcFrames
{
    public const int HeaderLength = 5;

    public static byte[] Frame(IMessage message)
    {
        var body = message.ToByteArray();
        var frame = new byte[HeaderLength + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)body.Length);
        body.CopyTo(frame, HeaderLength);
        return frame;
    }

    /// <summary>The message of a one-message response body.</summary>
    public static T Single<T>(MessageParser<T> parser, byte[] body)
        where T : IMessage<T>
    {
        Assert.True(body.Length >= HeaderLength, "the response carries no message frame");
        Assert.Equal(0, body[0]);
        var length = BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(1));
        Assert.Equal(body.Length - HeaderLength, (int)length);
        return parser.ParseFrom(body.AsSpan(HeaderLength).ToArray());
    }
}
