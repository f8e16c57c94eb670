using System.CommandLine;
using System.Text.Json.Nodes;
using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Signing;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Cli.Keys;

/// <summary><c>generate-key-pair</c>: a key pair in cosign's formats, readable by cosign, skopeo and podman.</summary>
internal static class KeyCommands
{
    public static Command GenerateKeyPair(CliHost host)
    {
        var prefix = new Option<string>("--output-key-prefix")
        {
            Description = "Name of the files to write: PREFIX.key and PREFIX.pub.",
            HelpName = "PREFIX",
            DefaultValueFactory = static _ => "cosign",
        };
        var command = new Command(
            "generate-key-pair",
            "Generate an ECDSA P-256 key pair as cosign does: PREFIX.key (mode 0600) holds the private key encrypted with " +
            "scrypt and NaCl secretbox (PEM 'ENCRYPTED SIGSTORE PRIVATE KEY'), PREFIX.pub the public key (PEM " +
            "SubjectPublicKeyInfo). The password comes from COSIGN_PASSWORD (empty allowed), else it is asked for twice.\n\n" +
            "Examples:\n" +
            "  tlog generate-key-pair\n" +
            "  COSIGN_PASSWORD=... tlog generate-key-pair --output-key-prefix release");
        command.Options.Add(prefix);
        CommandActions.Set(command, host, CommandActions.OutputOption(), (parseResult, reporter, _) =>
        {
            var keyPath = parseResult.GetRequiredValue(prefix) + ".key";
            var publicPath = parseResult.GetRequiredValue(prefix) + ".pub";
            foreach (var path in new[] { keyPath, publicPath })
            {
                if (File.Exists(path))
                {
                    throw new CliException(ExitCodes.Usage, $"'{path}' already exists; remove it or choose another --output-key-prefix");
                }
            }

            var password = KeyPassword.ForWriting(host.Context);
            using var key = ArtifactSigningKey.Generate();
            WritePrivateKey(keyPath, key.ExportCosignPem(password));
            CommandActions.WriteFileAtomically(publicPath, key.PublicKeyPem);
            reporter.Line($"Private key written to {keyPath}");
            reporter.Line($"Public key written to {publicPath}");
            reporter.Result(new JsonObject { ["ok"] = true, ["privateKey"] = keyPath, ["publicKey"] = publicPath });
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    /// <summary>Creates the file readable by its owner only before any key byte is written to it.</summary>
    private static void WritePrivateKey(string path, string pem)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        Directory.CreateDirectory(directory);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(pem);
    }
}
