using System.Net;
using System.Text.Json;
using TransparencyLog.LogService.Logs;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Keys.Pkcs11;
using TransparencyLog.Testing;

namespace TransparencyLog.LogService.Tests.Logs;

/// <summary>
/// The production key path of <c>shard rotate</c> (docs/rotation.md): the operator's key, an encrypted PEM file or a
/// <c>pkcs11:</c> URI, is staged on the replicas as <c>Logs:Rekor:NextPrivateKeyPath</c>, the rotation names the same
/// key with <c>--key</c>, and the new shard signs with it, with no development key written anywhere.
/// </summary>
public sealed class ShardRotationKeyTests
{
    private const string Password = "shard-key-password-7f3a";

    [Fact]
    public async Task ShardRotate_OperatorPemKey_StagedReplicaSignsWithItUnstagedRefusesAppendsRestartKeepsIt()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("shardpem");
        var (admin, app) = testDatabase;
        var keys = Directory.CreateTempSubdirectory("tlog-shardpem-").FullName;
        var operatorDirectory = Directory.CreateTempSubdirectory("tlog-operator-").FullName;
        var pem = Path.Combine(operatorDirectory, "next-shard.pem");
        var passwordFile = Path.Combine(operatorDirectory, "next-shard.password");
        using (var key = LogSigner.Generate(LogKeyType.EcdsaP256))
        {
            await File.WriteAllTextAsync(pem, key.ExportPkcs8Pem(Password));
        }

        await File.WriteAllTextAsync(passwordFile, Password + "\n");
        LogPublicKey expected;
        using (var loaded = LogSigner.LoadPem(await File.ReadAllTextAsync(pem), Password))
        {
            expected = LogPublicKey.FromSpki(loaded.PublicKeySpki);
        }

        using var entries = new Entries();

        var staged = new Dictionary<string, string>
        {
            ["Logs__Rekor__NextPrivateKeyPath"] = pem,
            ["Logs__Rekor__NextPrivateKeyPasswordFile"] = passwordFile,
        };
        var replica = await LogServiceProcess.StartAsync(app, keys, settings: staged);
        var name = replica.LogName;
        try
        {
            await using var unstaged = await LogServiceProcess.StartAsync(app, keys);
            var first = await AppendAsync(replica, entries);
            var oldKey = LogPublicKey.FromPem(await replica.Client.GetStringAsync("/api/v1/log/publicKey"));
            Assert.NotEqual(expected.LogIdHex, oldKey.LogIdHex);

            var output = new StringWriter();
            var error = new StringWriter();
            Assert.True(0 == await ShardCommand.RunAsync(
                ["rotate", "--connection", admin, "--name", name, "--key", pem, "--key-password-file", passwordFile], output, error), error.ToString());
            Assert.Contains("log ID " + expected.LogIdHex, output.ToString(), StringComparison.Ordinal);
            // The operator's key is used as given: no development key file appears for the new shard.
            Assert.DoesNotContain(Directory.GetFiles(keys), f => Path.GetFileName(f).StartsWith("rekor-v1-shard-", StringComparison.Ordinal));

            // The replica holding the staged key appends to the new shard (its first append after the rotation follows
            // it), signing with the operator's key.
            var second = await AppendAsync(replica, entries);
            var newTree = JsonDocument.Parse(await replica.Client.GetStringAsync("/api/v1/log")).RootElement.GetProperty("treeID").GetString()!;
            Assert.Equal(1, second.LogIndex);
            second.AssertVerifiesInShard(expected, $"{name} - {newTree}", 1);
            Assert.Equal(expected.Spki, LogPublicKey.FromPem(await replica.Client.GetStringAsync("/api/v1/log/publicKey")).Spki);

            // A replica without the staged key keeps reading the old shard and refuses appends, naming what is missing.
            using (var refused = await unstaged.Client.PostAsync("/api/v1/log/entries", Json(entries.NewHashedRekord().Json)))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                Assert.Contains("NextPrivateKeyPath", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }

            var read = RekorEntry.Parse(await unstaged.Client.GetStringAsync("/api/v1/log/entries?logIndex=0"));
            read.AssertVerifiesInShard(oldKey, first.Checkpoint.Split('\n')[0], 0);
            Assert.DoesNotContain(Password, unstaged.Output, StringComparison.Ordinal);
        }
        finally
        {
            await replica.DisposeAsync();
        }

