using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Witness.Cosigning;

/// <summary>
/// <c>verifier-key</c>: prints the witness's C2SP verifier key and exits, making the development key first if there is
/// none, so a deployment script can write the witness into the log's policy before either service starts.
/// </summary>
internal static class VerifierKeyCommand
{
    public static int Run(string[] args)
    {
        var configuration = new ConfigurationBuilder()
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();
        var options = configuration.GetSection(WitnessOptions.Section).Get<WitnessOptions>() ?? new WitnessOptions();
        if (string.IsNullOrWhiteSpace(options.PrivateKeyPath) && string.IsNullOrWhiteSpace(options.StateDirectory))
        {
            Console.Error.WriteLine("error: set Witness:PrivateKeyPath or Witness:StateDirectory (a fresh key per run would not match the running witness)");
            return 2;
        }

        try
        {
            using var key = WitnessKey.Load(options);
            Console.Out.WriteLine(new Cosigner(options.Name, key).VerifierKey);
            return 0;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: Witness:Name: {e.Message}");
            return 2;
        }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
