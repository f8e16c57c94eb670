using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.Sigstore.Verification;
using Xunit;

namespace TransparencyLog.Sigstore.Tests.Verification;

/// <summary>
/// The verifier's own path validation (no platform chain builder, no system store): a valid Fulcio-shaped chain and
/// a TSA chain pass; every refusal RFC 5280 asks of these short chains is exercised one at a time.
/// </summary>
public sealed class CertificatePathTests : IDisposable
{
    private const string CodeSigning = CertificateChains.CodeSigningEku;
    private const string TimeStamping = CertificateChains.TimeStampingEku;
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";

    private static readonly DateTimeOffset s_now = new(2026, 12, 6, 10, 0, 0, TimeSpan.Zero);

    private readonly ECDsa _rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDsa _intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
    private readonly ECDsa _leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _root;
    private readonly X509Certificate2 _intermediate;

    public CertificatePathTests()
    {
        _root = Ca("CN=path-root", _rootKey, null, null, pathLength: 1);
        _intermediate = Ca("CN=path-intermediate", _intermediateKey, _root.SubjectName, Signer(_rootKey), pathLength: 0, eku: CodeSigning);
    }

    [Fact]
    public void TryValidate_FulcioShapedChain_ReturnsIssuer()
    {
        using var leaf = Leaf(_intermediate.SubjectName, Signer(_intermediateKey));

        Assert.True(Validate(leaf, [_intermediate, _root], CodeSigning, out var issuer, out var error), error);
        using (issuer)
        {
            Assert.Equal(_intermediate.RawData, issuer!.RawData);
        }
    }

    [Fact]
    public void TryValidate_LeafDirectlyUnderRoot_ReturnsRoot()
    {
        using var leaf = Leaf(_root.SubjectName, Signer(_rootKey));

        Assert.True(Validate(leaf, [_root], CodeSigning, out var issuer, out var error), error);
        issuer!.Dispose();
    }

    [Fact]
    public void TryValidate_ExpiredIntermediateAtSigningTime_Fails()
    {
        using var intermediate = Ca("CN=path-intermediate", _intermediateKey, _root.SubjectName, Signer(_rootKey), pathLength: 0,
            notBefore: s_now.AddYears(-2), notAfter: s_now.AddMinutes(-1));
        using var leaf = Leaf(intermediate.SubjectName, Signer(_intermediateKey));

        Assert.False(Validate(leaf, [intermediate, _root], CodeSigning, out _, out var error));
        Assert.Contains("path-intermediate", error);
        Assert.Contains("is not valid at", error);
    }

    [Fact]
    public void TryValidate_LeafNotYetValidAtSigningTime_Fails()
    {
        using var leaf = Leaf(_intermediate.SubjectName, Signer(_intermediateKey), notBefore: s_now.AddMinutes(1));

        Assert.False(Validate(leaf, [_intermediate, _root], CodeSigning, out _, out var error));
        Assert.Contains("is not valid at", error);
    }

    [Fact]
    public void TryValidate_LeafWithOtherExtendedKeyUsage_Fails()
    {
        using var leaf = Leaf(_intermediate.SubjectName, Signer(_intermediateKey), eku: ServerAuth);

        Assert.False(Validate(leaf, [_intermediate, _root], CodeSigning, out _, out var error));
        Assert.Contains($"does not carry the extended key usage {CodeSigning}", error);
    }

    [Fact]
    public void TryValidate_LeafWithoutExtendedKeyUsage_FailsWhenOneIsRequired()
    {
        using var leaf = Leaf(_intermediate.SubjectName, Signer(_intermediateKey), eku: null);

        Assert.False(Validate(leaf, [_intermediate, _root], CodeSigning, out _, out var error));
        Assert.Contains("does not carry the extended key usage", error);
        Assert.True(Validate(leaf, [_intermediate, _root], null, out var issuer, out error), error);
        issuer!.Dispose();
    }

