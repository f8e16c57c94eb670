using System.Security.Cryptography.X509Certificates;

namespace TransparencyLog.LogService.Tests.Timestamping;

/// <summary>One development-backend server per test class; tests share only its (read-only) trust root.</summary>
public sealed class TsaServerFixture : IAsyncLifetime
{
    private TsaTestServer? _server;

    internal TsaTestServer Server => _server ?? throw new InvalidOperationException("fixture not started");

    internal IReadOnlyList<X509Certificate2> Chain { get; private set; } = [];

    public async Task InitializeAsync()
    {
        _server = await TsaTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Timestamping:AcceptedPolicyOids:0"] = "1.3.6.1.4.1.57264.2.99",
        });
        Chain = await _server.GetChainAsync();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
