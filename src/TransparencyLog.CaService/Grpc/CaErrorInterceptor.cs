using Grpc.Core;
using Grpc.Core.Interceptors;
using TransparencyLog.CaService.Errors;

namespace TransparencyLog.CaService.Grpc;

/// <summary>
/// Turns a <see cref="CaException"/> into the gRPC status <see cref="CaErrorMap"/> names, with the exception's
/// client-safe message as <c>grpc-message</c>. Anything else is left to Grpc.AspNetCore, which answers
/// <c>UNKNOWN</c> without exception text (detailed errors stay off).
/// </summary>
internal sealed class CaErrorInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (CaException e)
        {
            throw new RpcException(ToStatus(e.Code, e.Message));
        }
    }

    /// <summary>The gRPC status of a CA error.</summary>
    public static Status ToStatus(CaErrorCode code, string message) => new(CaErrorMap.For(code).GrpcStatus, message);
}
