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
    public void DataSourceConnectionString_PasswordFile_SetsThePasswordWithoutItsLineBreak()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "s3cret\n");
            var options = new StorageOptions { ConnectionString = "Host=db;Username=tlog_app", PasswordFile = file, StandbyConnectionString = "Host=standby;Username=tlog_app" };

            Assert.Equal("s3cret", new NpgsqlConnectionStringBuilder(options.DataSourceConnectionString()).Password);
            Assert.Equal("s3cret", new NpgsqlConnectionStringBuilder(options.StandbyDataSourceConnectionString()).Password);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void AddStorage_UnknownStorageSetting_StopsStartupNamingIt()
    {
        using var services = WithStorageSettings(("Storage:TileCacheEntries", "8192"));

        var error = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<IOptions<StorageOptions>>().Value);

        Assert.Contains("TileCacheEntries", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddStorage_KnownStorageSettings_Bind()
    {
        using var services = WithStorageSettings(("Storage:TileCacheBytes", "1048576"));

        Assert.Equal(1048576, services.GetRequiredService<IOptions<StorageOptions>>().Value.TileCacheBytes);
    }

    /// <summary>The service's storage registration over a configuration with a connection string and <paramref name="settings"/>.</summary>
    private static ServiceProvider WithStorageSettings(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(
            [new("Storage:ConnectionString", "Host=db;Username=tlog_app"), .. settings.Select(static s => new KeyValuePair<string, string?>(s.Key, s.Value))]);
        builder.AddStorage();
        return builder.Services.BuildServiceProvider();
    }
}
