using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using TransparencyLog.Tests.Shared;

namespace TransparencyLog.CaService.Tests.Infrastructure;

/// <summary>The real CA (its Program.cs) on two real loopback ports: REST (HTTP/1.1) and gRPC (h2c).</summary>
public sealed class CaServer : IAsyncDisposable
{
    private readonly Factory _factory;

    private CaServer(Factory factory, int restPort, int grpcPort)
    {
        _factory = factory;
        RestUrl = $"http://127.0.0.1:{restPort}";
        GrpcUrl = $"http://127.0.0.1:{grpcPort}";
        Rest = new HttpClient { BaseAddress = new Uri(RestUrl) };
    }

    public string RestUrl { get; }

    public string GrpcUrl { get; }

    public HttpClient Rest { get; }

    public LogCapture Logs => _factory.Logs;

    public IServiceProvider Services => _factory.Services;

    /// <summary>Starts the CA; <paramref name="duplex"/> puts REST and gRPC on one port.</summary>
    public static CaServer Start(IDictionary<string, string?> settings, bool duplex = false)
    {
        var restPort = TestPorts.Next();
        var grpcPort = duplex ? restPort : TestPorts.Next();
        var all = new Dictionary<string, string?>(settings)
        {
            ["Api:RestUrl"] = $"http://127.0.0.1:{restPort}",
            ["Api:GrpcUrl"] = $"http://127.0.0.1:{grpcPort}",
            ["Serilog:MinimumLevel:Default"] = "Warning",
            ["Issuance:Backend"] = "Ephemeral",
        };
        foreach (var (key, value) in settings)
        {
            // Explicit Api URLs in the settings win over the chosen free ports.
            all[key] = value;
        }

        var factory = new Factory(all);
        factory.UseKestrel();
        factory.StartServer();
        return new CaServer(factory, restPort, grpcPort);
    }

    /// <summary>An HTTP/2 cleartext (prior knowledge) client for the gRPC port.</summary>
    public HttpClient CreateGrpcClient() => new()
    {
        BaseAddress = new Uri(GrpcUrl),
        DefaultRequestVersion = HttpVersion.Version20,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };

    public async ValueTask DisposeAsync()
    {
        Rest.Dispose();
        await _factory.DisposeAsync();
    }


    private sealed class Factory(Dictionary<string, string?> settings) : WebApplicationFactory<Program>
    {
        public LogCapture Logs { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            // Not Development: appsettings.Development.json trusts a dev issuer on the default port.
            builder.UseEnvironment("Testing");
            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings));
            builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        }
    }
}

/// <summary>Captures every log event (with its structured state) for assertions on audit records.</summary>
public sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<(string Category, EventId Id, string Message, IReadOnlyList<KeyValuePair<string, object?>> State)> Events { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
            owner.Events.Enqueue((category, eventId, formatter(state, exception), fields));
        }
    }
}
