using System.Buffers;

namespace TransparencyLog.Sigstore.Http;

/// <summary>
/// Reads an HTTP body into memory up to a limit, for every answer or request whose sender we do not control (a
/// service, a registry, a TUF mirror, a witness, a client). A declared length above the limit is refused before
/// anything is read; a body without one (chunked) is refused as soon as more than the limit has arrived, so a hostile
/// peer costs at most the limit in memory. The caller says what refusal means (its own error or status).
/// </summary>
public static class BoundedBody
{
    private const int ChunkBytes = 16 * 1024;

    /// <summary>The content's bytes, or null when it is longer than <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]?> ReadAsync(HttpContent content, long maxBytes, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > maxBytes)
        {
            return null;
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        return await ReadAsync(stream, content.Headers.ContentLength, maxBytes, cancellationToken);
    }

    /// <summary>
    /// The stream's bytes to its end, or null when <paramref name="declaredLength"/> or the bytes read exceed
    /// <paramref name="maxBytes"/>.
    /// </summary>
    public static async Task<byte[]?> ReadAsync(Stream stream, long? declaredLength, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        if (declaredLength > maxBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream(declaredLength is { } length and <= int.MaxValue ? (int)length : 0);
        var chunk = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk.AsMemory(0, ChunkBytes), cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return null;
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
