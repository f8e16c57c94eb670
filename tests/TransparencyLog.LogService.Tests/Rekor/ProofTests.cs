using System.Net;
using System.Text.Json;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Merkle;

namespace TransparencyLog.LogService.Tests.Rekor;

public sealed class ProofTests(LogFixture log) : IClassFixture<LogFixture>
{
    private const int Size = 24;

    [Fact]
    public async Task GetConsistencyProof_EveryPairOfSizes_Verifies()
    {
        // Appending one at a time gives a signed root for every size.
        var roots = new Dictionary<long, Hash>();
        for (var i = 0; i < Size; i++)
        {
            var entry = await log.AppendAsync(log.Entries.NewHashedRekord().Json);
            roots[entry.TreeSize] = entry.RootHash;
        }

        Assert.Equal(Enumerable.Range(1, Size).Select(i => (long)i), roots.Keys.Order());
        for (long first = 1; first <= Size; first++)
        {
            for (var last = first; last <= Size; last++)
            {
                var proof = JsonDocument.Parse(await log.Client.GetStringAsync($"/api/v1/log/proof?firstSize={first}&lastSize={last}")).RootElement;
                var hashes = proof.GetProperty("hashes").EnumerateArray().Select(h => Hash.FromHex(h.GetString()!)).ToList();
                Assert.Equal(roots[last].ToString(), proof.GetProperty("rootHash").GetString());
                Assert.True(ProofVerifier.VerifyConsistency(first, last, hashes, roots[first], roots[last]), $"consistency {first} -> {last}");
            }
        }

        // Inclusion proofs for every entry at the final size, read back.
        for (long index = 0; index < Size; index++)
        {
            RekorEntry.Parse(await log.Client.GetStringAsync($"/api/v1/log/entries?logIndex={index}")).AssertVerifies(log.PublicKey, log.Service.LogName);
        }
    }
}
