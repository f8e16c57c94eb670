using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace TransparencyLog.Cli.Monitoring;

/// <summary>
/// How `dotnet ef dbcontext optimize` builds the context to generate Monitoring/Compiled/ (the compiled model and the
/// precompiled queries Native AOT needs; scripts/monitor-ef-codegen.sh). Compiled only into that design-time build
/// (TlogEfDesign=true), never into tlog. It never connects: the connection string only selects the provider.
/// </summary>
internal sealed class MonitorDbContextDesignFactory : IDesignTimeDbContextFactory<MonitorDbContext>
{
    public MonitorDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<MonitorDbContext>().UseNpgsql("Host=design-time-only").Options);
}
