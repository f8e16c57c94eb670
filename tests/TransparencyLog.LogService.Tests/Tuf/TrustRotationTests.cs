using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Tuf;
using TransparencyLog.Sigstore.Verification;

namespace TransparencyLog.LogService.Tests.Tuf;

/// <summary>
/// Rotations published through the TUF repository, end to end: the service's material changes, key holders publish
/// a new trusted root (the old entry closed, the new one appended), and a client that only refreshes from the mirror
/// verifies evidence made before and after the rotation, while evidence from the retired material after its end fails.
/// </summary>
public sealed class TrustRotationTests
{
    private static async Task<byte[]> TimestampAsync(HttpClient client, byte[] signature)
    {
        using var response = await client.PostAsJsonAsync("/api/v1/timestamp", new JsonObject
        {
            ["artifactHash"] = Convert.ToBase64String(SHA256.HashData(signature)),
            ["hashAlgorithm"] = "sha256",
        });
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.IsSuccessStatusCode, Encoding.UTF8.GetString(body));
        return body;
    }

    private static async Task<CertificateAuthority> TsaAsync(HttpClient client, ValidityPeriod validFor)
    {
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(await client.GetStringAsync("/api/v1/timestamp/certchain"));
        return new CertificateAuthority(
            new DistinguishedName("TransparencyLog test", chain[0].GetNameInfo(X509NameType.SimpleName, false)),
            "https://tsa.example/api/v1/timestamp",
            [.. chain.Select(static c => c.RawData)],
            validFor);
    }

    private static async Task<(int Status, JsonObject Body)> PublishAsync(TufService service, JsonObject request)
    {
        using var response = await TufTestRepository.PublishAsync(service.Client, service.Token, request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length > 0 ? JsonNode.Parse(text)!.AsObject() : []);
    }

    private static async Task<TrustedRoot> RefreshTrustedRootAsync(TufService service, string cache)
    {
        var updater = new TufUpdater(service.Client, new Uri(service.Client.BaseAddress!, "/tuf/"), cache);
        var state = await updater.RefreshAsync(DateTimeOffset.UtcNow);
        return TrustedRoot.Parse(Encoding.UTF8.GetString(await updater.GetTargetAsync(state, "trusted_root.json")));
    }

    [Fact]
    public async Task TsaRotation_NewChainPublishedThroughTuf_ClientVerifiesOldAndNewTokensAndRetiredChainEnds()
    {
        // The old TSA: a log service whose development TSA generated chain A.
        await using var old = await TufService.StartAsync();
        using var keys = new TufTestRepository(old.Online);
        var signature = RandomNumberGenerator.GetBytes(64);
        var files = TufTestRepository.SigstoreTargets();
        var first = TrustedRoot.Parse(Encoding.UTF8.GetString(files["trusted_root.json"]));
        var firstRoot = first with { TimestampAuthorities = [await TsaAsync(old.Client, new ValidityPeriod(DateTimeOffset.UtcNow.AddMinutes(-1), null))] };
        files["trusted_root.json"] = Encoding.UTF8.GetBytes(firstRoot.ToJson());
        var (status, body) = await PublishAsync(old, TufTestRepository.Request(
            TufTestRepository.Signed(keys.BuildRoot(1), keys.RootKeys), TufTestRepository.Signed(TufTestRepository.BuildTargets(1, files), keys.TargetsKeys), files));
        Assert.True(status == 200, body.ToJsonString());

        var cache = Path.Combine(old.Directory, "client");
        TufUpdater.Bootstrap(cache, await old.Client.GetByteArrayAsync("/tuf/1.root.json"));
        var before = await RefreshTrustedRootAsync(old, cache);
        var tokenA = await TimestampAsync(old.Client, signature);
        var rotation = Rfc3161Timestamp.Verify(tokenA, signature, before);

        // The new TSA: another replica on the same repository, its TSA on a new chain B. The key holders publish
        // targets v2 whose trusted root closes chain A at the rotation and appends chain B from then.
        await using var rotated = await TufService.StartAsync(replicaOf: old);
        var fetched = TrustedRoot.Empty with { TimestampAuthorities = [await TsaAsync(rotated.Client, ValidityPeriod.Unbounded)] };
        var second = before.Merge(fetched, rotation);
        Assert.Equal(rotation, second.TimestampAuthorities[0].ValidFor.End);
        files["trusted_root.json"] = Encoding.UTF8.GetBytes(second.ToJson());
        (status, body) = await PublishAsync(rotated, TufTestRepository.Request(null, TufTestRepository.Signed(TufTestRepository.BuildTargets(2, files), keys.TargetsKeys), files));
        Assert.True(status == 200, body.ToJsonString());
        var tokenB = await TimestampAsync(rotated.Client, signature);

        // Chain B is unknown to the old trusted root: without the TUF update the new token does not verify.
        Assert.Throws<VerificationException>(() => Rfc3161Timestamp.Verify(tokenB, signature, before));

        // The client follows the mirror and verifies both tokens with the rotated trusted root.
        var after = await RefreshTrustedRootAsync(rotated, cache);
        Assert.Equal(2, after.TimestampAuthorities.Count);
        Assert.Equal(rotation, Rfc3161Timestamp.Verify(tokenA, signature, after));
        Assert.True(Rfc3161Timestamp.Verify(tokenB, signature, after) >= rotation);

        // The retired chain signs on (a compromised key, say): its tokens dated after its end no longer verify.
        byte[] late;
        var attempts = 0;
        do
        {
            await Task.Delay(100);
            late = await TimestampAsync(old.Client, signature);
        }
        while (Rfc3161Timestamp.Verify(late, signature, before) <= rotation && ++attempts < 100);
        Assert.Throws<VerificationException>(() => Rfc3161Timestamp.Verify(late, signature, after));
    }
}
