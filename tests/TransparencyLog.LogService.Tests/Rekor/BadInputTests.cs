using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TransparencyLog.LogService.Tests.Infrastructure;

namespace TransparencyLog.LogService.Tests.Rekor;

public sealed class BadInputTests(LogFixture log) : IClassFixture<LogFixture>
{
    public static TheoryData<string, string, string> BadProposals()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var artifact = Encoding.UTF8.GetBytes("artifact");
        var digest = Convert.ToHexStringLower(SHA256.HashData(artifact));
        var signature = Convert.ToBase64String(key.SignData(artifact, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        var publicKey = Convert.ToBase64String(Encoding.UTF8.GetBytes(key.ExportSubjectPublicKeyInfoPem()));
        var otherKey = Convert.ToBase64String(Encoding.UTF8.GetBytes(other.ExportSubjectPublicKeyInfoPem()));
        var wrongDigest = Convert.ToHexStringLower(SHA256.HashData("other"u8));
        return new TheoryData<string, string, string>
        {
            { "malformed JSON", "{\"apiVersion\":", "JSON" },
            { "not an object", "[1,2]", "object" },
            { "unknown kind", """{"apiVersion":"0.0.1","kind":"nope","spec":{}}""", "nope" },
            { "unknown version", """{"apiVersion":"9.9.9","kind":"hashedrekord","spec":{}}""", "9.9.9" },
            { "bad base64 signature", Entries.HashedRekord(digest, "!!!notbase64", publicKey), "base64" },
            { "bad base64 key", Entries.HashedRekord(digest, signature, "***"), "base64" },
            { "wrong signature", Entries.HashedRekord(wrongDigest, signature, publicKey), "signature" },
            { "key and signature mismatch", Entries.HashedRekord(digest, signature, otherKey), "signature" },
            { "short digest", Entries.HashedRekord(digest[..60], signature, publicKey), "hash" },
            { "non-hex digest", Entries.HashedRekord(new string('z', 64), signature, publicKey), "hex" },
        };
    }

    [Theory]
    [MemberData(nameof(BadProposals))]
    public async Task PostEntry_BadProposal_Returns400AndChangesNothing(string what, string proposal, string messagePart)
    {
        var before = await TreeSizeAsync();
        using var response = await log.PostAsync("/api/v1/log/entries", proposal);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, what);
        Assert.Equal(400, error.GetProperty("code").GetInt32());
        Assert.Contains(messagePart, error.GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, await TreeSizeAsync());
    }

