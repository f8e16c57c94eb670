using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;
using TransparencyLog.Tests.Shared;
using TransparencyLog.Witness.Tests.Infrastructure;

namespace TransparencyLog.Witness.Tests;

/// <summary>
/// A fail-closed log with a 2-of-3 policy serves the cosigned checkpoint beside each entry's inclusion proof
/// (<c>verification.cosignedCheckpoint</c>), and <c>tlog verify-blob --witness-policy --cosigned-checkpoint</c> checks the
/// quorum from that answer alone (the log is stopped first), refusing a forged cosignature, a consistency proof that
/// does not verify, and, with <c>--max-cosignature-age</c>, cosignatures that are too old.
/// </summary>
public sealed class CosignedBesideProofTests : IAsyncLifetime
{
    private WitnessTrio _trio = null!;
    private readonly string _directory = Directory.CreateTempSubdirectory("tlog-cosigned-beside-").FullName;
    private TestDatabase? _database;
    private string _app = "";

    public async Task InitializeAsync()
    {
        _database = await PostgresServer.CreateDatabaseAsync("beside");
        _app = _database.App;
        // w1 never runs (its key only signs the aged cosignatures below): no database for it.
        _trio = await WitnessTrio.CreateAsync("beside", _directory, withoutDatabase: 1);
    }

