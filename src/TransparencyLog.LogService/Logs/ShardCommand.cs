using System.Globalization;
using Npgsql;
using TransparencyLog.Hosting;
using TransparencyLog.LogService.Storage;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.LogService.Logs;

/// <summary>
/// <c>TransparencyLog.LogService shard rotate --connection CS [--password-file FILE] --name NAME
/// (--key FILE|pkcs11:URI [--key-password-file FILE] | --state-directory DIR) [--tree-id N]</c>: freezes the active
/// Rekor v1 log of NAME at its current head and starts its next shard (new tree ID, new key) in one transaction
/// (<c>log_rotate_shard</c>, migration 0008). Running services follow within a second, or at once on their next
/// append, when they hold the new key: the staged <c>Logs:Rekor:NextPrivateKeyPath</c> (<c>--key</c>), or in
/// development the key this command writes to <c>DIR/rekor-v1-shard-TREEID-key.pem</c>, the service's
/// <c>Logs:Rekor:StateDirectory</c>. The connection is the migrate role's: the service role may not rotate.
/// Exit codes: 0 rotated, 1 refused or failed, 2 usage.
/// </summary>
internal static class ShardCommand
{
    private const string Usage =
        "usage: shard rotate --connection CS [--password-file FILE] --name NAME (--key FILE|pkcs11:URI [--key-password-file FILE] | --state-directory DIR) [--tree-id N]";

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        string? connection = Environment.GetEnvironmentVariable("MIGRATE_CONNECTION");
        string? passwordFile = null;
        string? name = null;
        string? key = null;
        string? keyPasswordFile = null;
        string? stateDirectory = null;
        long? treeId = null;
        try
        {
            if (args.Length == 0 || args[0] != "rotate")
            {
                throw new ArgumentException("the only shard command is rotate");
            }

            for (var i = 1; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--connection": connection = Next(); break;
                    case "--password-file": passwordFile = Next(); break;
                    case "--name": name = Next(); break;
                    case "--key": key = Next(); break;
                    case "--key-password-file": keyPasswordFile = Next(); break;
                    case "--state-directory": stateDirectory = Next(); break;
                    case "--tree-id": treeId = long.Parse(Next(), NumberStyles.None, CultureInfo.InvariantCulture); break;
                    default: throw new ArgumentException($"unknown option {args[i]}");
                }
            }

            if (string.IsNullOrEmpty(connection) || string.IsNullOrEmpty(name) || (key is null) == (stateDirectory is null) || treeId is 0)
            {
                throw new ArgumentException("give --connection, --name, and exactly one of --key and --state-directory");
            }
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
        {
            await error.WriteLineAsync($"shard: {e.Message}");
            await error.WriteLineAsync(Usage);
            return 2;
        }

        try
        {
            connection = PostgresConnections.WithPasswordFile(connection!, passwordFile);

            var newTreeId = treeId ?? LogRegistry.RandomTreeId();
            var options = new LogOptions { Name = name!, PrivateKeyPath = key, PrivateKeyPasswordFile = keyPasswordFile };
            using var signer = key is not null ? LogKeys.Load(options, "new rekor-v1 shard") : WriteDevelopmentKey(stateDirectory!, newTreeId);
            var now = DateTimeOffset.UtcNow;
            var shard = new LogInstance(0, name!, LogKind.RekorV1, newTreeId, signer, options);

            await using var dataSource = NpgsqlDataSource.Create(connection!);
            await using var db = await dataSource.OpenConnectionAsync();
            await using (var rotate = new NpgsqlCommand("SELECT log_rotate_shard($1, $2, $3, $4, $5)", db))
            {
                rotate.Parameters.AddWithValue(name!);
                rotate.Parameters.AddWithValue(newTreeId);
                rotate.Parameters.AddWithValue(signer.PublicKeySpki);
                rotate.Parameters.AddWithValue(await shard.SignCheckpointAsync(0, Rfc6962.EmptyRoot, now, CancellationToken.None));
                rotate.Parameters.AddWithValue(now);
                await rotate.ExecuteScalarAsync();
            }

            await using var read = new NpgsqlCommand(
                "SELECT tree_id, tree_size, shard_start FROM logs WHERE name = $1 AND frozen_at IS NOT NULL ORDER BY shard_start DESC, id DESC LIMIT 1", db);
            read.Parameters.AddWithValue(name!);
            await using var reader = await read.ExecuteReaderAsync();
            await reader.ReadAsync();
            var (frozenTree, frozenSize, frozenStart) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"frozen: tree {frozenTree}, size {frozenSize}, global indices {frozenStart} to {frozenStart + frozenSize - 1}, at {now.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}"));
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"active: tree {newTreeId}, first global index {frozenStart + frozenSize}, log ID {signer.LogIdHex}"));
            return 0;
        }
        catch (PostgresException e)
        {
            // The function's own refusals (no such log, same key) are safe to show; they name no secret.
            await error.WriteLineAsync($"shard rotate refused: {e.MessageText}");
            return 1;
        }
        catch (Exception e) when (e is NpgsqlException or IOException or UnauthorizedAccessException or InvalidOperationException or KeyLoadException)
        {
            await error.WriteLineAsync($"shard rotate failed: {e.Message}");
            return 1;
        }
    }

    /// <summary>A development key for the new shard, written where the service's <c>StateDirectory</c> finds it.</summary>
    private static LogSigner WriteDevelopmentKey(string stateDirectory, long treeId)
    {
        Directory.CreateDirectory(stateDirectory);
        return LogKeys.WriteNewDevelopmentKey(LogKeys.ShardKeyFile(stateDirectory, treeId), LogKeyType.EcdsaP256);
    }
}
