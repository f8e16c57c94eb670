using TransparencyLog.LogService.CertificateTransparency;
using TransparencyLog.LogService.Explorer;
using TransparencyLog.LogService.Hosting;
using TransparencyLog.LogService.Integrity;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Rekor;
using TransparencyLog.LogService.RekorV2;
using TransparencyLog.LogService.Storage;
using TransparencyLog.LogService.Tiles;
using TransparencyLog.LogService.Timestamping;

if (args.Length > 0 && args[0] == "migrate")
{
    return await MigrateCommand.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "fsck")
{
    return await FsckCommand.RunAsync(args[1..]);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceLogging();
builder.AddStorage();
builder.AddLogs();
builder.AddRekorApi();
builder.AddRekorV2Api();
builder.AddCertificateTransparency();
builder.AddTimestamping();
builder.AddExplorer();

var app = builder.Build();
await app.OpenLogsAsync();
app.MapHealth();
app.MapRekorApi();
app.MapRekorV2Api();
app.MapTiles("", LogKind.RekorV1);
app.MapCertificateTransparency();
app.MapTimestamping();
app.MapExplorer();
await app.RunAsync();
return 0;

/// <summary>Entry point, visible to the in-process test host.</summary>
public partial class Program;
