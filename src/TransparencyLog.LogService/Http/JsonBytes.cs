namespace TransparencyLog.LogService.Http;

/// <summary>Pre-serialized JSON with a status code (the writers build exact wire JSON themselves).</summary>
internal sealed class JsonBytes(byte[] body, int statusCode = StatusCodes.Status200OK) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = statusCode;
        httpContext.Response.ContentType = "application/json";
        httpContext.Response.ContentLength = body.Length;
        return httpContext.Response.Body.WriteAsync(body).AsTask();
    }
}
