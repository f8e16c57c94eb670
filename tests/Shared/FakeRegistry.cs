using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace TransparencyLog.Tests.Shared;

/// <summary>
/// A registry that misbehaves on purpose (a real one will not): other bytes than the digest, 429/503 answers, a
/// Bearer token service. Each test gives the request handler.
/// </summary>
internal sealed class FakeRegistry : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeRegistry(WebApplication app) => _app = app;

    public string Address => new Uri(_app.Urls.First()).Authority;

    public int Requests;

    public static async Task<FakeRegistry> StartAsync(Func<FakeRegistry, HttpContext, Task> handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var registry = new FakeRegistry(app);
        app.Run(context =>
        {
            Interlocked.Increment(ref registry.Requests);
            return handler(registry, context);
        });
        await app.StartAsync();
        return registry;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
