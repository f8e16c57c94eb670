using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Issuance;
using TransparencyLog.Sigstore.CertificateTransparency;
using static TransparencyLog.CaService.Tests.Issuance.IssuanceTestSupport;

namespace TransparencyLog.CaService.Tests.Issuance;

public sealed class SctEmbeddingTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly string _directory = Directory.CreateTempSubdirectory("ca-sct-").FullName;
    private CaSigner _ca = null!; // set in InitializeAsync, which xunit runs before every test
    private FakeCtLog _log = null!;

    public async Task InitializeAsync()
    {
        _ca = NewCa(_time.GetUtcNow());
        _log = await FakeCtLog.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _log.DisposeAsync();
        _ca.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task IssueAsync_EmbeddedMode_FinalTbsMinusSctEqualsPrecertTbsMinusPoison()
    {
        var issued = await Issuer(SctMode.Embedded).IssueAsync(Principal(), NewKey(), default);

        var precertChain = Assert.Single(_log.ReceivedPreChains);
        Assert.Equal(3, precertChain.Length);
        Assert.True(Precertificate.IsPrecertificate(precertChain[0]));
        Assert.Equal(_ca.Chain.Select(c => c.RawData), precertChain.Skip(1));
        var poison = ReadExtensions(precertChain[0]).Single(e => e.Oid == Precertificate.PoisonOid);
        Assert.True(poison.Critical);
        Assert.Equal([0x05, 0x00], poison.Value);

        var leaf = DerFromPem(issued.ChainPem[0]);
        Assert.False(Precertificate.IsPrecertificate(leaf));
        Assert.Equal(Precertificate.TbsWithoutPoison(precertChain[0]), Precertificate.TbsWithoutSctList(leaf));
        var extensions = ReadExtensions(leaf);
        Assert.Equal(SctList.Oid, extensions[^1].Oid);
        Assert.False(extensions[^1].Critical);
        Assert.Equal(
            ReadExtensions(precertChain[0]).SkipLast(1).Select(e => (e.Oid, e.Critical, Convert.ToHexString(e.Value))),
            extensions.SkipLast(1).Select(e => (e.Oid, e.Critical, Convert.ToHexString(e.Value))));
        Assert.Null(issued.DetachedSct);
    }

    [Fact]
    public void Verify_ImportedLogKey_AgreesWithSpkiOverload()
    {
        using var logKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsaKey = RSA.Create(2048);
        var spki = logKey.ExportSubjectPublicKeyInfo();
        var logId = SctSignatures.LogIdFromSpki(spki);
        var sct = SctSignatures.SignForCertificate(logKey, 1_700_000_000_000, [1, 2, 3], []);
        var signedData = CtSignedData.ForCertificate(sct.TimestampMs, [1, 2, 3], []);
        using var imported = ECDsa.Create();
        imported.ImportSubjectPublicKeyInfo(spki, out _);

        Assert.True(SctSignatures.Verify(sct, signedData, spki));
        Assert.True(SctSignatures.Verify(sct, signedData, imported, logId));
        byte[] otherData = [.. signedData, 0];
        Assert.False(SctSignatures.Verify(sct, otherData, spki));
        Assert.False(SctSignatures.Verify(sct, otherData, imported, logId));
        // A log ID that is not the key's, and a key of another type than the SCT claims.
        Assert.False(SctSignatures.Verify(sct, signedData, imported, SctSignatures.LogIdFromSpki(rsaKey.ExportSubjectPublicKeyInfo())));
        Assert.False(SctSignatures.Verify(sct, signedData, rsaKey, logId));
    }

    [Fact]
    public async Task IssueAsync_EmbeddedMode_SctVerifiesLikeSigstoreJs()
    {
        var issued = await Issuer(SctMode.Embedded).IssueAsync(Principal(), NewKey(), default);
        var leafDer = DerFromPem(issued.ChainPem[0]);
        using var leaf = X509CertificateLoader.LoadCertificate(leafDer);
        using var intermediate = X509CertificateLoader.LoadCertificate(DerFromPem(issued.ChainPem[1]));

        // What a verifier does: take the extension, strip it from the TBS, rebuild the precert_entry signed data.
        var extnValue = leaf.Extensions[SctList.Oid]!.RawData;
        Assert.Equal(0x04, extnValue[0]); // OCTET STRING inside the extnValue OCTET STRING
        var sct = Assert.Single(SctList.DecodeExtensionValue(extnValue));
        Assert.Equal(SHA256.HashData(_log.Spki), sct.LogId);
        Assert.Equal(0, sct.Version);
        Assert.Equal(SctSignatures.Sha256, sct.HashAlgorithm);
        Assert.Equal(SctSignatures.Ecdsa, sct.SignatureAlgorithm);
        var signedData = CtSignedData.ForPrecertificate(
            sct.TimestampMs,
            SHA256.HashData(intermediate.PublicKey.ExportSubjectPublicKeyInfo()),
            Precertificate.TbsWithoutSctList(leafDer),
            sct.Extensions);
        Assert.True(_log.Key.VerifyData(signedData, sct.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
        Assert.True(SctSignatures.Verify(sct, signedData, _log.Spki));
    }

    [Fact]
    public async Task IssueAsync_LogReportsLeafIndex_IndexReturned()
    {
        _log.Extensions = [0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0x2A];

        var issued = await Issuer(SctMode.Embedded).IssueAsync(Principal(), NewKey(), default);

        Assert.Equal(298, issued.SctLogIndex);
    }

    [Theory]
    [InlineData(nameof(FakeCtLogMode.BadSignature))]
    [InlineData(nameof(FakeCtLogMode.WrongTbs))]
    [InlineData(nameof(FakeCtLogMode.BadRequest))]
    public async Task IssueAsync_LogMisbehaves_CertificateTransparencyFailed(string mode)
    {
        _log.Mode = Enum.Parse<FakeCtLogMode>(mode);

        var error = await Assert.ThrowsAsync<CaException>(() => Issuer(SctMode.Embedded).IssueAsync(Principal(), NewKey(), default));

        Assert.Equal(CaErrorCode.CertificateTransparencyFailed, error.Code);
    }

    [Fact]
    public async Task IssueAsync_SctFromAnotherLogKey_CertificateTransparencyFailed()
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var keyPath = Path.Combine(_directory, "other.pub");
        File.WriteAllText(keyPath, other.ExportSubjectPublicKeyInfoPem());
        var issuer = NewIssuer(_ca, _time, new IssuanceOptions { CtLogUrl = _log.Url, CtLogPublicKeyPath = keyPath });

        var error = await Assert.ThrowsAsync<CaException>(() => issuer.IssueAsync(Principal(), NewKey(), default));

        Assert.Equal(CaErrorCode.CertificateTransparencyFailed, error.Code);
    }

    [Fact]
    public async Task IssueAsync_LogRejectsTheChain_FailsWithoutRetrying()
    {
        _log.Mode = FakeCtLogMode.BadRequest;

        var error = await Assert.ThrowsAsync<CaException>(() => Issuer(SctMode.Embedded).IssueAsync(Principal(), NewKey(), default));

        Assert.Equal(CaErrorCode.CertificateTransparencyFailed, error.Code);
        Assert.Single(_log.ReceivedPreChains);
    }

    [Fact]
    public async Task IssueAsync_LogUnavailableTwiceThenRecovers_IssuesAfterRetrying()
    {
        _log.FailNext = 2;

        var issued = await Issuer(SctMode.Embedded).IssueAsync(Principal(), NewKey(), default);

        Assert.Equal(3, _log.ReceivedPreChains.Count);
        var leaf = DerFromPem(issued.ChainPem[0]);
        Assert.Contains(ReadExtensions(leaf), e => e.Oid == SctList.Oid);
        Assert.Equal(0, _log.FailNext);
    }

    [Fact]
    public async Task IssueAsync_LogTimesOutOnceThenRecovers_IssuesAfterRetrying()
    {
        // The first attempt hangs until the per-attempt timeout; the retry is answered.
        _log.Failure = FakeCtLogFailure.Hang;
        _log.FailNext = 1;
        var issuer = NewIssuer(_ca, _time, new IssuanceOptions
        {
            CtLogUrl = _log.Url,
            CtLogPublicKeyPath = _log.WritePublicKey(_directory),
            CtLogTimeout = TimeSpan.FromSeconds(2),
            CtLogRetryBudget = TimeSpan.FromSeconds(60),
        });

        var issued = await issuer.IssueAsync(Principal(), NewKey(), default);

        Assert.True(_log.ReceivedPreChains.Count >= 2);
        Assert.Contains(ReadExtensions(DerFromPem(issued.ChainPem[0])), e => e.Oid == SctList.Oid);
    }

    [Fact]
    public async Task IssueAsync_LogHangsWithTheDefaultBudget_UnavailableWhileTheClientStillWaits()
    {
        // Every attempt hangs; with the shipped budget the CA must give its answer (503 / UNAVAILABLE, Retry-After)
        // while a sigstore client is still waiting, not after the client has given up.
        _log.Failure = FakeCtLogFailure.Hang;
        _log.FailNext = int.MaxValue;
        var issuer = NewIssuer(_ca, _time, new IssuanceOptions
        {
            CtLogUrl = _log.Url,
            CtLogPublicKeyPath = _log.WritePublicKey(_directory),
        });
        using var client = new CancellationTokenSource(IssuanceOptions.SigstoreClientTimeout);

        var error = await Assert.ThrowsAsync<CaException>(() => issuer.IssueAsync(Principal(), NewKey(), client.Token));

        Assert.Equal(CaErrorCode.CertificateTransparencyUnavailable, error.Code);
        Assert.False(client.IsCancellationRequested);
    }

    [Fact]
    public async Task IssueAsync_LogAnswers5xxThroughoutTheBudget_CertificateTransparencyUnavailable()
    {
        _log.Mode = FakeCtLogMode.ServerError;
        var issuer = NewIssuer(_ca, _time, new IssuanceOptions
        {
            CtLogUrl = _log.Url,
            CtLogPublicKeyPath = _log.WritePublicKey(_directory),
            // Long enough for a second attempt even when the first takes seconds on a loaded machine (it took over 3 s
            // at load average 100); the fake log answers at once, so a quiet machine makes several.
            CtLogRetryBudget = TimeSpan.FromSeconds(10),
        });

        var error = await Assert.ThrowsAsync<CaException>(() => issuer.IssueAsync(Principal(), NewKey(), default));

        Assert.Equal(CaErrorCode.CertificateTransparencyUnavailable, error.Code);
        Assert.True(_log.ReceivedPreChains.Count >= 2, $"{_log.ReceivedPreChains.Count} attempts");
    }

    [Fact]
    public async Task IssueAsync_LogUnreachable_CertificateTransparencyUnavailable()
    {
        var url = _log.Url;
        await _log.DisposeAsync();
        _log = await FakeCtLog.StartAsync();
        var issuer = NewIssuer(_ca, _time, new IssuanceOptions
        {
            CtLogUrl = url,
            CtLogPublicKeyPath = _log.WritePublicKey(_directory),
            CtLogRetryBudget = TimeSpan.FromSeconds(3),
        });

        var error = await Assert.ThrowsAsync<CaException>(() => issuer.IssueAsync(Principal(), NewKey(), default));

        Assert.Equal(CaErrorCode.CertificateTransparencyUnavailable, error.Code);
    }

    [Fact]
    public async Task IssueAsync_DetachedMode_NoPoisonNoSctListAndVerifiableAddChainJson()
    {
        var issued = await Issuer(SctMode.Detached).IssueAsync(Principal(), NewKey(), default);

        Assert.Empty(_log.ReceivedPreChains);
        var leaf = DerFromPem(issued.ChainPem[0]);
        Assert.DoesNotContain(ReadExtensions(leaf), e => e.Oid is SctList.Oid or Precertificate.PoisonOid);
        Assert.NotNull(issued.DetachedSct);
        var sct = SignedCertificateTimestamp.FromAddChainResponseJson(System.Text.Encoding.UTF8.GetString(issued.DetachedSct));
        Assert.True(SctSignatures.Verify(sct, CtSignedData.ForCertificate(sct.TimestampMs, leaf, sct.Extensions), _log.Spki));
    }

    private CertificateIssuer Issuer(SctMode mode) => NewIssuer(_ca, _time, new IssuanceOptions
    {
        CtLogUrl = _log.Url,
        CtLogPublicKeyPath = _log.WritePublicKey(_directory),
        SctMode = mode,
    });
}
