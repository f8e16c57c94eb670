using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace TransparencyLog.CaService.Api;

/// <summary>
/// Lets one cleartext endpoint serve HTTP/1.1 and h2c with prior knowledge (the duplex port). Kestrel 10 picks the
/// protocol of an <see cref="HttpProtocols.Http1AndHttp2"/> endpoint from ALPN only, and without TLS always picks
/// HTTP/1.1. This connection middleware peeks (never consumes) the first bytes: a connection that opens with the
/// HTTP/2 client preface gets the ALPN result "h2" Kestrel would have negotiated, every other connection is left
/// alone. The marker feature says "application protocol chosen", not "encrypted": nothing here reads IsHttps.
/// </summary>
internal static class H2cPriorKnowledge
{
    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    public static ListenOptions UseH2cPriorKnowledge(this ListenOptions listen, TimeSpan prefaceTimeout)
    {
        listen.Use(next => async connection =>
        {
            bool isHttp2;
            // Bounded like request headers: a client that connects and sends nothing must not hold the connection.
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed))
            {
                timeout.CancelAfter(prefaceTimeout);
                try
                {
                    isHttp2 = await StartsWithPrefaceAsync(connection.Transport.Input, timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    connection.Abort();
                    return;
                }
            }

            if (isHttp2)
            {
                connection.Features.Set<ITlsConnectionFeature>(new NegotiatedH2());
                connection.Features.Set<ITlsApplicationProtocolFeature>(new NegotiatedH2());
            }

            await next(connection);
        });
        return listen;
    }

    /// <summary>Whether the connection opens with the HTTP/2 preface; reads only until the answer is known.</summary>
    internal static async Task<bool> StartsWithPrefaceAsync(PipeReader input, CancellationToken ct)
    {
        while (true)
        {
            var result = await input.ReadAsync(ct);
            var buffer = result.Buffer;
            var length = (int)Math.Min(buffer.Length, Preface.Length);
            var prefix = buffer.Slice(0, length).ToArray();
            bool? decided = !Preface[..length].SequenceEqual(prefix) ? false
                : length == Preface.Length ? true
                : result.IsCompleted || result.IsCanceled ? false
                : null;
            // Nothing consumed, so the protocol handler reads the same bytes again. Examined only while waiting for
            // more: bytes left examined would make the handler's first read wait for data that may never come.
            input.AdvanceTo(buffer.Start, decided is null ? buffer.End : buffer.Start);
            if (decided is { } isHttp2)
            {
                return isHttp2;
            }
        }
    }

    private sealed class NegotiatedH2 : ITlsConnectionFeature, ITlsApplicationProtocolFeature
    {
        public ReadOnlyMemory<byte> ApplicationProtocol => "h2"u8.ToArray();

        public X509Certificate2? ClientCertificate { get; set; }

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) =>
            Task.FromResult<X509Certificate2?>(null);
    }
}
