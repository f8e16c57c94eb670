using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TransparencyLog.LogService.Tests.RekorV2;

public sealed class RekorV2SearchTests(RekorV2Fixture log) : IClassFixture<RekorV2Fixture>
{
    private async Task<(HttpStatusCode Status, JsonElement Body)> SearchAsync(JsonObject query)
    {
        using var response = await log.Client.PostAsync("/api/v2/index/retrieve", new StringContent(query.ToJsonString(), Encoding.UTF8, "application/json"));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, document.RootElement.Clone());
    }

    private static List<V2Entry> Entries(JsonElement body) =>
        [.. body.GetProperty("entries").EnumerateArray().Select(static e => V2Entry.Parse(e.GetRawText()))];

    [Fact]
    public async Task SearchByPublicKey_TwoEntriesOfThatKey_ReturnsBothWithVerifiableProofs()
    {
        using var mine = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var first = await log.AppendAsync(V2Requests.EcdsaHashedRekord(mine).Json);
        await log.AppendAsync(V2Requests.EcdsaHashedRekord(other).Json);
        var second = await log.AppendAsync(V2Requests.EcdsaHashedRekord(mine).Json);

        var (status, body) = await SearchAsync(new JsonObject
        {
            ["publicKey"] = new JsonObject { ["content"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(mine.ExportSubjectPublicKeyInfoPem())) },
        });

        Assert.Equal(HttpStatusCode.OK, status);
        var found = Entries(body);
        Assert.Equal([first.LogIndex, second.LogIndex], found.Select(static e => e.LogIndex));
        Assert.Equal([first.Body, second.Body], found.Select(static e => e.Body));
        Assert.All(found, log.VerifyAsSigstoreJs);
    }

    [Fact]
    public async Task SearchByHash_OneEntryWithThatDigest_ReturnsOnlyIt()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (json, digest, _) = V2Requests.EcdsaHashedRekord(key);
        var entry = await log.AppendAsync(json);
        await log.AppendAsync(V2Requests.EcdsaHashedRekord(key).Json);

        var (status, body) = await SearchAsync(new JsonObject { ["hash"] = "sha256:" + Convert.ToHexStringLower(digest) });

        Assert.Equal(HttpStatusCode.OK, status);
        var found = Assert.Single(Entries(body));
        Assert.Equal(entry.LogIndex, found.LogIndex);
        Assert.Equal(("hashedrekord", "0.0.2"), (found.Kind, found.Version));
    }

    [Fact]
    public async Task Search_UnknownHash_ReturnsNoEntries()
    {
        var (status, body) = await SearchAsync(new JsonObject { ["hash"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty(Entries(body));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"hash\":\"md5:00\"}")]
    [InlineData("{\"email\":\"not-an-address\"}")]
    [InlineData("{\"hash\":\"sha256:0000000000000000000000000000000000000000000000000000000000000000\",\"operator\":\"xor\"}")]
    [InlineData("[1,2]")]
    public async Task Search_BadQuery_Returns400InTheV2ErrorShape(string query)
    {
        using var response = await log.Client.PostAsync("/api/v2/index/retrieve", new StringContent(query, Encoding.UTF8, "application/json"));
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(3, document.RootElement.GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrEmpty(document.RootElement.GetProperty("message").GetString()));
    }
}
