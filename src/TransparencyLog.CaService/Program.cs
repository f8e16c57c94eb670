using TransparencyLog.CaService.Api;
using TransparencyLog.CaService.Grpc;
using TransparencyLog.CaService.Identity;
using TransparencyLog.CaService.Issuance;
using TransparencyLog.CaService.Logging;

var builder = WebApplication.CreateBuilder(args);
builder.AddCaLogging();
builder.AddIdentity();
builder.AddIssuance();
builder.AddCaApi();
builder.AddCaGrpc();

var app = builder.Build();
app.UseCaApi();
app.MapCaRestApi();
app.MapCaGrpc();
app.Run();
