using TransparencyLog.CaService.Api;
using TransparencyLog.CaService.Grpc;
using TransparencyLog.CaService.Identity;
using TransparencyLog.CaService.Issuance;
using TransparencyLog.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("TransparencyLog CA", "Fulcio v2 certificate authority: short-lived code-signing certificates for OIDC identities, with SCTs from the CT log.")
    .AddIssuanceReadiness();
builder.AddHeaderLimits();
builder.AddIdentity();
builder.AddIssuance();
builder.AddCaApi();
builder.AddCaGrpc();
builder.AddCaApiDescriptions();

var app = builder.Build();
app.UseHeaderLimits(HeaderLimitRejection.WriteAsync);
app.MapServiceDefaults().OnTransport(CaTransport.Rest);
app.UseFulcioApiMetrics();
app.UseCaApi();
app.MapCaRestApi();
app.MapLegacyRestApi();
app.MapCaGrpc();
app.Run();
