using TransparencyLog.Interop.Tests.Infrastructure;

namespace TransparencyLog.Interop.Tests.SigstoreJs;

/// <summary>
/// Unmodified sigstore-js clients sign against our CA, Rekor logs and TSA, and their own verifiers accept the
/// result against our trusted root. Each test runs one script of <c>tests/interop/sigstore</c>; the script's
/// assertions (and their messages) are the detail, the exit code is the verdict.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class SigstoreJsSigningTests(LocalSystem system)
{
    [Fact]
    public async Task SignAndAttest_Sigstore41_VerifiesWithSigstoreVerify31() =>
        await SigstoreJsRun.Start(system, "sign-verify").NodeAsync("sign-verify.mjs");

    [Fact]
    public async Task SignAndAttest_LegacyClientOfSigstoreCli_VerifiesWithSigstoreVerify21() =>
        await SigstoreJsRun.Start(system, "legacy").NodeAsync("legacy-sign-verify.mjs");

    [Fact]
    public async Task SignWithTsaServerUrl_BothGenerations_SetAndTimestampBothVerify() =>
        await SigstoreJsRun.Start(system, "tsa").NodeAsync("tsa.mjs");

    [Fact]
    public async Task LowLevelSign_RekorV2AndTsa_VerifiesWithV2TlogInTrustedRoot() =>
        await SigstoreJsRun.Start(system, "rekor-v2").NodeAsync("rekor-v2.mjs");

    [Fact]
    public async Task DuplicateSubmission_RekorWitness_409OrExistingEntryWithFetchOnConflict() =>
        await SigstoreJsRun.Start(system, "conflict").NodeAsync("conflict.mjs");
}
