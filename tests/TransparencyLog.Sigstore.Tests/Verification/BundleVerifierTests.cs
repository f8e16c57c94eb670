using System.Security.Cryptography;
using System.Text;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Verification;

namespace TransparencyLog.Sigstore.Tests.Verification;

public sealed class BundleVerifierTests
{
    private static readonly CertificateIdentityPolicy s_alice =
        CertificateIdentityPolicy.Create(TestPki.Email, null, TestPki.OidcIssuer, null);

    private static VerificationException Fails(Scenario scenario, Bundle bundle, byte[]? artifact = null, CertificateIdentityPolicy? policy = null, TrustedRoot? root = null) =>
        Assert.Throws<VerificationException>(() =>
            new BundleVerifier(root ?? scenario.TrustedRoot).Verify(bundle, artifact ?? scenario.Artifact, policy ?? s_alice));

    private static Bundle WithEntry(Bundle bundle, Func<TransparencyLogEntry, TransparencyLogEntry> change) =>
        bundle with
        {
            VerificationMaterial = bundle.VerificationMaterial with
            {
                TlogEntries = [.. bundle.VerificationMaterial.TlogEntries.Select(change)],
            },
        };

    private static Bundle WithProof(Bundle bundle, Func<InclusionProof, InclusionProof> change) =>
        WithEntry(bundle, e => e with { InclusionProof = change(e.InclusionProof!) });

    [Fact]
    public void Verify_ValidMessageSignatureBundle_ReturnsIdentityAndTime()
    {
        using var scenario = Scenario.MessageSignature();

        var result = new BundleVerifier(scenario.TrustedRoot).Verify(scenario.Bundle, scenario.Artifact, s_alice);

        Assert.Equal(TestPki.Email, result.Subject);
        Assert.Equal(TestPki.OidcIssuer, result.Issuer);
        Assert.Equal(Scenario.Now, Assert.Single(result.Timestamps).Time);
        Assert.Equal([3L], result.LogIndexes);
    }

    [Fact]
    public void Verify_BundleAfterJsonRoundTrip_Verifies()
    {
        using var scenario = Scenario.MessageSignature();

        var parsed = Bundle.Parse(scenario.Bundle.ToJson());
        var root = TrustedRoot.Parse(scenario.TrustedRoot.ToJson());

        Assert.Equal(TestPki.Email, new BundleVerifier(root).Verify(parsed, scenario.Artifact, s_alice).Subject);
    }

    [Fact]
    public void Verify_RegexIdentityAnchored_AcceptsFullMatchOnly()
    {
        using var scenario = Scenario.MessageSignature();
        var verifier = new BundleVerifier(scenario.TrustedRoot);

        verifier.Verify(scenario.Bundle, scenario.Artifact, CertificateIdentityPolicy.Create(null, @"[a-z]+@example\.com", null, @"https://issuer\..*"));
        var partial = CertificateIdentityPolicy.Create(null, "alice", TestPki.OidcIssuer, null);

        Assert.Equal(VerificationErrorCode.UntrustedSigner, Fails(scenario, scenario.Bundle, policy: partial).Code);
    }

    [Fact]
    public void Verify_FlippedArtifactByte_FailsWithSignatureError()
    {
        using var scenario = Scenario.MessageSignature();
        var tampered = (byte[])scenario.Artifact.Clone();
        tampered[0] ^= 0x01;

        Assert.Equal(VerificationErrorCode.Signature, Fails(scenario, scenario.Bundle, tampered).Code);
    }

