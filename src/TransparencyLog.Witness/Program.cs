using TransparencyLog.Hosting;
using TransparencyLog.Witness.Checkpoints;
using TransparencyLog.Witness.Cosigning;
using TransparencyLog.Witness.State;

if (args.Length > 0 && args[0] == "verifier-key")
{
    return VerifierKeyCommand.Run(args[1..]);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults("TransparencyLog witness", "A c2sp.org/tlog-witness witness: cosigns checkpoints of the logs it is configured for, once they are proved consistent with what it cosigned before.")
    .AddWitnessStateCheck();
builder.AddWitnessState();
builder.AddCosigning();
builder.AddCheckpoints();

var app = builder.Build();
app.MapServiceDefaults();
app.MapCosigning();
app.MapCheckpoints();
app.MapLatestCheckpoint();
await app.RunAsync();
return 0;

/// <summary>Entry point, visible to the in-process test host.</summary>
public partial class Program;
