using System.Diagnostics;
using System.Text.Json;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Keys.Pkcs11;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.LogService.Tests.Logs;

public sealed class LogKeyTests
{
    [Theory]
    [InlineData("ec")]
    [InlineData("ed25519")]
    public async Task Service_EncryptedPemKeyFromOpenssl_SignsWithThatKey(string type)
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("keys");
        var (_, app) = testDatabase;
        var directory = Directory.CreateTempSubdirectory("tlog-pem-").FullName;
        var key = Path.Combine(directory, "log.pem");
        var password = Path.Combine(directory, "password");
        await File.WriteAllTextAsync(password, "correct horse battery staple\n");
        var generate = type == "ec"
            ? $"genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-256-cbc -pass file:{password} -out {key}"
            : $"genpkey -algorithm ED25519 -aes-256-cbc -pass file:{password} -out {key}";
        Openssl(generate);
        var publicPem = Openssl($"pkey -in {key} -passin file:{password} -pubout");

        await using var service = await LogServiceProcess.StartAsync(app, directory, settings: new Dictionary<string, string>
        {
            ["Logs__Rekor__PrivateKeyPath"] = key,
            ["Logs__Rekor__PrivateKeyPasswordFile"] = password,
        });

        var served = LogPublicKey.FromPem(await service.Client.GetStringAsync("/api/v1/log/publicKey"));
        Assert.Equal(LogPublicKey.FromPem(publicPem).Spki, served.Spki);
        using var entries = new Entries();
        using var response = await service.Client.PostAsync("/api/v1/log/entries", new StringContent(entries.NewHashedRekord().Json, System.Text.Encoding.UTF8, "application/json"));
        var entry = RekorEntry.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(new NoteVerifier(service.LogName, served).Verify(entry.Checkpoint));
        Assert.True(entry.SignedEntryTimestampVerifies(served));
        Assert.DoesNotContain("correct horse", service.Output, StringComparison.Ordinal);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Service_LogKeyInHsm_CheckpointAndSetVerifyWithTheTokensKey()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("hsmkey");
        var (_, app) = testDatabase;
        var directory = Directory.CreateTempSubdirectory("tlog-hsm-").FullName;
        using var hsmKey = Pkcs11Signer.Open(SoftHsm.Uri("log-key"));
        var expected = LogPublicKey.FromSpki(hsmKey.PublicKeySpki.ToArray());

        await using var service = await LogServiceProcess.StartAsync(app, directory, settings: new Dictionary<string, string>
        {
            ["SOFTHSM2_CONF"] = SoftHsm.ConfigurationFile,
            ["Logs__Rekor__PrivateKeyPath"] = SoftHsm.Uri("log-key"),
        });

        var served = LogPublicKey.FromPem(await service.Client.GetStringAsync("/api/v1/log/publicKey"));
        Assert.Equal(expected.Spki, served.Spki);
        using var entries = new Entries();
        using var response = await service.Client.PostAsync("/api/v1/log/entries", new StringContent(entries.NewHashedRekord().Json, System.Text.Encoding.UTF8, "application/json"));
        var entry = RekorEntry.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(new NoteVerifier(service.LogName, expected).Verify(entry.Checkpoint));
        Assert.True(entry.SignedEntryTimestampVerifies(expected));
        Assert.DoesNotContain(SoftHsm.Pin, service.Output, StringComparison.Ordinal);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Service_LogKeyInHsmWithWrongPin_RefusesToStartWithoutEchoingThePin()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("hsmpin");
        var (_, app) = testDatabase;
        var directory = Directory.CreateTempSubdirectory("tlog-hsm-").FullName;
        var uri = $"pkcs11:token={SoftHsm.Token};object=log-key?module-path={SoftHsm.Module}&x-pin-env=TEST_HSM_PIN";

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => LogServiceProcess.StartAsync(app, directory, settings: new Dictionary<string, string>
        {
            ["SOFTHSM2_CONF"] = SoftHsm.ConfigurationFile,
            ["TEST_HSM_PIN"] = "9999-wrong",
            ["Logs__Rekor__PrivateKeyPath"] = uri,
        }));

        Assert.Contains("CKR_PIN_INCORRECT", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("9999-wrong", error.Message, StringComparison.Ordinal);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Service_ExistingLogWithAnotherKey_RefusesToStart()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("rekey");
        var (_, app) = testDatabase;
        var first = Directory.CreateTempSubdirectory("tlog-keys-").FullName;
        var second = Directory.CreateTempSubdirectory("tlog-keys-").FullName;
        await using (await LogServiceProcess.StartAsync(app, first))
        {
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => LogServiceProcess.StartAsync(app, second));
        Assert.Contains("a log never changes its key", error.Message, StringComparison.Ordinal);
        Directory.Delete(first, recursive: true);
        Directory.Delete(second, recursive: true);
    }

    [Fact]
    public async Task Service_WrongKeyPassword_RefusesToStartWithoutEchoingThePassword()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("badpass");
        var (_, app) = testDatabase;
        var directory = Directory.CreateTempSubdirectory("tlog-pem-").FullName;
        var key = Path.Combine(directory, "log.pem");
        var password = Path.Combine(directory, "password");
        await File.WriteAllTextAsync(password, "not-the-password\n");
        Openssl($"genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-256-cbc -pass pass:the-real-one -out {key}");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => LogServiceProcess.StartAsync(app, directory, settings: new Dictionary<string, string>
        {
            ["Logs__Rekor__PrivateKeyPath"] = key,
            ["Logs__Rekor__PrivateKeyPasswordFile"] = password,
        }));
        Assert.Contains("cannot load the rekor-v1 key", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("the-real-one", error.Message, StringComparison.Ordinal);
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Checkpoint_QuietLog_IsResignedPeriodicallyForTheSameHead()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("refresh");
        var (_, app) = testDatabase;
        var directory = Directory.CreateTempSubdirectory("tlog-keys-").FullName;
        await using var service = await LogServiceProcess.StartAsync(app, directory, settings: new Dictionary<string, string>
        {
            ["Logs__Rekor__CheckpointRefreshSeconds"] = "1",
        });
        var key = LogPublicKey.FromPem(await service.Client.GetStringAsync("/api/v1/log/publicKey"));
        var before = await CheckpointAsync(service);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var after = await CheckpointAsync(service);

        Assert.NotEqual(before, after);
        var verifier = new NoteVerifier(service.LogName, key);
        Assert.True(verifier.TryVerifyCheckpoint(before, out var old));
        Assert.True(verifier.TryVerifyCheckpoint(after, out var fresh));
        Assert.Equal(old!.Size, fresh!.Size);
        Assert.Equal(old.RootHash, fresh.RootHash);
        Directory.Delete(directory, recursive: true);
    }

    private static async Task<string> CheckpointAsync(LogServiceProcess service)
    {
        using var info = JsonDocument.Parse(await service.Client.GetStringAsync("/api/v1/log"));
        return info.RootElement.GetProperty("signedTreeHead").GetString()!;
    }

    private static string Openssl(string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("openssl", arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"openssl {arguments}: {error}");
        return output;
    }
}
