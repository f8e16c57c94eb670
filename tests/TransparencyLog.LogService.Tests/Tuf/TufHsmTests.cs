using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Keys.Pkcs11;
using TransparencyLog.Sigstore.Tuf;
using TransparencyLog.Testing;

namespace TransparencyLog.LogService.Tests.Tuf;

/// <summary>The TUF online key (snapshot, timestamp) in a PKCS#11 token, as <c>TLOG_KEYS=pkcs11 ./run.sh</c> configures it.</summary>
public sealed class TufHsmTests
{
    [Fact]
    public async Task Publish_OnlineKeyInHsm_SnapshotAndTimestampVerifyWithTheTokensKey()
    {
        using var token = LogSigner.FromSigner(Pkcs11Signer.Open(SoftHsm.Uri("ec-key")));
        await using var service = await TufService.StartAsync(new Dictionary<string, string>
        {
            ["SOFTHSM2_CONF"] = SoftHsm.ConfigurationFile,
            ["Tuf__OnlineKeyPath"] = SoftHsm.Uri("ec-key"),
        });
        using var keys = new TufTestRepository(token);
        var files = TufTestRepository.SigstoreTargets();

        // The root names the token's key for the online roles; the service only accepts it when that is its own key.
        using var response = await TufTestRepository.PublishAsync(service.Client, service.Token, TufTestRepository.Request(
            TufTestRepository.Signed(keys.BuildRoot(1), keys.RootKeys), TufTestRepository.Signed(TufTestRepository.BuildTargets(1, files), keys.TargetsKeys), files));
        Assert.True(
            response.IsSuccessStatusCode,
            $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{service.Process.Output}");

        var cache = Path.Combine(service.Directory, "client");
        TufUpdater.Bootstrap(cache, await service.Client.GetByteArrayAsync("/tuf/1.root.json"));
        var state = await new TufUpdater(service.Client, new Uri(service.Client.BaseAddress!, "/tuf/"), cache).RefreshAsync(DateTimeOffset.UtcNow);
        var online = TufKey.FromPublicKey(token.PublicKey).KeyId;
        Assert.Equal([online], state.Timestamp.Signatures.Select(static s => s.KeyId));
        Assert.Equal([online], state.Snapshot.Signatures.Select(static s => s.KeyId));
        Assert.DoesNotContain(SoftHsm.Pin, service.Process.Output, StringComparison.Ordinal);
    }
}
