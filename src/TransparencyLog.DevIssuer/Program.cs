using TransparencyLog.DevIssuer;
using TransparencyLog.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("TransparencyLog development OIDC issuer", "Discovery, JWKS and a token endpoint for local use and tests; loopback only, never for production.");
builder.AddDevIssuer();

var app = builder.Build();
app.MapServiceDefaults();
app.MapDevIssuer();
app.Run();
