using Npgsql;
using TransparencyLog.Witness.State;

namespace TransparencyLog.Witness.Tests.State;

/// <summary>The witness's pooled connections skip Npgsql's session reset unless the operator's connection string asks for it.</summary>
public sealed class WitnessStorageOptionsTests
{
    [Fact]
    public void DataSource_SkipsTheSessionReset_ByDefault()
    {
        var options = new WitnessStorageOptions { ConnectionString = "Host=db;Username=tlog_witness;Database=tlog" };

        var built = new NpgsqlConnectionStringBuilder(options.DataSourceConnectionString());

        Assert.True(built.NoResetOnClose);
        Assert.Equal("db", built.Host);
        Assert.Equal("tlog_witness", built.Username);
    }

    [Fact]
    public void DataSource_KeepsAnExplicitResetSetting()
    {
        var options = new WitnessStorageOptions { ConnectionString = "Host=db;Username=tlog_witness;No Reset On Close=false" };

        Assert.False(new NpgsqlConnectionStringBuilder(options.DataSourceConnectionString()).NoResetOnClose);
    }
}
