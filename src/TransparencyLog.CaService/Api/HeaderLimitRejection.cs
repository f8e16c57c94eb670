using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Grpc;

namespace TransparencyLog.CaService.Api;

/// <summary>The CA's answer to oversized request headers: its error body (REST) or RESOURCE_EXHAUSTED (gRPC).</summary>
internal static class HeaderLimitRejection
{
    public static async Task WriteAsync(HttpContext context, string message)
    {
        if (CaGrpcExtensions.IsGrpcRequest(context.Request))
        {
            CaGrpcExtensions.WriteRejection(context.Response, CaErrorCode.RequestHeadersTooLarge, message);
            return;
        }

        context.Response.Headers.Connection = "close";
        await CaErrorResult.WriteAsync(context.Response, CaErrorCode.RequestHeadersTooLarge, message, context.RequestAborted);
    }
}
