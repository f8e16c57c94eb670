using TransparencyLog.Hosting;
using TransparencyLog.LogService.CertificateTransparency;
using TransparencyLog.LogService.Explorer;
using TransparencyLog.LogService.Hosting;
using TransparencyLog.LogService.Http;
using TransparencyLog.LogService.Integrity;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Rekor;
using TransparencyLog.LogService.RekorV2;
using TransparencyLog.LogService.Storage;
using TransparencyLog.LogService.Streaming;
using TransparencyLog.LogService.Tiles;
using TransparencyLog.LogService.Timestamping;
using TransparencyLog.LogService.Witnessing;
using TransparencyLog.LogService.Tuf;

if (args.Length > 0 && args[0] == "migrate")
{
    return await MigrateCommand.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "fsck")
{
    return await FsckCommand.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "shard")
{
    return await ShardCommand.RunAsync(args[1..], Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("TransparencyLog log service", "Rekor v1 and v2 APIs, C2SP tlog-tiles, the RFC 6962 certificate-transparency log and the RFC 3161 timestamp authority.");
builder.AddHeaderLimits();
builder.AddStorage();
builder.AddLogs();
builder.AddRekorApi();
builder.AddRekorV2Api();
builder.AddCertificateTransparency();
builder.AddTimestamping();
builder.AddLogServiceApiDescriptions();
builder.AddExplorer();
builder.AddWitnessing();
builder.AddEntryStream();
builder.AddTuf();

var app = builder.Build();
app.UseHeaderLimits(HeaderLimitRejection.WriteAsync);
app.MapServiceDefaults();
app.UseRekorApiMetrics();
await app.OpenLogsAsync();
app.MapRekorApi();
app.MapRekorV2Api();
app.MapTiles("", LogKind.RekorV1);
app.MapShardTiles();
app.MapCertificateTransparency();
app.MapTimestamping();
app.MapExplorer();
app.MapEntryStream();
app.MapTuf();
await app.RunAsync();
return 0;

/// <summary>Entry point, visible to the in-process test host.</summary>
public partial class Program;
