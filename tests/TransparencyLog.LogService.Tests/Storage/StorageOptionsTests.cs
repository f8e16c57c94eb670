using Npgsql;
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
}
