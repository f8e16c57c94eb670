using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TransparencyLog.CaService.Issuance;

namespace TransparencyLog.CaService.Tests.Issuance;

public sealed class IssuanceRegistrationTests
{
    [Fact]
    public async Task AddIssuance_EphemeralBackend_HostStartsAndIssuerResolves()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["Issuance:Backend"] = "Ephemeral";
        builder.AddIssuance();
        using var host = builder.Build();

        await host.StartAsync();

        var issuer = host.Services.GetRequiredService<CertificateIssuer>();
        Assert.Equal(2, Assert.Single(issuer.TrustBundle).Count);
        await host.StopAsync();
    }

    [Fact]
    public async Task AddIssuance_FileBackendWithoutPaths_StartFails()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["Issuance:Backend"] = "File";
        builder.AddIssuance();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(error.Failures, f => f.Contains("ChainPath", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddIssuance_MissingChainFile_StartFails()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["Issuance:ChainPath"] = "/nonexistent/chain.pem";
        builder.Configuration["Issuance:PrivateKeyPath"] = "/nonexistent/key.pem";
        builder.Configuration["Issuance:PrivateKeyPasswordFile"] = "/nonexistent/password";
        builder.AddIssuance();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("chain.pem", error.Message, StringComparison.Ordinal);
    }
}