    public async Task DisposeAsync()
    {
        await _trio.DisposeAsync();

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task VerifyBlob_CosignedCheckpointBesideProof_QuorumCheckedWithoutTheLog()
    {
        var (origin, vkey, publicKeyPem) = await ReadLogIdentityAsync();
        var artifact = Path.Combine(_directory, "artifact.txt");
        await File.WriteAllTextAsync(artifact, "witnessed beside its proof\n");
        var (privateKey, publicKey) = WriteSigningKey();
        var root = WriteTrustedRoot(publicKeyPem);
        var bundle = artifact + ".sigstore.json";
        var entryFile = Path.Combine(_directory, "entry.json");

        await using (var log = await StartLogAsync())
        {
            foreach (var i in new[] { 0, 2 })
            {
                await _trio.StartAsync(i, new WitnessProcess.LogConfig(origin, vkey, Burst: 1000));
            }

            var signed = await Tlog.RunAsync("sign-blob", artifact, "--key", privateKey, "--rekor-url", log.Client.BaseAddress!.ToString(), "--bundle", bundle);
            Assert.True(signed.ExitCode == 0, signed.Output + log.Output);

            // Rekor v1's own answer: the proof's checkpoint keeps the log's signature only; the cosigned one sits beside it.
            using var bundleJson = JsonDocument.Parse(await File.ReadAllTextAsync(bundle));
            var logIndex = long.Parse(bundleJson.RootElement.GetProperty("verificationMaterial").GetProperty("tlogEntries")[0].GetProperty("logIndex").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
            var answer = await log.Client.GetStringAsync($"/api/v1/log/entries?logIndex={logIndex}");
            await File.WriteAllTextAsync(entryFile, answer);
            using var entry = JsonDocument.Parse(answer);
            var verification = entry.RootElement.EnumerateObject().Single().Value.GetProperty("verification");
            var proofCheckpoint = verification.GetProperty("inclusionProof").GetProperty("checkpoint").GetString()!;
            Assert.Single(proofCheckpoint.Split('\n'), line => line.StartsWith('\u2014'));
            var cosigned = verification.GetProperty("cosignedCheckpoint");
            Assert.True(_trio.Policy.Verify(cosigned.GetProperty("checkpoint").GetString()!, out var names), answer);
            Assert.Equal(["w0", "w2"], names.Order());
            Assert.True(cosigned.GetProperty("treeSize").GetInt64() >= verification.GetProperty("inclusionProof").GetProperty("treeSize").GetInt64());

            // The bundle written from the POST answer is unchanged: one tlog entry, a log-signed checkpoint, no extra fields.
            var bundleEntry = bundleJson.RootElement.GetProperty("verificationMaterial").GetProperty("tlogEntries")[0];
            Assert.Single(bundleEntry.GetProperty("inclusionProof").GetProperty("checkpoint").GetProperty("envelope").GetString()!.Split('\n'), line => line.StartsWith('\u2014'));
        }

        // The log is gone: everything below is checked from the files alone.
        string[] verify = ["verify-blob", artifact, "--key", publicKey, "--trusted-root", root, "--witness-policy", _trio.PolicyFile, "--output", "json"];
        var met = await Tlog.RunAsync([.. verify, "--cosigned-checkpoint", entryFile, "--max-cosignature-age", "1h"]);
        Assert.True(met.ExitCode == 0, met.Output);
        using (var result = JsonDocument.Parse(met.StandardOutput))
        {
            Assert.Equal(["w0", "w2"], result.RootElement.GetProperty("witnessed")[0].GetProperty("witnesses").EnumerateArray().Select(w => w.GetString()));
        }

        // Without the file the CLI has to ask the log, which is down.
        var online = await Tlog.RunAsync(verify);
        Assert.NotEqual(0, online.ExitCode);

        var (note, proof) = ReadBeside(entryFile);
        var body = note[..(note.IndexOf("\n\n", StringComparison.Ordinal) + 1)];
        var logLine = note.Split('\n').First(line => line.StartsWith('\u2014')); // the log's own signature comes first

        // A w0 line whose signature bytes were changed: refused, not merely ignored.
        var forged = note.Split('\n').Select(line => line.StartsWith("\u2014 " + _trio.Members[0].Name + " ", StringComparison.Ordinal) ? Tamper(line) : line);
        var tampered = await RunWithBesideAsync(verify, string.Join('\n', forged), proof);
        Assert.True(tampered.ExitCode == 3, tampered.Output);
        Assert.Contains("WITNESS_COSIGNATURE_INVALID", tampered.StandardOutput, StringComparison.Ordinal);

        // A consistency proof from the entry's tree that does not verify.
        var inconsistent = await RunWithBesideAsync(verify, note, [.. proof, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32))]);
        Assert.True(inconsistent.ExitCode == 3, inconsistent.Output);
        Assert.Contains("WITNESS_CHECKPOINT_INCONSISTENT", inconsistent.StandardOutput, StringComparison.Ordinal);

        // Two valid cosignatures made two hours ago: accepted without an age limit, refused with --max-cosignature-age 1h.
        var old = DateTimeOffset.UtcNow.AddHours(-2).ToUnixTimeSeconds();
        var aged = body + "\n" + logLine + "\n" + string.Concat(new[] { 0, 1 }.Select(i => CosignerOf(i).SignLineAsync(body, old).Completed()));
        var accepted = await RunWithBesideAsync(verify, aged, proof);
        Assert.True(accepted.ExitCode == 0, accepted.Output);
        var refused = await RunWithBesideAsync([.. verify, "--max-cosignature-age", "1h"], aged, proof);
        Assert.True(refused.ExitCode == 3, refused.Output);
        Assert.Contains("WITNESS_COSIGNATURE_STALE", refused.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("older than --max-cosignature-age 1h", refused.StandardOutput, StringComparison.Ordinal);

        // One fresh and one old: with the old one not counted, two of three are no longer met either.
        var mixed = body + "\n" + logLine + "\n" + CosignerOf(0).SignLineAsync(body, DateTimeOffset.UtcNow.ToUnixTimeSeconds()).Completed() + CosignerOf(1).SignLineAsync(body, old).Completed();
        var half = await RunWithBesideAsync([.. verify, "--max-cosignature-age", "90m"], mixed, proof);
        Assert.True(half.ExitCode == 3, half.Output);
        Assert.Contains("w1 cosigned at", half.StandardOutput, StringComparison.Ordinal);

        var badAge = await RunWithBesideAsync([.. verify, "--max-cosignature-age", "soon"], note, proof);
        Assert.True(badAge.ExitCode == 2, badAge.Output);
    }

    private async Task<Tlog.Result> RunWithBesideAsync(string[] verify, string note, IReadOnlyList<string> proof)
    {
        var file = Path.Combine(_directory, $"beside-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, new JsonObject
        {
            ["checkpoint"] = note,
            ["consistencyProof"] = new JsonArray([.. proof.Select(static h => (JsonNode?)h)]),
        }.ToJsonString());
        return await Tlog.RunAsync([.. verify, "--cosigned-checkpoint", file]);
    }

    private static (string Note, List<string> Proof) ReadBeside(string entryFile)
    {
        using var entry = JsonDocument.Parse(File.ReadAllText(entryFile));
        var cosigned = entry.RootElement.EnumerateObject().Single().Value.GetProperty("verification").GetProperty("cosignedCheckpoint");
        return (cosigned.GetProperty("checkpoint").GetString()!, [.. cosigned.GetProperty("consistencyProof").EnumerateArray().Select(static h => h.GetString()!)]);
    }

    private static string Tamper(string line)
    {
        var space = line.LastIndexOf(' ');
        var blob = Convert.FromBase64String(line[(space + 1)..]);
        blob[^1] ^= 0x01;
        return line[..(space + 1)] + Convert.ToBase64String(blob);
    }

    private Cosigner CosignerOf(int i)
    {
        var key = LogSigner.LoadPem(File.ReadAllText(Path.Combine(_trio.Members[i].Directory, "witness-key.pem")), null);
        return new Cosigner(_trio.Members[i].Name, key);
    }

    private (string PrivateKey, string PublicKey) WriteSigningKey()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var privateKey = Path.Combine(_directory, "signer.key");
        var publicKey = Path.Combine(_directory, "signer.pub");
        File.WriteAllText(privateKey, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(publicKey, key.ExportSubjectPublicKeyInfoPem());
        return (privateKey, publicKey);
    }

    /// <summary>A trusted root holding only the log's key, at a URL that never answers.</summary>
    private string WriteTrustedRoot(string publicKeyPem)
    {
        using var key = ECDsa.Create();
        key.ImportFromPem(publicKeyPem);
        var spki = key.ExportSubjectPublicKeyInfo();
        var root = new JsonObject
        {
            ["mediaType"] = "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            ["tlogs"] = new JsonArray(new JsonObject
            {
                // The checkpoint's signer name must appear in the URL; the name does not resolve, so nothing can be fetched.
                ["baseUrl"] = "http://witnessed.log.test",
                ["hashAlgorithm"] = "SHA2_256",
                ["publicKey"] = new JsonObject
                {
                    ["rawBytes"] = Convert.ToBase64String(spki),
                    ["keyDetails"] = "PKIX_ECDSA_P256_SHA_256",
                    ["validFor"] = new JsonObject { ["start"] = "2020-01-01T00:00:00Z" },
                },
                ["logId"] = new JsonObject { ["keyId"] = Convert.ToBase64String(SHA256.HashData(spki)) },
            }),
            ["certificateAuthorities"] = new JsonArray(),
            ["ctlogs"] = new JsonArray(),
            ["timestampAuthorities"] = new JsonArray(),
        };
        var path = Path.Combine(_directory, "trusted_root.json");
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }

    private async Task<(string Origin, string VerifierKey, string PublicKeyPem)> ReadLogIdentityAsync()
    {
        await using var log = await LogProcess.StartAsync(_app, _directory, new Dictionary<string, string>());
        var checkpoint = await log.Client.GetStringAsync("/checkpoint");
        var vkey = (await log.Client.GetStringAsync("/api/v1/log/verifierKey")).Trim();
        var pem = await log.Client.GetStringAsync("/api/v1/log/publicKey");
        Assert.Equal(HttpStatusCode.OK, (await log.Client.GetAsync("/readyz")).StatusCode);
        return (checkpoint.Split('\n')[0], vkey, pem);
    }

    private Task<LogProcess> StartLogAsync() => LogProcess.StartAsync(_app, _directory, new Dictionary<string, string>
    {
        ["Witnessing__PolicyFile"] = _trio.PolicyFile,
        ["Witnessing__Mode"] = "FailClosed",
        ["Witnessing__WitnessTimeoutMilliseconds"] = "10000",
        ["Witnessing__BudgetMilliseconds"] = "15000",
    });
}
