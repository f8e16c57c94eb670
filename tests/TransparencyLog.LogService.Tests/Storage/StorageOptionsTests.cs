using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using TransparencyLog.LogService.Hosting;
using TransparencyLog.LogService.Storage;

namespace TransparencyLog.LogService.Tests.Storage;

/// <summary>The connection settings the service's data sources are built with.</summary>
public sealed class StorageOptionsTests
{
    [Fact]
    public void DataSourceConnectionString_Defaults_AutoPrepareWithoutResetOnClose()
    {
        var options = new StorageOptions { ConnectionString = "Host=db;Username=tlog_app;Database=transparency_log" };

        var built = new NpgsqlConnectionStringBuilder(options.DataSourceConnectionString());

        Assert.True(built.NoResetOnClose);
        Assert.Equal(32, built.MaxAutoPrepare);
        Assert.Equal("db", built.Host);
    }

    [Fact]
    public void DataSourceConnectionString_ConnectionStringAsksForReset_KeepsIt()
    {
        var options = new StorageOptions
        {
            ConnectionString = "Host=db;Username=tlog_app;No Reset On Close=false;Max Auto Prepare=5",
            StandbyConnectionString = "Host=standby;Username=tlog_app;No Reset On Close=false",
        };

        Assert.False(new NpgsqlConnectionStringBuilder(options.DataSourceConnectionString()).NoResetOnClose);
        Assert.Equal(5, new NpgsqlConnectionStringBuilder(options.DataSourceConnectionString()).MaxAutoPrepare);
        Assert.False(new NpgsqlConnectionStringBuilder(options.StandbyDataSourceConnectionString()).NoResetOnClose);
    }

    [Fact]
    public void AddStorage_UnknownStorageSetting_StopsStartupNamingIt()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = "Host=db;Username=tlog_app",
            ["Storage:TileCacheEntries"] = "8192",
        });
        builder.AddStorage();
        using var services = builder.Services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<IOptions<StorageOptions>>().Value);

        Assert.Contains("TileCacheEntries", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddStorage_KnownStorageSettings_Bind()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Storage:ConnectionString"] = "Host=db;Username=tlog_app",
            ["Storage:TileCacheBytes"] = "1048576",
        });
        builder.AddStorage();
        using var services = builder.Services.BuildServiceProvider();

        Assert.Equal(1048576, services.GetRequiredService<IOptions<StorageOptions>>().Value.TileCacheBytes);
    }
}
