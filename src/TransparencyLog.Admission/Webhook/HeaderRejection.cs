namespace TransparencyLog.Admission.Webhook;

/// <summary>Oversized headers are answered before any routing, as every host does.</summary>
internal static class HeaderRejection
{
    public static Task WriteAsync(HttpContext context, string reason) =>
        Results.Problem(statusCode: StatusCodes.Status431RequestHeaderFieldsTooLarge, title: "request headers too large", detail: reason).ExecuteAsync(context);
}
