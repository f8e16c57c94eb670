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

        using var buffer = new MemoryStream(request.ContentLength is long length ? (int)length : 4096);
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new RequestTooLargeException(limit);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
