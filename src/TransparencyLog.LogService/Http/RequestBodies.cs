using System.Buffers;

namespace TransparencyLog.LogService.Http;

/// <summary>A request body over its limit; answered 413 without reading the rest.</summary>
internal sealed class RequestTooLargeException(int limit) : Exception($"request body exceeds the {limit}-byte limit")
{
    public int Limit { get; } = limit;
}

/// <summary>Reads request bodies with a hard byte limit, checked before anything parses them.</summary>
internal static class RequestBodies
{
    public static async Task<byte[]> ReadAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            throw new RequestTooLargeException(limit);
        }

        if (request.ContentLength is long length)
        {
            // Kestrel ends the body at its Content-Length (a longer body is a protocol error there): the array of that
            // size is the only buffer, read into in place.
            var body = new byte[length];
            var filled = 0;
            int got;
            while (filled < body.Length && (got = await request.Body.ReadAsync(body.AsMemory(filled), cancellationToken)) > 0)
            {
                filled += got;
            }

            return filled == body.Length ? body : body[..filled];
        }

        using var buffer = new MemoryStream(4096);
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    throw new RequestTooLargeException(limit);
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }
}