    [Fact]
    public void TryValidate_IntermediateRestrictedToOtherUsage_Fails()
    {
        using var intermediate = Ca("CN=path-intermediate", _intermediateKey, _root.SubjectName, Signer(_rootKey), pathLength: 0, eku: ServerAuth);
        using var leaf = Leaf(intermediate.SubjectName, Signer(_intermediateKey));

        Assert.False(Validate(leaf, [intermediate, _root], CodeSigning, out _, out var error));
        Assert.Contains($"does not allow {CodeSigning}", error);
    }

    [Fact]
    public void TryValidate_LeafSignedByAnotherKeyUnderTheSameName_Fails()
    {
        using var impostorKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var leaf = Leaf(_intermediate.SubjectName, Signer(impostorKey));

        Assert.False(Validate(leaf, [_intermediate, _root], CodeSigning, out _, out var error));
        Assert.Contains("is not signed by the key of", error);
    }

    [Fact]
    public void TryValidate_IntermediateNotACa_Fails()
    {
        using var intermediate = Ca("CN=path-intermediate", _intermediateKey, _root.SubjectName, Signer(_rootKey), pathLength: null, isCa: false);
        using var leaf = Leaf(intermediate.SubjectName, Signer(_intermediateKey));

        Assert.False(Validate(leaf, [intermediate, _root], CodeSigning, out _, out var error));
        Assert.Contains("is not a CA", error);
    }

    [Fact]
    public void TryValidate_IntermediateWithoutBasicConstraints_Fails()
    {
        using var intermediate = Ca("CN=path-intermediate", _intermediateKey, _root.SubjectName, Signer(_rootKey), pathLength: null, basicConstraints: false);
        using var leaf = Leaf(intermediate.SubjectName, Signer(_intermediateKey));

        Assert.False(Validate(leaf, [intermediate, _root], CodeSigning, out _, out var error));
        Assert.Contains("is not a CA", error);
    }

    [Fact]
    public void TryValidate_IntermediateKeyUsageWithoutKeyCertSign_Fails()
    {
        using var intermediate = Ca("CN=path-intermediate", _intermediateKey, _root.SubjectName, Signer(_rootKey), pathLength: 0,
            keyUsage: X509KeyUsageFlags.DigitalSignature);
        using var leaf = Leaf(intermediate.SubjectName, Signer(_intermediateKey));

        Assert.False(Validate(leaf, [intermediate, _root], CodeSigning, out _, out var error));
        Assert.Contains("without keyCertSign", error);
    }

    [Fact]
    public void TryValidate_PathLengthExceeded_Fails()
    {
        // root (pathLen 0) → intermediate → leaf: one intermediate below a root that allows none.
        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var root = Ca("CN=strict-root", rootKey, null, null, pathLength: 0);
        using var intermediate = Ca("CN=path-intermediate", _intermediateKey, root.SubjectName, Signer(rootKey), pathLength: 0);
        using var leaf = Leaf(intermediate.SubjectName, Signer(_intermediateKey));

        Assert.False(Validate(leaf, [intermediate, root], CodeSigning, out _, out var error));
        Assert.Contains("pathLenConstraint", error);

        // The same root may issue the leaf directly.
        using var direct = Leaf(root.SubjectName, Signer(rootKey));
        Assert.True(Validate(direct, [root], CodeSigning, out var issuer, out error), error);
        issuer!.Dispose();
    }

    [Fact]
    public void TryValidate_IntermediatePathLengthZeroWithSecondIntermediateBelow_Fails()
    {
        using var secondKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var second = Ca("CN=second-intermediate", secondKey, _intermediate.SubjectName, Signer(_intermediateKey), pathLength: null);
        using var leaf = Leaf(second.SubjectName, Signer(secondKey));

        Assert.False(Validate(leaf, [second, _intermediate, _root], CodeSigning, out _, out var error));
        Assert.Contains("path-intermediate", error);
        Assert.Contains("pathLenConstraint", error);
    }

