using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Keys.Pkcs11;

namespace TransparencyLog.LogService.Logs;

/// <summary>Loads a log's signing key from its PEM file, or makes (and optionally keeps) a development key.</summary>
internal static class LogKeys
{
    public static LogSigner Load(LogOptions options, string logLabel)
    {
        if (Pkcs11Uri.IsPkcs11(options.PrivateKeyPath))
        {
            try
            {
                return LogSigner.FromSigner(Pkcs11Signer.Open(options.PrivateKeyPath));
            }
            catch (KeyLoadException e)
            {
                // The message names token and object, never the PIN.
                throw new InvalidOperationException($"cannot load the {logLabel} key: {e.Message}", e);
            }
        }

        if (!string.IsNullOrWhiteSpace(options.PrivateKeyPath))
        {
            var password = string.IsNullOrWhiteSpace(options.PrivateKeyPasswordFile)
                ? null
                : File.ReadAllText(options.PrivateKeyPasswordFile).TrimEnd('\r', '\n');
            try
            {
                return LogSigner.LoadPem(File.ReadAllText(options.PrivateKeyPath), password);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The loader's message names the problem without key material; the path tells the operator where.
                throw new InvalidOperationException($"cannot load the {logLabel} key from {options.PrivateKeyPath}: {e.Message}", e);
            }
        }

        var type = options.DevelopmentKeyType == "ed25519" ? LogKeyType.Ed25519 : LogKeyType.EcdsaP256;
        if (string.IsNullOrWhiteSpace(options.StateDirectory))
        {
            return LogSigner.Generate(type);
        }

        Directory.CreateDirectory(options.StateDirectory);
        var path = Path.Combine(options.StateDirectory, $"{logLabel}-key.pem");
        if (File.Exists(path))
        {
            return LogSigner.LoadPem(File.ReadAllText(path), null);
        }

        return WriteNewDevelopmentKey(path, type);
    }

    /// <summary>
    /// A new development key written to <paramref name="path"/> (owner-only, through a temporary file, never over an
    /// existing key).
    /// </summary>
    public static LogSigner WriteNewDevelopmentKey(string path, LogKeyType type)
    {
        var signer = LogSigner.Generate(type);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, signer.ExportPkcs8Pem(null));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: false);
        return signer;
    }

    /// <summary>The development key file of a Rekor v1 shard created by <c>shard rotate --state-directory</c>.</summary>
    public static string ShardKeyFile(string stateDirectory, long treeId) =>
        Path.Combine(stateDirectory, $"rekor-v1-shard-{treeId.ToString(System.Globalization.CultureInfo.InvariantCulture)}-key.pem");

    /// <summary>
    /// The private key of a Rekor v1 shard whose public key is <paramref name="spki"/>: the staged next key
    /// (<see cref="LogOptions.NextPrivateKeyPath"/>) or the shard's development key file; null when neither matches.
    /// </summary>
    public static LogSigner? FindShardKey(LogOptions options, long treeId, byte[] spki)
    {
        if (!string.IsNullOrWhiteSpace(options.NextPrivateKeyPath))
        {
            var next = Load(new LogOptions
            {
                Name = options.Name,
                PrivateKeyPath = options.NextPrivateKeyPath,
                PrivateKeyPasswordFile = options.NextPrivateKeyPasswordFile,
            }, "next rekor-v1 shard");
            if (next.PublicKeySpki.AsSpan().SequenceEqual(spki))
            {
                return next;
            }

            next.Dispose();
        }

        if (!string.IsNullOrWhiteSpace(options.StateDirectory) && File.Exists(ShardKeyFile(options.StateDirectory, treeId)))
        {
            var development = LogSigner.LoadPem(File.ReadAllText(ShardKeyFile(options.StateDirectory, treeId)), null);
            if (development.PublicKeySpki.AsSpan().SequenceEqual(spki))
            {
                return development;
            }

            development.Dispose();
        }

        return null;
    }
}
