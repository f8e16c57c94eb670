using System.Net;
using System.Text;
using System.Text.Json;
using TransparencyLog.LogService.Tests.Infrastructure;
using TransparencyLog.Merkle;
using TransparencyLog.Sigstore.CertificateTransparency;
using TransparencyLog.Sigstore.Keys;

namespace TransparencyLog.LogService.Tests.CertificateTransparency;

/// <summary>A log service with the CT log enabled, accepting <see cref="Ca"/>'s root, on a fresh database.</summary>
public sealed class CtFixture : IAsyncLifetime
{
    public const string LogName = "test.log.local/ct";

    private LogServiceProcess? _service;

    private TestDatabase? _database;

    internal HttpClient Client => (_service ?? throw new InvalidOperationException("not started")).Client;

    internal TestCa Ca { get; } = new("ct-test");

    internal string StateDirectory { get; } = Directory.CreateTempSubdirectory("tlog-ct-").FullName;

    internal string RootsPath => Path.Combine(StateDirectory, "roots.pem");

    internal LogPublicKey PublicKey { get; private set; } = null!;

    internal byte[] LogSpki => PublicKey.Spki;

    internal const int MaxCertificateBytes = 8192;

    public async Task InitializeAsync()
    {
        // Like the CA's chain file: issuing CA first, root last. Only the self-issued root may become a trust anchor.
        await File.WriteAllTextAsync(RootsPath, Ca.Intermediate.ExportCertificatePem() + "\n" + Ca.RootPem);
        _database = await PostgresServer.CreateDatabaseAsync("ct");
        var app = _database.App;
        _service = await LogServiceProcess.StartAsync(app, StateDirectory, settings: new Dictionary<string, string>
        {
            ["Logs__Ct__Enabled"] = "true",
            ["Logs__Ct__Name"] = LogName,
            ["Logs__Ct__StateDirectory"] = StateDirectory,
            ["CertificateTransparency__RootsPath"] = RootsPath,
            ["CertificateTransparency__MaxChainLength"] = "4",
            ["CertificateTransparency__MaxCertificateBytes"] = MaxCertificateBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        PublicKey = LogPublicKey.FromPem(await Client.GetStringAsync("/ct/v1/public-key"));
    }

    public async Task DisposeAsync()
    {
        if (_service is not null)
        {
            await _service.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        Ca.Dispose();
        Directory.Delete(StateDirectory, recursive: true);
    }

    internal Task<HttpResponseMessage> PostChainAsync(string endpoint, IEnumerable<byte[]> chain) =>
        PostJsonAsync(endpoint, JsonSerializer.Serialize(new { chain = chain.Select(Convert.ToBase64String).ToArray() }));

    internal Task<HttpResponseMessage> PostJsonAsync(string endpoint, string json) =>
        Client.PostAsync("/ct/v1/" + endpoint, new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>Submits a chain that must be accepted; returns the SCT and its exact JSON.</summary>
    internal async Task<(SignedCertificateTimestamp Sct, string Json)> SubmitAsync(string endpoint, IEnumerable<byte[]> chain)
    {
        using var response = await PostChainAsync(endpoint, chain);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {body}");
        return (SignedCertificateTimestamp.FromAddChainResponseJson(body), body);
    }

    internal async Task<Sth> GetSthAsync()
    {
        using var document = JsonDocument.Parse(await Client.GetStringAsync("/ct/v1/get-sth"));
        var root = document.RootElement;
        return new Sth(
            root.GetProperty("tree_size").GetInt64(),
            root.GetProperty("timestamp").GetUInt64(),
            Hash.FromBytes(Convert.FromBase64String(root.GetProperty("sha256_root_hash").GetString()!)),
            Convert.FromBase64String(root.GetProperty("tree_head_signature").GetString()!));
    }
}

/// <summary>A get-sth response.</summary>
internal sealed record Sth(long TreeSize, ulong Timestamp, Hash Root, byte[] Signature);
