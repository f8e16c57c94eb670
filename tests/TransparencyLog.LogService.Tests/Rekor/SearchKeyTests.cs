using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using TransparencyLog.LogService.Tests.Infrastructure;

namespace TransparencyLog.LogService.Tests.Rekor;

public sealed class SearchKeyTests(LogFixture log) : IClassFixture<LogFixture>
{
    [Fact]
    public async Task PostEntry_CertificateWithHugeIdentity_IsAppendedAndFailsNoNeighbourInItsBatch()
    {
        // A client-chosen certificate whose URI is longer than the index stores: it must neither fail itself nor the
        // other submissions sharing its batch.
        var identity = "https://example.com/" + new string('a', 1500);
        var proposal = SignedWithCertificate(identity, Encoding.UTF8.GetBytes("artifact with a huge identity"));
        var neighbours = Enumerable.Range(0, 30).Select(_ => log.PostAsync("/api/v1/log/entries", log.Entries.NewHashedRekord().Json)).ToList();
        using var response = await log.PostAsync("/api/v1/log/entries", proposal);
        var others = await Task.WhenAll(neighbours);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.All(others, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
        var entry = RekorEntry.Parse(await response.Content.ReadAsStringAsync());

        // Searching by that identity computes the same stored key and finds it.
        using var search = await log.PostAsync("/api/v1/index/retrieve", JsonSerializer.Serialize(new { subject = identity }));
        Assert.Equal([entry.Uuid], JsonSerializer.Deserialize<string[]>(await search.Content.ReadAsStringAsync())!);
    }

    private static string SignedWithCertificate(string uri, byte[] artifact)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=test", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(uri));
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(10));
        var digest = SHA256.HashData(artifact);
        var signature = key.SignHash(digest, DSASignatureFormat.Rfc3279DerSequence);
        var pem = Convert.ToBase64String(Encoding.UTF8.GetBytes(certificate.ExportCertificatePem() + "\n"));
        return Entries.HashedRekord(Convert.ToHexStringLower(digest), Convert.ToBase64String(signature), pem);
    }
}
