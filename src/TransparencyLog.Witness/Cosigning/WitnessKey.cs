using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.Witness.Cosigning;

/// <summary>Loads the witness's Ed25519 key from its PEM file, or makes (and optionally keeps) a development key.</summary>
internal static class WitnessKey
{
    public static LogSigner Load(WitnessOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.PrivateKeyPath))
        {
            var password = string.IsNullOrWhiteSpace(options.PrivateKeyPasswordFile)
                ? null
                : File.ReadAllText(options.PrivateKeyPasswordFile).TrimEnd('\r', '\n');
            LogSigner key;
            try
            {
                key = LogSigner.LoadPem(File.ReadAllText(options.PrivateKeyPath), password);
            }
            catch (Exception e) when (e is KeyLoadException or IOException or FormatException or ArgumentException)
            {
                // The loader's message names the problem without key material; the path tells the operator where.
                throw new InvalidOperationException($"cannot load the witness key from {options.PrivateKeyPath}: {e.Message}", e);
            }

            return key.KeyType == LogKeyType.Ed25519
                ? key
                : throw new InvalidOperationException($"the witness key in {options.PrivateKeyPath} is not Ed25519 (c2sp.org/tlog-cosignature v1)");
        }

        if (string.IsNullOrWhiteSpace(options.StateDirectory))
        {
            return LogSigner.Generate(LogKeyType.Ed25519);
        }

        Directory.CreateDirectory(options.StateDirectory);
        var path = Path.Combine(options.StateDirectory, "witness-key.pem");
        if (File.Exists(path))
        {
            return LogSigner.LoadPem(File.ReadAllText(path), null);
        }

        var signer = LogSigner.Generate(LogKeyType.Ed25519);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, signer.ExportPkcs8Pem(null));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: false);
        return signer;
    }
}