        Assert.DoesNotContain(Password, replica.Output, StringComparison.Ordinal);

        // Runbook step 4: the new key becomes PrivateKeyPath and NextPrivateKeyPath is cleared; appends go on with it.
        await using (var restarted = await LogServiceProcess.StartAsync(app, keys, settings: new Dictionary<string, string>
        {
            ["Logs__Rekor__PrivateKeyPath"] = pem,
            ["Logs__Rekor__PrivateKeyPasswordFile"] = passwordFile,
        }))
        {
            var third = await AppendAsync(restarted, entries);
            Assert.Equal(2, third.LogIndex);
            Assert.Equal(expected.LogIdHex, third.LogId);
            Assert.True(third.SignedEntryTimestampVerifies(expected));
            Assert.DoesNotContain(Password, restarted.Output, StringComparison.Ordinal);
        }

        Directory.Delete(keys, recursive: true);
        Directory.Delete(operatorDirectory, recursive: true);
    }

    [Fact]
    public async Task ShardRotate_KeyInHsm_NewShardSignsWithTheTokensKeyWithoutEchoingThePin()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("shardhsm");
        var (admin, app) = testDatabase;
        var keys = Directory.CreateTempSubdirectory("tlog-shardhsm-").FullName;
        var uri = SoftHsm.Uri("ca-key");
        using var hsmKey = Pkcs11Signer.Open(uri);
        var expected = LogPublicKey.FromSpki(hsmKey.PublicKeySpki.ToArray());
        using var entries = new Entries();

        await using var service = await LogServiceProcess.StartAsync(app, keys, settings: new Dictionary<string, string>
        {
            ["SOFTHSM2_CONF"] = SoftHsm.ConfigurationFile,
            ["Logs__Rekor__NextPrivateKeyPath"] = uri,
        });
        await AppendAsync(service, entries);

        var output = new StringWriter();
        var error = new StringWriter();
        Assert.True(0 == await ShardCommand.RunAsync(["rotate", "--connection", admin, "--name", service.LogName, "--key", uri], output, error), error.ToString());
        Assert.Contains("log ID " + expected.LogIdHex, output.ToString(), StringComparison.Ordinal);

        var entry = await AppendAsync(service, entries);
        var newTree = JsonDocument.Parse(await service.Client.GetStringAsync("/api/v1/log")).RootElement.GetProperty("treeID").GetString()!;
        entry.AssertVerifiesInShard(expected, $"{service.LogName} - {newTree}", 1);
        Assert.DoesNotContain(SoftHsm.Pin, output.ToString() + error, StringComparison.Ordinal);
        Assert.DoesNotContain(SoftHsm.Pin, service.Output, StringComparison.Ordinal);

        // A key the token does not hold: refused with the token's reason, nothing rotated.
        error = new StringWriter();
        var missing = $"pkcs11:token={SoftHsm.Token};object=no-such-key?module-path={SoftHsm.Module}&pin-source=file:{uri[(uri.IndexOf("file:", StringComparison.Ordinal) + 5)..]}";
        Assert.Equal(1, await ShardCommand.RunAsync(["rotate", "--connection", admin, "--name", service.LogName, "--key", missing], TextWriter.Null, error));
        Assert.Contains("no-such-key", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(SoftHsm.Pin, error.ToString(), StringComparison.Ordinal);
        Assert.Equal(newTree, JsonDocument.Parse(await service.Client.GetStringAsync("/api/v1/log")).RootElement.GetProperty("treeID").GetString());
        Directory.Delete(keys, recursive: true);
    }

    private static async Task<RekorEntry> AppendAsync(LogServiceProcess service, Entries entries)
    {
        using var response = await service.Client.PostAsync("/api/v1/log/entries", Json(entries.NewHashedRekord().Json));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"expected 201, got {(int)response.StatusCode}: {body}");
        return RekorEntry.Parse(body);
    }

    private static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