    [Fact]
    public void Verify_WrongIdentity_FailsWithUntrustedSigner()
    {
        using var scenario = Scenario.MessageSignature();
        var policy = CertificateIdentityPolicy.Create("mallory@example.com", null, TestPki.OidcIssuer, null);

        var error = Fails(scenario, scenario.Bundle, policy: policy);

        Assert.Equal(VerificationErrorCode.UntrustedSigner, error.Code);
        Assert.Contains("alice@example.com", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_WrongIssuer_FailsWithUntrustedSigner()
    {
        using var scenario = Scenario.MessageSignature();
        var policy = CertificateIdentityPolicy.Create(TestPki.Email, null, "https://other-issuer.test", null);

        var error = Fails(scenario, scenario.Bundle, policy: policy);

        Assert.Equal(VerificationErrorCode.UntrustedSigner, error.Code);
        Assert.Contains("issuer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AlteredInclusionProofHash_FailsWithInclusionProofError()
    {
        using var scenario = Scenario.MessageSignature();
        var bundle = WithProof(scenario.Bundle, p =>
        {
            var hashes = p.Hashes.Select(static h => (byte[])h.Clone()).ToList();
            hashes[1][5] ^= 0xff;
            return p with { Hashes = hashes };
        });

        Assert.Equal(VerificationErrorCode.TlogInclusionProof, Fails(scenario, bundle).Code);
    }

    [Fact]
    public void Verify_ProofRootDiffersFromCheckpoint_FailsWithInclusionProofError()
    {
        using var scenario = Scenario.MessageSignature();
        var bundle = WithProof(scenario.Bundle, p => p with { RootHash = new byte[32] });

        Assert.Equal(VerificationErrorCode.TlogInclusionProof, Fails(scenario, bundle).Code);
    }

    [Fact]
    public void Verify_AlteredSet_FailsWithInclusionPromiseError()
    {
        using var scenario = Scenario.MessageSignature();
        var bundle = WithEntry(scenario.Bundle, e =>
        {
            var set = (byte[])e.InclusionPromise!.Clone();
            set[^1] ^= 0x01;
            return e with { InclusionPromise = set };
        });

        Assert.Equal(VerificationErrorCode.TlogInclusionPromise, Fails(scenario, bundle).Code);
    }

    [Theory]
    [InlineData(253402300800L)] // 10000-01-01T00:00:00Z, one second past the last date DateTimeOffset holds
    [InlineData(long.MaxValue)]
    [InlineData(-62135596801L)] // one second before 0001-01-01
    public void Verify_IntegratedTimeNoDateHolds_FailsWithTlogError(long integratedTime)
    {
        // Found by reading, not by the fuzzer (its bundle target parses only): the bundle's integratedTime reached
        // DateTimeOffset.FromUnixTimeSeconds unchecked, and an ArgumentOutOfRangeException escaped the verifier.
        using var scenario = Scenario.MessageSignature();
        var bundle = WithEntry(scenario.Bundle, e => e with { IntegratedTime = integratedTime });

        var error = Fails(scenario, bundle);

        Assert.Equal(VerificationErrorCode.Tlog, error.Code);
        Assert.Contains("integratedTime", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_SignedStatementNotUtf8_FailsWithSubjectError()
    {
        // Found by reading (2026-12-06): the statement is checked before the signer's identity, so anyone with a
        // certificate could sign this; the subject digest's invalid bytes threw InvalidOperationException when read.
        byte[] payload = [.. "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"digest\":{\"sha256\":\"ab"u8, 0xff, .. "\"}}]}"u8];
        using var scenario = Scenario.Attestation(payload);

        Assert.Equal(VerificationErrorCode.Subject, Fails(scenario, scenario.Bundle).Code);
    }

    [Fact]
    public void Verify_AlteredIntegratedTime_FailsWithInclusionPromiseError()
    {
        using var scenario = Scenario.MessageSignature();
        var bundle = WithEntry(scenario.Bundle, e => e with { IntegratedTime = e.IntegratedTime + 60 });

        Assert.Equal(VerificationErrorCode.TlogInclusionPromise, Fails(scenario, bundle).Code);
    }

    [Fact]
    public void Verify_AlteredCheckpointText_FailsWithInclusionProofError()
    {
        using var scenario = Scenario.MessageSignature();
        var bundle = WithProof(scenario.Bundle, p => p with { Checkpoint = p.Checkpoint.Replace("Timestamp: 1", "Timestamp: 2", StringComparison.Ordinal) });

        var error = Fails(scenario, bundle);

        Assert.Equal(VerificationErrorCode.TlogInclusionProof, error.Code);
        Assert.Contains("signature", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_AlteredCheckpointSignature_FailsWithInclusionProofError()
    {
        using var scenario = Scenario.MessageSignature();
        var bundle = WithProof(scenario.Bundle, p =>
        {
            var lines = p.Checkpoint.Split('\n');
            var signatureLine = lines[^2];
            var blob = Convert.FromBase64String(signatureLine[(signatureLine.LastIndexOf(' ') + 1)..]);
            blob[^1] ^= 0x01;
            lines[^2] = signatureLine[..(signatureLine.LastIndexOf(' ') + 1)] + Convert.ToBase64String(blob);
            return p with { Checkpoint = string.Join('\n', lines) };
        });

        Assert.Equal(VerificationErrorCode.TlogInclusionProof, Fails(scenario, bundle).Code);
    }

    [Fact]
    public async Task Verify_CheckpointSignedByOtherKey_FailsWithInclusionProofError()
    {
        using var scenario = Scenario.MessageSignature();
        using var other = LogSigner.Generate(LogKeyType.EcdsaP256);
        var note = await SignedNote.SignAsync(
            new Checkpoint($"{TestLog.Host} - 1234", scenario.Log.Size, scenario.Log.Root.ToArray()).ToNoteText(),
            new NoteSigner(TestLog.Host, other));
        var bundle = WithProof(scenario.Bundle, p => p with { Checkpoint = note });

        Assert.Equal(VerificationErrorCode.TlogInclusionProof, Fails(scenario, bundle).Code);
    }

    [Fact]
    public void Verify_CertificateFromUntrustedCa_FailsWithCertificateError()
    {
        using var scenario = Scenario.MessageSignature((pki, key) =>
        {
            using var rogueKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var rogue = TestPki.CreateCa("CN=test-intermediate, O=tlog", rogueKey, null, null, Scenario.Now.AddYears(-1), Scenario.Now.AddYears(1));
            return pki.IssueLeaf(key, Scenario.Now.AddMinutes(-1), Scenario.Now.AddMinutes(9), ca: rogue);
        });

        Assert.Equal(VerificationErrorCode.Certificate, Fails(scenario, scenario.Bundle).Code);
    }

    [Fact]
    public void Verify_CertificateExpiredAtIntegratedTime_FailsWithCertificateError()
    {
        using var scenario = Scenario.MessageSignature((pki, key) =>
            pki.IssueLeaf(key, Scenario.Now.AddMinutes(-20), Scenario.Now.AddMinutes(-10)));

        var error = Fails(scenario, scenario.Bundle);

        Assert.Equal(VerificationErrorCode.Certificate, error.Code);
        Assert.Contains("2026-03-01T12:00:00", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_CaOutsideValidFor_FailsWithCertificateError()
    {
        using var scenario = Scenario.MessageSignature();
        var root = scenario.TrustedRoot with
        {
            CertificateAuthorities = [scenario.TrustedRoot.CertificateAuthorities[0] with { ValidFor = new ValidityPeriod(null, Scenario.Now.AddDays(-1)) }],
        };

        Assert.Equal(VerificationErrorCode.Certificate, Fails(scenario, scenario.Bundle, root: root).Code);
    }

    [Fact]
    public void Verify_MissingTlogEntry_FailsWithTlogError()
    {
        using var scenario = Scenario.MessageSignature();
        var bundle = scenario.Bundle with { VerificationMaterial = scenario.Bundle.VerificationMaterial with { TlogEntries = [] } };

        Assert.Equal(VerificationErrorCode.Tlog, Fails(scenario, bundle).Code);
    }

    [Fact]
    public void Verify_NoSetAndNoTimestamp_FailsWithTimestampError()
    {
        using var scenario = Scenario.MessageSignature();
        var bundle = WithEntry(scenario.Bundle, e => e with { InclusionPromise = null });

        Assert.Equal(VerificationErrorCode.Timestamp, Fails(scenario, bundle).Code);
    }

    [Fact]
    public void Verify_LogKeyRotatedOut_FailsWithInclusionPromiseError()
    {
        using var scenario = Scenario.MessageSignature();
        var tlog = scenario.TrustedRoot.Tlogs[0];
        var root = scenario.TrustedRoot with
        {
            Tlogs = [tlog with { PublicKey = tlog.PublicKey with { ValidFor = new ValidityPeriod(null, Scenario.Now.AddSeconds(-1)) } }],
        };

        Assert.Equal(VerificationErrorCode.TlogInclusionPromise, Fails(scenario, scenario.Bundle, root: root).Code);
    }

    [Fact]
    public void Verify_BodyForOtherSignature_FailsWithTlogBodyError()
    {
        using var scenario = Scenario.MessageSignature();

        // A second, valid signature over the same artifact: everything verifies except that the log holds the first.
        var other = scenario.Key.SignData(scenario.Artifact, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var bundle = scenario.Bundle with { MessageSignature = scenario.Bundle.MessageSignature! with { Signature = other } };

        Assert.Equal(VerificationErrorCode.TlogBody, Fails(scenario, bundle).Code);
    }

    [Fact]
    public void Verify_SctFromUnknownCtLog_FailsWithSctError()
    {
        using var ctKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var scenario = Scenario.MessageSignature((pki, key) =>
            pki.IssueLeaf(key, Scenario.Now.AddMinutes(-1), Scenario.Now.AddMinutes(9), ctLogKey: ctKey));

        Assert.Equal(VerificationErrorCode.Sct, Fails(scenario, scenario.Bundle).Code);
    }

    [Fact]
    public void Verify_NoSct_FailsWithSctErrorUnlessThresholdZero()
    {
        using var scenario = Scenario.MessageSignature((pki, key) =>
            pki.IssueLeaf(key, Scenario.Now.AddMinutes(-1), Scenario.Now.AddMinutes(9), withSct: false));

        Assert.Equal(VerificationErrorCode.Sct, Fails(scenario, scenario.Bundle).Code);
        new BundleVerifier(scenario.TrustedRoot, new VerificationOptions { CtlogThreshold = 0 }).Verify(scenario.Bundle, scenario.Artifact, s_alice);
    }

    [Fact]
    public void Verify_ValidAttestation_VerifiesAndChecksSubject()
    {
        using var scenario = Scenario.Attestation();
        var verifier = new BundleVerifier(scenario.TrustedRoot);

        var result = verifier.Verify(scenario.Bundle, scenario.Artifact, s_alice);
        var wrongArtifact = Encoding.UTF8.GetBytes("another artifact");

        Assert.Equal("application/vnd.in-toto+json", result.PayloadType);
        Assert.Equal(VerificationErrorCode.Subject, Fails(scenario, scenario.Bundle, wrongArtifact).Code);
    }

    [Fact]
    public void Verify_AttestationWithAlteredPayload_FailsWithTlogBodyOrSignatureError()
    {
        using var scenario = Scenario.Attestation();
        var envelope = scenario.Bundle.DsseEnvelope!;
        var payload = (byte[])envelope.Payload.Clone();
        payload[^2] ^= 0x01;
        var bundle = scenario.Bundle with { DsseEnvelope = envelope with { Payload = payload } };

        // The logged payload hash no longer matches: the body check runs before the signature check.
        Assert.Equal(VerificationErrorCode.TlogBody, Fails(scenario, bundle, artifact: []).Code);
    }

    [Fact]
    public void VerifyWithKey_KeyBasedBundle_VerifiesAndRejectsOtherKey()
    {
        using var scenario = Scenario.KeyBased();
        var verifier = new BundleVerifier(scenario.TrustedRoot);

        verifier.VerifyWithKey(scenario.Bundle, scenario.Artifact, scenario.Key.ExportSubjectPublicKeyInfo());
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var error = Assert.Throws<VerificationException>(() =>
            verifier.VerifyWithKey(scenario.Bundle, scenario.Artifact, other.ExportSubjectPublicKeyInfo()));

        Assert.Equal(VerificationErrorCode.TlogBody, error.Code);
    }

    [Fact]
    public void Verify_KeyBasedBundleWithIdentityPolicy_FailsWithTrustMaterialError()
    {
        using var scenario = Scenario.KeyBased();

        Assert.Equal(VerificationErrorCode.TrustMaterial, Fails(scenario, scenario.Bundle).Code);
    }
}
