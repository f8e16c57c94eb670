using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using TransparencyLog.CaService.Errors;
using TransparencyLog.CaService.Identity;
using TransparencyLog.CaService.Issuance;
using static TransparencyLog.CaService.Tests.Issuance.IssuanceTestSupport;

namespace TransparencyLog.CaService.Tests.Issuance;

public sealed class CertificateProfileTests : IDisposable
{
    // A fractional second, so truncation of NotBefore is observable.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow.AddTicks(-(DateTimeOffset.UtcNow.Ticks % TimeSpan.TicksPerSecond)).AddMilliseconds(789));
    private readonly CaSigner _ca;
    private readonly CertificateIssuer _issuer;

    public CertificateProfileTests()
    {
        _ca = NewCa(_time.GetUtcNow());
        _issuer = NewIssuer(_ca, _time);
    }

    public void Dispose() => _ca.Dispose();

    [Fact]
    public async Task IssueAsync_AnyPrincipal_EmptySubjectV3PositiveSerialAndIssuerBytesOfIntermediate()
    {
        var (leaf, der) = await IssueAsync(Principal());

        Assert.Equal(3, leaf.Version);
        Assert.Equal([0x30, 0x00], leaf.SubjectName.RawData);
        Assert.Equal(_ca.IssuingCertificate.SubjectName.RawData, leaf.IssuerName.RawData);
        var serial = leaf.SerialNumberBytes.ToArray(); // big-endian, as in the DER
        Assert.InRange(serial.Length, 1, 20);
        Assert.True(serial[0] is > 0 and < 0x80, "serial must be positive and minimally encoded");
        Assert.Equal("1.2.840.10045.4.3.2", leaf.SignatureAlgorithm.Value);
        Assert.DoesNotContain(ReadExtensions(der), e => e.Oid == "2.5.29.19");
    }

    [Fact]
    public async Task IssueAsync_FractionalNow_ValidityIsWholeSecondsAndExactlyTenMinutes()
    {
        var (_, der) = await IssueAsync(Principal());

        var tbs = new AsnReader(Tbs(der), AsnEncodingRules.DER).ReadSequence();
        tbs.ReadEncodedValue(); // version
        tbs.ReadEncodedValue(); // serial
        tbs.ReadEncodedValue(); // signature
        tbs.ReadEncodedValue(); // issuer
        var validity = tbs.ReadSequence();
        var notBefore = validity.ReadUtcTime();
        var notAfter = validity.ReadUtcTime();
        Assert.Equal(TimeSpan.FromSeconds(600), notAfter - notBefore);
        Assert.Equal(0, notBefore.Ticks % TimeSpan.TicksPerSecond);
        Assert.True(notBefore <= _time.GetUtcNow());
        Assert.True(_time.GetUtcNow() - notBefore < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task IssueAsync_AnyPrincipal_KeyUsageEkuSkiAkiAsFulcio()
    {
        var (leaf, der) = await IssueAsync(Principal());
        var extensions = ReadExtensions(der);

        var ku = Assert.Single(extensions, e => e.Oid == "2.5.29.15");
        Assert.True(ku.Critical);
        Assert.Equal(X509KeyUsageFlags.DigitalSignature, leaf.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages);
        var eku = Assert.Single(extensions, e => e.Oid == "2.5.29.37");
        Assert.False(eku.Critical);
        Assert.Equal("1.3.6.1.5.5.7.3.3", Assert.Single(leaf.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>()).Value);
        Assert.Single(extensions, e => e.Oid == "2.5.29.14");
        var aki = leaf.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().Single();
        var issuerSki = _ca.IssuingCertificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single();
        Assert.Equal(issuerSki.SubjectKeyIdentifierBytes.ToArray(), aki.KeyIdentifier!.Value.ToArray());
    }

    [Theory]
    [InlineData(nameof(SanKind.Email), 1)]
    [InlineData(nameof(SanKind.Uri), 6)]
    [InlineData(nameof(SanKind.Username), 0)]
    public async Task IssueAsync_EachSanKind_ExactlyOneCriticalNameOfThatKind(string kindName, int tag)
    {
        var kind = Enum.Parse<SanKind>(kindName);
        var principal = Principal(kind);
        var (_, der) = await IssueAsync(principal);

        var san = Assert.Single(ReadExtensions(der), e => e.Oid == "2.5.29.17");
        Assert.True(san.Critical);
        var names = new AsnReader(san.Value, AsnEncodingRules.DER).ReadSequence();
        var nameTag = names.PeekTag();
        Assert.Equal(new Asn1Tag(TagClass.ContextSpecific, tag, kind == SanKind.Username), nameTag);
        if (kind == SanKind.Username)
        {
            var otherName = names.ReadSequence(nameTag);
            Assert.Equal(FulcioArc + "7", otherName.ReadObjectIdentifier());
            var value = otherName.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, true));
            Assert.Equal(principal.San.Value, value.ReadCharacterString(UniversalTagNumber.UTF8String));
            value.ThrowIfNotEmpty();
            otherName.ThrowIfNotEmpty();
        }
        else
        {
            Assert.Equal(principal.San.Value, names.ReadCharacterString(UniversalTagNumber.IA5String, nameTag));
        }

        names.ThrowIfNotEmpty();
    }

