using Serilog;
using TransparencyLog.DevIssuer;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddSerilog(new LoggerConfiguration().MinimumLevel.Information().WriteTo.Console().CreateLogger(), dispose: true);
builder.AddDevIssuer();

var app = builder.Build();
app.MapDevIssuer();
app.Run();