    [Fact]
    public void TryValidate_UnknownCriticalExtensionOnLeaf_Fails()
    {
        using var leaf = Leaf(_intermediate.SubjectName, Signer(_intermediateKey),
            extra: new X509Extension("1.3.6.1.4.1.99999.1", [0x05, 0x00], critical: true));

        Assert.False(Validate(leaf, [_intermediate, _root], CodeSigning, out _, out var error));
        Assert.Contains("critical extension 1.3.6.1.4.1.99999.1", error);
    }

    [Fact]
    public void TryValidate_UnknownNonCriticalExtension_IsIgnored()
    {
        using var leaf = Leaf(_intermediate.SubjectName, Signer(_intermediateKey),
            extra: new X509Extension("1.3.6.1.4.1.99999.1", [0x05, 0x00], critical: false));

        Assert.True(Validate(leaf, [_intermediate, _root], CodeSigning, out var issuer, out var error), error);
        issuer!.Dispose();
    }

    [Fact]
    public void TryValidate_CriticalNameConstraintsOnIntermediate_Fails()
    {
        // Name constraints are not implemented, so a CA that relies on them is refused rather than half-enforced.
        using var intermediate = Ca("CN=path-intermediate", _intermediateKey, _root.SubjectName, Signer(_rootKey), pathLength: 0,
            extra: new X509Extension("2.5.29.30", [0x30, 0x00], critical: true));
        using var leaf = Leaf(intermediate.SubjectName, Signer(_intermediateKey));

        Assert.False(Validate(leaf, [intermediate, _root], CodeSigning, out _, out var error));
        Assert.Contains("critical extension 2.5.29.30", error);
    }

    [Fact]
    public void TryValidate_ChainNotReachingTheTrustedRoot_Fails()
    {
        // The intermediate is the real one, but the trusted chain ends at another root: the path has no anchor.
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var otherRoot = Ca("CN=other-root", otherKey, null, null, pathLength: 1);
        using var leaf = Leaf(_intermediate.SubjectName, Signer(_intermediateKey));

        Assert.False(Validate(leaf, [_intermediate, otherRoot], CodeSigning, out _, out var error));
        Assert.Contains("no path to the trusted root", error);
    }

    [Fact]
    public void TryValidate_RootWithSameNameButOtherKey_Fails()
    {
        // A look-alike root under the trusted root's name does not anchor the real intermediate.
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var lookAlike = Ca("CN=path-root", otherKey, null, null, pathLength: 1);
        using var leaf = Leaf(_intermediate.SubjectName, Signer(_intermediateKey));

        Assert.False(Validate(leaf, [_intermediate, lookAlike], CodeSigning, out _, out var error));
        Assert.Contains("is not signed by the key of", error);
    }

    [Fact]
    public void TryValidate_LeafFromUnrelatedCa_Fails()
    {
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var leaf = Leaf(new X500DistinguishedName("CN=unrelated-ca"), Signer(otherKey));

        Assert.False(Validate(leaf, [_intermediate, _root], CodeSigning, out _, out var error));
        Assert.Contains("no path to the trusted root", error);
    }

    [Fact]
    public void TryValidate_LeafIsTheTrustedRoot_Fails()
    {
        Assert.False(Validate(_root, [_intermediate, _root], CodeSigning, out _, out var error));
        Assert.Contains("itself a trusted root", error);
    }

    [Fact]
    public void TryValidate_TamperedLeafSignature_Fails()
    {
        using var leaf = Leaf(_intermediate.SubjectName, Signer(_intermediateKey));
        var der = leaf.RawData;
        der[^5] ^= 0x01;
        using var tampered = X509CertificateLoader.LoadCertificate(der);

        Assert.False(Validate(tampered, [_intermediate, _root], CodeSigning, out _, out var error));
        Assert.Contains("is not signed by the key of", error);
    }