    [Fact]
    public async Task PostEntry_OversizedBody_Returns413AndChangesNothing()
    {
        var before = await TreeSizeAsync();
        var huge = "{\"apiVersion\":\"0.0.1\",\"kind\":\"hashedrekord\",\"spec\":{\"pad\":\"" + new string('a', 300 * 1024) + "\"}}";
        using var response = await log.PostAsync("/api/v1/log/entries", huge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("limit", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await TreeSizeAsync());
    }

    [Theory]
    [InlineData("/api/v1/log/entries?logIndex=-1", HttpStatusCode.BadRequest)]
    [InlineData("/api/v1/log/entries?logIndex=abc", HttpStatusCode.BadRequest)]
    [InlineData("/api/v1/log/entries?logIndex=", HttpStatusCode.BadRequest)]
    [InlineData("/api/v1/log/entries?logIndex=99999999", HttpStatusCode.NotFound)]
    [InlineData("/api/v1/log/entries/not-a-uuid", HttpStatusCode.BadRequest)]
    [InlineData("/api/v1/log/entries/0000000000000000000000000000000000000000000000000000000000000000", HttpStatusCode.NotFound)]
    public async Task GetEntry_BadOrUnknownIndex_ReturnsRekorError(string path, HttpStatusCode status)
    {
        using var response = await log.Client.GetAsync(path);
        Assert.Equal(status, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((int)status, error.GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
    }

    [Theory]
    [InlineData("/api/v1/log/entries/retrieve", """{"logIndexes":[0,1,2,3,4,5,6,7,8,9,10]}""", "at most 10")]
    [InlineData("/api/v1/log/entries/retrieve", """{"logIndexes":[-3]}""", "non-negative")]
    [InlineData("/api/v1/log/entries/retrieve", "nope", "JSON")]
    [InlineData("/api/v1/log/entries/retrieve", "{}", "at least one of entryUUIDs, logIndexes or entries")]
    [InlineData("/api/v1/log/entries/retrieve", """{"hash":"sha256:00"}""", "at least one of entryUUIDs, logIndexes or entries")]
    [InlineData("/api/v1/log/entries/retrieve", """{"logIndexes":[]}""", "at least one of entryUUIDs, logIndexes or entries")]
    [InlineData("/api/v1/index/retrieve", "{}", "at least one")]
    [InlineData("/api/v1/index/retrieve", """{"hash":"md5:abcd"}""", "hash must be")]
    [InlineData("/api/v1/index/retrieve", """{"hash":"sha256:abcd","operator":"xor"}""", "hash must be")]
    [InlineData("/api/v1/index/retrieve", """{"email":"nobody"}""", "email")]
    [InlineData("/api/v1/index/retrieve", """{"publicKey":{"content":"###"}}""", "publicKey")]
    public async Task Retrieve_BadRequest_Returns400(string path, string body, string messagePart)
    {
        using var response = await log.PostAsync(path, body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(messagePart, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("firstSize=1&lastSize=100000", "beyond the current tree size")]
    [InlineData("firstSize=0&lastSize=1", "firstSize must be an integer of at least 1")]
    [InlineData("firstSize=-1&lastSize=1", "firstSize must be an integer of at least 1")]
    [InlineData("firstSize=2&lastSize=1", "firstSize must not exceed lastSize")]
    [InlineData("firstSize=1&lastSize=abc", "lastSize must be an integer")]
    [InlineData("firstSize=1", "lastSize must be an integer")]
    [InlineData("firstSize=1&lastSize=1&treeID=12", "unknown treeID")]
    public async Task GetConsistencyProof_BadSizes_Returns400(string query, string message)
    {
        await log.AppendAsync(log.Entries.NewHashedRekord().Json);
        using var response = await log.Client.GetAsync($"/api/v1/log/proof?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(400, error.GetProperty("code").GetInt32());
        Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PostEntry_KeyFieldWithElevenCertificateChain_Returns400NamingTheLimit()
    {
        // Rekor accepts a chain of up to 10 certificates in a key field and refuses longer ones; so do we.
        var (proposal, _) = ChainProposal(11);
        var before = await TreeSizeAsync();

        using var response = await log.PostAsync("/api/v1/log/entries", proposal);

        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("at most 10 certificates", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await TreeSizeAsync());
    }

    [Fact]
    public async Task PostEntry_KeyFieldWithTenCertificateChain_Returns201()
    {
        var (proposal, _) = ChainProposal(10);

        await log.AppendAsync(proposal);
    }

    /// <summary>A hashedrekord signed by a certificate's key, its key field holding the leaf then copies up to <paramref name="count"/>.</summary>
    private static (string Proposal, string Sha256) ChainProposal(int count)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=chain-test", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(10));
        var pem = string.Concat(Enumerable.Repeat(certificate.ExportCertificatePem() + "\n", count));
        var artifact = RandomNumberGenerator.GetBytes(32);
        var digest = SHA256.HashData(artifact);
        var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
        var sha256 = Convert.ToHexStringLower(digest);
        return (Entries.HashedRekord(sha256, Convert.ToBase64String(signature), Convert.ToBase64String(Encoding.UTF8.GetBytes(pem))), sha256);
    }

    private async Task<long> TreeSizeAsync() =>
        JsonDocument.Parse(await log.Client.GetStringAsync("/api/v1/log")).RootElement.GetProperty("treeSize").GetInt64();
}
