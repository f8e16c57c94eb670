using TransparencyLog.Interop.Tests.Infrastructure;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Interop.Tests.Cli;

/// <summary>
/// The witness <c>./run.sh</c> starts cosigns the logs' checkpoints (fail-open), and <c>tlog … --witness-policy</c>
/// requires its cosignature: met with the policy run.sh wrote, refused with one asking for a witness that never signed.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class WitnessPolicyTests(LocalSystem system) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private readonly TlogRunner _tlog = new(system);

    [Fact]
    public async Task RunScript_Witness_CosignsRekorAndCtCheckpoints()
    {
        using var http = new HttpClient();
        Assert.Equal(system["WITNESS_VKEY"], (await http.GetStringAsync(system["WITNESS_URL"] + "/verifier-key")).Trim());
        var witness = CosignatureVerifierKey.Parse(system["WITNESS_VKEY"]);

        // Keyless signing appends to the Rekor v1 log and, through the CA's precertificate, to the CT log.
        var file = _tlog.Write("witnessed.txt", "cosigned by the development witness\n");
        await _tlog.SignBlobAsync(file, TlogRunner.Alice);

        foreach (var url in new[] { system["REKOR_URL"] + "/checkpoint", system["CT_LOG_URL"] + "/checkpoint" })
        {
            var deadline = DateTime.UtcNow + Patience;
            string note;
            do
            {
                note = await http.GetStringAsync(url);
            }
            while (!Cosignature.TryVerify(note, witness, out _) && DateTime.UtcNow < deadline && await Delay());

            Assert.True(Cosignature.TryVerify(note, witness, out var time), $"{url} carries no cosignature of the witness:\n{note}\n{system.ServiceLogs()}");
            Assert.True(time > 0);
        }
    }

    [Fact]
    public async Task VerifyBlob_RunScriptWitnessPolicy_VerifiesAgainstCosignedCheckpoint()
    {
        var file = _tlog.Write("policy-met.txt", "verified with a witness quorum\n");
        await _tlog.SignBlobAsync(file, TlogRunner.Alice);

        // Fail-open: the cosigned checkpoint may trail the entry for a moment (the CLI says so with its own code).
        var result = await RetryWhileBehindAsync(() => _tlog.VerifyAsync("verify-blob", file, [.. _tlog.Identity(), "--witness-policy", system["WITNESS_POLICY"], "--output", "json"]));

        Assert.True(result.ExitCode == 0, result.Output);
        var witnessed = TlogRunner.Json(result).GetProperty("witnessed");
        Assert.Equal(1, witnessed.GetArrayLength());
        Assert.Equal("local", witnessed[0].GetProperty("witnesses")[0].GetString());
        Assert.True(witnessed[0].GetProperty("treeSize").GetInt64() > 0);
    }

    [Fact]
    public async Task VerifyBlob_PolicyNeedsAWitnessThatNeverSigned_ExitsThreeQuorumNotMet()
    {
        var file = _tlog.Write("policy-unmet.txt", "two witnesses required, one exists\n");
        await _tlog.SignBlobAsync(file, TlogRunner.Alice);
        var policy = _tlog.Write("both.policy", $"{await File.ReadAllTextAsync(system["WITNESS_POLICY"])}\n".Replace("quorum local", "", StringComparison.Ordinal) +
            $"witness absent {AbsentWitnessKey()}\ngroup both all local absent\nquorum both\n");

        var result = await RetryWhileBehindAsync(() => _tlog.VerifyAsync("verify-blob", file, [.. _tlog.Identity(), "--witness-policy", policy]));

        TlogRunner.AssertFailed(result, 3, "WITNESS QUORUM NOT MET");
        Assert.Contains("cosigned by local", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyBlob_MalformedPolicy_ExitsTwoNamingTheLine()
    {
        var file = _tlog.Write("policy-bad.txt", "bad policy\n");
        await _tlog.SignBlobAsync(file, TlogRunner.Alice);
        var policy = _tlog.Write("bad.policy", "witness w1 not-a-key\nquorum w1\n");

        var result = await _tlog.VerifyAsync("verify-blob", file, [.. _tlog.Identity(), "--witness-policy", policy]);

        TlogRunner.AssertFailed(result, 2, "witness policy line 1");
    }

    [Fact]
    public async Task VerifyConsistency_WitnessPolicy_AuditsTheCosignedCheckpointOnly()
    {
        var file = _tlog.Write("consistency.txt", "grow the log\n");
        await _tlog.SignBlobAsync(file, TlogRunner.Alice);
        var state = _tlog.PathOf("rekor.checkpoint");
        string[] audit = ["log", "verify-consistency", "--rekor-url", system["REKOR_URL"], "--vkey", system["REKOR_NOTE_VKEY"], "--state", state];

        var met = await RetryAsync(() => _tlog.RunAsync([.. audit, "--witness-policy", system["WITNESS_POLICY"]]), static r => r.ExitCode == 3);
        Assert.True(met.ExitCode == 0, met.Output);
        Assert.Contains("cosigned by local", met.StandardOutput, StringComparison.Ordinal);
        var saved = await File.ReadAllTextAsync(state);
        Assert.True(Cosignature.TryVerify(saved, CosignatureVerifierKey.Parse(system["WITNESS_VKEY"]), out _), saved);

        var unmetPolicy = _tlog.Write("absent.policy", $"witness absent {AbsentWitnessKey()}\nquorum absent\n");
        var unmet = await _tlog.RunAsync([.. audit, "--witness-policy", unmetPolicy]);
        TlogRunner.AssertFailed(unmet, 3, "WITNESS QUORUM NOT MET");
        Assert.Equal(saved, await File.ReadAllTextAsync(state));
    }

    [Fact]
    public async Task VerifyImage_WitnessPolicy_MetWithRunScriptWitnessRefusedWithAbsentOne()
    {
        using var lab = new Oci.ImageLab(system);
        await lab.PushImageAsync("images/witnessed:1.0");
        var (privateKey, publicKey) = _tlog.WriteKeyPair("image");
        await _tlog.SucceedAsync("sign", $"{lab.Registry}/images/witnessed:1.0", "--key", privateKey, "--rekor-url", system["REKOR_URL"]);
        string[] verify = ["verify", $"{lab.Registry}/images/witnessed:1.0", "--key", publicKey, "--trusted-root", system["TRUSTED_ROOT"], "--output", "json"];

        var met = await RetryWhileBehindAsync(() => _tlog.RunAsync([.. verify, "--witness-policy", system["WITNESS_POLICY"]]));
        Assert.True(met.ExitCode == 0, met.Output);
        Assert.Equal("local", TlogRunner.Json(met).GetProperty("witnessed")[0].GetProperty("witnesses")[0].GetString());

        var absent = _tlog.Write("image-absent.policy", $"witness absent {AbsentWitnessKey()}\nquorum absent\n");
        var unmet = await _tlog.RunAsync([.. verify, "--witness-policy", absent]);
        TlogRunner.AssertFailed(unmet, 3, "WITNESS QUORUM NOT MET");
    }

    public void Dispose() => _tlog.Dispose();

    private static string AbsentWitnessKey()
    {
        using var key = LogSigner.Generate(LogKeyType.Ed25519);
        return new Cosigner("absent.witness.test", key).VerifierKey;
    }

    // Fail-open, right after an append, /checkpoint is either an older cosigned checkpoint (it does not cover the entry)
    // or the new one still uncosigned (no witness): both pass within a round. A fast tlog (the Native AOT build) sees the
    // second; a slower start had hidden it.
    private static Task<ProcessResult> RetryWhileBehindAsync(Func<Task<ProcessResult>> run) =>
        RetryAsync(run, static r => r.Output.Contains("does not cover entry", StringComparison.Ordinal)
            || r.Output.Contains("cosigned by no witness of the policy", StringComparison.Ordinal));

    private static async Task<ProcessResult> RetryAsync(Func<Task<ProcessResult>> run, Func<ProcessResult, bool> again)
    {
        var deadline = DateTime.UtcNow + Patience;
        var result = await run();
        while (again(result) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500);
            result = await run();
        }

        return result;
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(250);
        return true;
    }
}