    [Fact]
    public async Task IssueAsync_FulcioExtensions_RawUpToSixUtf8StringFromEightAscendingAndOnlyPresent()
    {
        var values = new Dictionary<string, string>
        {
            [FulcioArc + "24"] = "sub-1",
            [FulcioArc + "12"] = "https://github.com/o/r",
            [FulcioArc + "2"] = "push",
            [FulcioArc + "1"] = "https://issuer.example.com",
            [FulcioArc + "8"] = "https://issuer.example.com",
            [FulcioArc + "9"] = "https://github.com/o/r/.github/workflows/x.yml@refs/heads/main",
            [FulcioArc + "13"] = string.Empty,
        };
        var (_, der) = await IssueAsync(Principal(SanKind.Uri, extensions: values));
        var extensions = ReadExtensions(der);

        var fulcio = extensions.Where(e => e.Oid.StartsWith(FulcioArc, StringComparison.Ordinal)).ToList();
        Assert.Equal(["1", "2", "8", "9", "12", "24"], fulcio.Select(e => e.Oid[FulcioArc.Length..]));
        Assert.All(fulcio, e => Assert.False(e.Critical));
        foreach (var extension in fulcio)
        {
            var expected = values[extension.Oid];
            var arc = int.Parse(extension.Oid[FulcioArc.Length..], System.Globalization.CultureInfo.InvariantCulture);
            if (arc <= 6)
            {
                Assert.Equal(Encoding.UTF8.GetBytes(expected), extension.Value);
            }
            else
            {
                Assert.Equal(0x0C, extension.Value[0]);
                Assert.Equal(expected, AsnDecoder.ReadCharacterString(extension.Value, AsnEncodingRules.DER, UniversalTagNumber.UTF8String, out var consumed));
                Assert.Equal(extension.Value.Length, consumed);
            }
        }

        Assert.Equal(
            ["2.5.29.15", "2.5.29.37", "2.5.29.14", "2.5.29.35", "2.5.29.17", FulcioArc + "1", FulcioArc + "2", FulcioArc + "8", FulcioArc + "9", FulcioArc + "12", FulcioArc + "24"],
            extensions.Select(e => e.Oid));
    }

    [Fact]
    public async Task IssueAsync_PrincipalWithoutIssuerExtensions_IssuerStillWrittenToOneAndEight()
    {
        var (_, der) = await IssueAsync(Principal(extensions: new Dictionary<string, string>()));

        var extensions = ReadExtensions(der);
        Assert.Equal("https://issuer.example.com"u8.ToArray(), extensions.Single(e => e.Oid == FulcioArc + "1").Value);
        Assert.Single(extensions, e => e.Oid == FulcioArc + "8");
    }

    [Theory]
    [InlineData("1.3.6.1.4.1.57264.1.7")]
    [InlineData("1.3.6.1.4.1.57264.1.25")]
    [InlineData("1.3.6.1.4.1.57264.1.09")]
    [InlineData("2.5.29.19")]
    public async Task IssueAsync_UnknownExtensionKey_Throws(string oid)
    {
        var principal = Principal(extensions: new Dictionary<string, string> { [oid] = "x" });

        var error = await Assert.ThrowsAsync<CaException>(() => _issuer.IssueAsync(principal, NewKey(), default));
        Assert.Equal(CaErrorCode.Internal, error.Code);
    }