    [Fact]
    public void TryValidate_TsaChainWithTimeStampingUsage_PassesOnlyForTimeStamping()
    {
        using var tsaKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var tsa = Issue(new X500DistinguishedName("CN=tsa"), tsaKey, _root.SubjectName, Signer(_rootKey), s_now.AddDays(-1), s_now.AddYears(1), request =>
        {
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(TimeStamping)], true));
        });

        Assert.True(Validate(tsa, [_root], TimeStamping, out var issuer, out var error), error);
        issuer!.Dispose();
        Assert.False(Validate(tsa, [_root], CodeSigning, out _, out error));
        Assert.Contains("extended key usage", error);
    }

    [Theory]
    [InlineData("pkcs1-sha256")]
    [InlineData("pkcs1-sha384")]
    [InlineData("pss-sha256")]
    [InlineData("pss-sha512")]
    public void TryValidate_RsaRoot_VerifiesItsSignatureScheme(string scheme)
    {
        using var rootKey = RSA.Create(3072);
        var hash = scheme.EndsWith("256", StringComparison.Ordinal) ? HashAlgorithmName.SHA256
            : scheme.EndsWith("384", StringComparison.Ordinal) ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA512;
        var padding = scheme.StartsWith("pss", StringComparison.Ordinal) ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1;
        var rootRequest = new CertificateRequest("CN=rsa-root", rootKey, hash, padding);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        rootRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var root = rootRequest.CreateSelfSigned(s_now.AddYears(-1), s_now.AddYears(5));
        var signer = X509SignatureGenerator.CreateForRSA(rootKey, padding);
        using var intermediate = Issue(new X500DistinguishedName("CN=rsa-intermediate"), _intermediateKey, root.SubjectName, signer, s_now.AddYears(-1), s_now.AddYears(2),
            request =>
            {
                request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
                request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
            },
            hash);
        using var leaf = Leaf(intermediate.SubjectName, Signer(_intermediateKey));

        Assert.True(Validate(leaf, [intermediate, root], CodeSigning, out var issuer, out var error), error);
        issuer!.Dispose();

        using var otherKey = RSA.Create(3072);
        using var forged = Issue(new X500DistinguishedName("CN=rsa-intermediate"), _intermediateKey, root.SubjectName,
            X509SignatureGenerator.CreateForRSA(otherKey, padding), s_now.AddYears(-1), s_now.AddYears(2),
            request => request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true)), hash);
        Assert.False(Validate(leaf, [forged, root], CodeSigning, out _, out error));
        Assert.Contains("is not signed by the key of", error);
    }

    [Fact]
    public void TryValidate_Ed25519ChainFromOpenSsl_Verifies()
    {
        // The BCL cannot issue Ed25519 certificates; openssl makes an Ed25519 root that signs an Ed25519 leaf.
        var dir = Directory.CreateTempSubdirectory("tlog-ed25519-path-").FullName;
        try
        {
            OpenSsl.Run($"req -x509 -newkey ed25519 -nodes -keyout {dir}/root.key -out {dir}/root.pem -subj /CN=ed-root -days 3650 "
                + "-addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign");
            OpenSsl.Run($"req -new -newkey ed25519 -nodes -keyout {dir}/leaf.key -out {dir}/leaf.csr -subj /CN=ed-leaf");
            File.WriteAllText($"{dir}/leaf.ext", "basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n");
            OpenSsl.Run($"x509 -req -in {dir}/leaf.csr -CA {dir}/root.pem -CAkey {dir}/root.key -set_serial 7 -days 30 -extfile {dir}/leaf.ext -out {dir}/leaf.pem");
            using var root = X509Certificate2.CreateFromPem(File.ReadAllText($"{dir}/root.pem"));
            using var leaf = X509Certificate2.CreateFromPem(File.ReadAllText($"{dir}/leaf.pem"));
            var now = DateTimeOffset.UtcNow;

            Assert.True(CertificateChains.TryValidate(leaf, [root.RawData], now, CodeSigning, out var issuer, out var error), error);
            issuer!.Dispose();

            OpenSsl.Run($"req -x509 -newkey ed25519 -nodes -keyout {dir}/other.key -out {dir}/other.pem -subj /CN=ed-root -days 3650 "
                + "-addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign");
            using var other = X509Certificate2.CreateFromPem(File.ReadAllText($"{dir}/other.pem"));
            Assert.False(CertificateChains.TryValidate(leaf, [other.RawData], now, CodeSigning, out _, out error));
            Assert.Contains("is not signed by the key of", error);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static bool Validate(X509Certificate2 leaf, X509Certificate2[] trusted, string? eku, out X509Certificate2? issuer, out string error) =>
        CertificateChains.TryValidate(leaf, trusted.Select(static c => c.RawData).ToList(), s_now, eku, out issuer, out error);

    private static X509SignatureGenerator Signer(ECDsa key) => X509SignatureGenerator.CreateForECDsa(key);

    private static X509Certificate2 Ca(
        string subject, ECDsa key, X500DistinguishedName? issuerName, X509SignatureGenerator? issuerSigner, int? pathLength,
        bool isCa = true, bool basicConstraints = true, X509KeyUsageFlags keyUsage = X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign,
        string? eku = null, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, X509Extension? extra = null)
    {
        var name = new X500DistinguishedName(subject);
        return Issue(name, key, issuerName ?? name, issuerSigner ?? Signer(key), notBefore ?? s_now.AddYears(-1), notAfter ?? s_now.AddYears(5), request =>
        {
            if (basicConstraints)
            {
                request.CertificateExtensions.Add(new X509BasicConstraintsExtension(isCa, pathLength is not null, pathLength ?? 0, true));
            }

            request.CertificateExtensions.Add(new X509KeyUsageExtension(keyUsage, true));
            if (eku is not null)
            {
                request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(eku)], false));
            }

            if (extra is not null)
            {
                request.CertificateExtensions.Add(extra);
            }
        });
    }

    private X509Certificate2 Leaf(
        X500DistinguishedName issuerName, X509SignatureGenerator issuerSigner, string? eku = CodeSigning, DateTimeOffset? notBefore = null, X509Extension? extra = null) =>
        Issue(new X500DistinguishedName(string.Empty), _leafKey, issuerName, issuerSigner, notBefore ?? s_now.AddMinutes(-5), s_now.AddMinutes(5), request =>
        {
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            if (eku is not null)
            {
                request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(eku)], false));
            }

            var san = new SubjectAlternativeNameBuilder();
            san.AddEmailAddress("alice@example.com");
            request.CertificateExtensions.Add(new X509Extension("2.5.29.17", san.Build().RawData, critical: true));
            if (extra is not null)
            {
                request.CertificateExtensions.Add(extra);
            }
        });

    private static X509Certificate2 Issue(
        X500DistinguishedName subject, ECDsa key, X500DistinguishedName issuerName, X509SignatureGenerator issuerSigner,
        DateTimeOffset notBefore, DateTimeOffset notAfter, Action<CertificateRequest> extensions, HashAlgorithmName? hash = null)
    {
        var request = new CertificateRequest(subject, key, hash ?? (key.KeySize == 384 ? HashAlgorithmName.SHA384 : HashAlgorithmName.SHA256));
        extensions(request);
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7f;
        using var issued = request.Create(issuerName, issuerSigner, notBefore, notAfter, serial);
        return X509CertificateLoader.LoadCertificate(issued.RawData);
    }

    public void Dispose()
    {
        _root.Dispose();
        _intermediate.Dispose();
        _rootKey.Dispose();
        _intermediateKey.Dispose();
        _leafKey.Dispose();
    }
}
