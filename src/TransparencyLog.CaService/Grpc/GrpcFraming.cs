using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using Google.Protobuf;

namespace TransparencyLog.CaService.Grpc;

/// <summary>A request that violates gRPC framing; carries the status to answer with.</summary>
internal sealed class GrpcFramingException(GrpcStatusCode status, string message) : Exception(message)
{
    public GrpcStatusCode Status { get; } = status;
}

/// <summary>
/// The gRPC length-prefixed message framing (grpc/doc/PROTOCOL-HTTP2.md): a compressed flag byte, a 4-byte
/// big-endian length, then the message. Unary only: exactly one message per request.
/// </summary>
internal static class GrpcFraming
{
    public const int HeaderLength = 5;

    /// <summary>
    /// Reads the single message of a unary request. The length prefix is checked against
    /// <paramref name="maxMessageLength"/> before the message is buffered, so an announced 4 GiB costs nothing.
    /// </summary>
    public static async Task<byte[]> ReadUnaryMessageAsync(PipeReader reader, int maxMessageLength, CancellationToken ct)
    {
        byte[]? message = null;
        var header = new byte[HeaderLength];
        while (true)
        {
            var read = await reader.ReadAsync(ct);
            var buffer = read.Buffer;
            if (message is null && buffer.Length >= HeaderLength)
            {
                buffer.Slice(0, HeaderLength).CopyTo(header);
                if (header[0] != 0)
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    throw header[0] == 1
                        ? new GrpcFramingException(GrpcStatusCode.Unimplemented, "compressed messages are not supported (grpc-encoding identity only)")
                        : new GrpcFramingException(GrpcStatusCode.Internal, "invalid compressed flag in the message frame");
                }

                var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
                if (length > (uint)maxMessageLength)
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    throw new GrpcFramingException(GrpcStatusCode.ResourceExhausted,
                        $"the request message is larger than {maxMessageLength} bytes");
                }

                if (buffer.Length >= HeaderLength + length)
                {
                    message = buffer.Slice(HeaderLength, length).ToArray();
                    buffer = buffer.Slice(HeaderLength + length);
                }
            }

            if (message is not null && buffer.Length > 0)
            {
                reader.AdvanceTo(buffer.End);
                throw new GrpcFramingException(GrpcStatusCode.Unimplemented, "a unary call must carry exactly one message");
            }

            if (read.IsCompleted || read.IsCanceled)
            {
                reader.AdvanceTo(buffer.End);
                return message ?? throw new GrpcFramingException(GrpcStatusCode.Internal,
                    buffer.Length == 0 ? "the request carries no message" : "the request ended inside a message frame");
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Writes <paramref name="message"/> as one uncompressed frame.</summary>
    public static void WriteMessage(IBufferWriter<byte> writer, IMessage message)
    {
        var length = message.CalculateSize();
        var header = writer.GetSpan(HeaderLength);
        header[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(header[1..], (uint)length);
        writer.Advance(HeaderLength);
        var body = writer.GetSpan(length)[..length];
        message.WriteTo(body);
        writer.Advance(length);
    }

    /// <summary>
    /// Percent-encodes a <c>grpc-message</c>: UTF-8, every byte outside 0x20–0x7E and '%' itself as %XX.
    /// </summary>
    public static string EncodeMessage(string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        var result = new StringBuilder(bytes.Length);
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%')
            {
                result.Append((char)b);
            }
            else
            {
                result.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return result.ToString();
    }
}