    [Fact]
    public async Task IssueAsync_NonAsciiEmail_InvalidRequest()
    {
        var error = await Assert.ThrowsAsync<CaException>(() =>
            _issuer.IssueAsync(Principal(SanKind.Email, "älice@example.com"), NewKey(), default));
        Assert.Equal(CaErrorCode.InvalidRequest, error.Code);
    }

    [Theory]
    [InlineData("email", "alice@example.com\n")]
    [InlineData("email", " alice@example.com")]
    [InlineData("uri", "https://example.com/a\u0000b")]
    [InlineData("uri", "https://example.com/\t")]
    public async Task IssueAsync_SanWithControlCharactersOrPadding_InvalidRequest(string kind, string value)
    {
        var san = kind == "email" ? SanKind.Email : SanKind.Uri;
        var error = await Assert.ThrowsAsync<CaException>(() => _issuer.IssueAsync(Principal(san, value), NewKey(), default));
        Assert.Equal(CaErrorCode.InvalidRequest, error.Code);
        Assert.Contains("control characters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IssueAsync_NoCtLog_ChainIsLeafIntermediateRootPemWithLfAnd64Columns()
    {
        var issued = await _issuer.IssueAsync(Principal(), NewKey(), default);

        Assert.Equal(3, issued.ChainPem.Count);
        Assert.Null(issued.DetachedSct);
        Assert.Null(issued.SctLogIndex);
        foreach (var pem in issued.ChainPem)
        {
            Assert.StartsWith("-----BEGIN CERTIFICATE-----\n", pem, StringComparison.Ordinal);
            Assert.EndsWith("-----END CERTIFICATE-----\n", pem, StringComparison.Ordinal);
            Assert.DoesNotContain('\r', pem);
            Assert.All(pem.Split('\n'), line => Assert.True(line.Length <= 64));
        }

        Assert.Equal(CertificateIssuer.ToPem(_ca.Chain[0].RawData), issued.ChainPem[1]);
        Assert.Equal(CertificateIssuer.ToPem(_ca.Chain[1].RawData), issued.ChainPem[2]);
        Assert.Equal([issued.ChainPem[1], issued.ChainPem[2]], Assert.Single(_issuer.TrustBundle));
        Assert.Equal(40, issued.SerialHex.Length);
    }

    [Theory]
    [InlineData(nameof(SanKind.Email))]
    [InlineData(nameof(SanKind.Uri))]
    [InlineData(nameof(SanKind.Username))]
    public async Task IssueAsync_Openssl_ParsesAndVerifiesChain(string kindName)
    {
        var kind = Enum.Parse<SanKind>(kindName);
        // OpenSSL checks validity against the wall clock, so issue "now".
        var issuer = NewIssuer(_ca, TimeProvider.System);
        var issued = await issuer.IssueAsync(Principal(kind), NewKey(), default);
        var directory = Directory.CreateTempSubdirectory("ca-openssl-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(directory, "leaf.pem"), issued.ChainPem[0]);
            File.WriteAllText(Path.Combine(directory, "intermediate.pem"), issued.ChainPem[1]);
            File.WriteAllText(Path.Combine(directory, "root.pem"), issued.ChainPem[2]);

            var (textExit, text) = RunOpenSsl(directory, "x509", "-text", "-noout", "-in", "leaf.pem");
            Assert.True(textExit == 0, text);
            Assert.Contains("Code Signing", text, StringComparison.Ordinal);
            Assert.Contains("X509v3 Subject Alternative Name: critical", text, StringComparison.Ordinal);

            var (_, help) = RunOpenSsl(directory, "verify", "-help");
            string[] purpose = help.Contains("codesign", StringComparison.Ordinal) ? ["-purpose", "codesign"] : [];
            var (verifyExit, verify) = RunOpenSsl(directory, ["verify", .. purpose, "-CAfile", "root.pem", "-untrusted", "intermediate.pem", "leaf.pem"]);
            Assert.True(verifyExit == 0, verify);
            Assert.Contains("leaf.pem: OK", verify, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private async Task<(X509Certificate2 Leaf, byte[] Der)> IssueAsync(Principal principal)
    {
        var issued = await _issuer.IssueAsync(principal, NewKey(), default);
        var der = DerFromPem(issued.ChainPem[0]);
        return (X509CertificateLoader.LoadCertificate(der), der);
    }
}
