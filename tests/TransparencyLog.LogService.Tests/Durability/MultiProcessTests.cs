using System.Net;
using System.Text;
using TransparencyLog.LogService.Tests.CertificateTransparency;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Sigstore.CertificateTransparency;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.LogService.Tests.Durability;

public sealed class MultiProcessTests
{
    [Fact]
    public async Task TwoProcesses_AppendingConcurrently_ProduceOneGapFreeConsistentTree()
    {
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("multi");
        var (_, app) = testDatabase;
        var keys = Directory.CreateTempSubdirectory("tlog-keys-").FullName;
        using var entries = new Entries();
        await using var a = await LogServiceProcess.StartAsync(app, keys);
        await using var b = await LogServiceProcess.StartAsync(app, keys);
        var key = LogPublicKey.FromPem(await a.Client.GetStringAsync("/api/v1/log/publicKey"));

        var acknowledged = await Task.WhenAll(Enumerable.Range(0, 400).Select(async i =>
        {
            var service = i % 2 == 0 ? a : b;
            using var response = await service.Client.PostAsync("/api/v1/log/entries", new StringContent(entries.NewHashedRekord().Json, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            return RekorEntry.Parse(await response.Content.ReadAsStringAsync());
        }));

        var (size, root, _) = await StorageAudit.AssertConsistentAsync(app);
        Assert.Equal(400, size);
        Assert.Equal(400, acknowledged.Select(e => e.LogIndex).Distinct().Count());
        foreach (var entry in acknowledged)
        {
            entry.AssertVerifies(key, a.LogName);
        }

        // Both processes now report the same signed head, and serve each entry with a proof that verifies.
        foreach (var service in new[] { a, b })
        {
            using var info = System.Text.Json.JsonDocument.Parse(await service.Client.GetStringAsync("/api/v1/log"));
            Assert.Equal(size, info.RootElement.GetProperty("treeSize").GetInt64());
            Assert.Equal(root.ToString(), info.RootElement.GetProperty("rootHash").GetString());
            RekorEntry.Parse(await service.Client.GetStringAsync($"/api/v1/log/entries?logIndex={acknowledged[^1].LogIndex}")).AssertVerifies(key, service.LogName);
        }

        Directory.Delete(keys, recursive: true);
    }

    [Fact]
    public async Task TwoProcesses_SameCtCertificatesRacing_EachIsLoggedOnceWithOneSct()
    {
        // Two CT log processes on one database, the same precertificates submitted to both at once: the unique-key
        // lookup under the head lock serializes them, so each is one entry and every submission gets its one SCT.
        await using var testDatabase = await PostgresServer.CreateDatabaseAsync("multi-ct");
        var (_, app) = testDatabase;
        var state = Directory.CreateTempSubdirectory("tlog-ct-multi-").FullName;
        using var ca = new TestCa("ct-multi");
        var roots = Path.Combine(state, "roots.pem");
        await File.WriteAllTextAsync(roots, ca.Intermediate.ExportCertificatePem() + "\n" + ca.RootPem);
        var settings = new Dictionary<string, string>
        {
            ["Logs__Ct__Enabled"] = "true",
            ["Logs__Ct__Name"] = "test.log.local/ct",
            ["Logs__Ct__StateDirectory"] = state,
            ["CertificateTransparency__RootsPath"] = roots,
        };
        await using var a = await LogServiceProcess.StartAsync(app, state, settings: settings);
        await using var b = await LogServiceProcess.StartAsync(app, state, settings: settings);
        var precerts = Enumerable.Range(0, 10).Select(_ => ca.IssueLeaf(poison: true)).ToArray();

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).SelectMany(i => precerts.Select(async precert =>
        {
            var service = i % 2 == 0 ? a : b;
            var body = System.Text.Json.JsonSerializer.Serialize(new { chain = ca.Chain(precert).Select(Convert.ToBase64String).ToArray() });
            using var response = await service.Client.PostAsync("/ct/v1/add-pre-chain", new StringContent(body, Encoding.UTF8, "application/json"));
            var json = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {json}");
            return (Precert: precert, Json: json);
        })));

        foreach (var group in answers.GroupBy(answer => Convert.ToHexString(answer.Precert)))
        {
            Assert.Single(group.Select(answer => answer.Json).Distinct());
            var sct = SignedCertificateTimestamp.FromAddChainResponseJson(group.First().Json);
            var spki = LogPublicKey.FromPem(await a.Client.GetStringAsync("/ct/v1/public-key")).Spki;
            var signedData = CtSignedData.ForPrecertificate(sct.TimestampMs, ca.IntermediateKeyHash, Precertificate.TbsWithoutPoison(group.First().Precert), sct.Extensions);
            Assert.True(SctSignatures.Verify(sct, signedData, spki));
        }

        using var sth = System.Text.Json.JsonDocument.Parse(await b.Client.GetStringAsync("/ct/v1/get-sth"));
        Assert.Equal(precerts.Length, sth.RootElement.GetProperty("tree_size").GetInt64());
        Directory.Delete(state, recursive: true);
    }
}
