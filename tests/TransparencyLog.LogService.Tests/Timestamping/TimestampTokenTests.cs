using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;

namespace TransparencyLog.LogService.Tests.Timestamping;

/// <summary>The byte-level token layout that sigstore-js, sigstore-go and openssl depend on.</summary>
public sealed class TimestampTokenTests(TsaServerFixture fixture) : IClassFixture<TsaServerFixture>
{
    [Fact]
    public async Task PostTimestamp_DerRequest_TokenLayoutMatchesSigstoreContract()
    {
        var digest = RandomNumberGenerator.GetBytes(32);
        var token = new DecodedTimestamp(await fixture.Server.TimestampAsync(TimestampRequests.Der(digest: digest, certReq: true)));
        var leaf = fixture.Chain[0];

        Assert.Equal(3, token.SignedDataVersion);
        Assert.Equal(TimestampRequests.Sha256Oid, token.DigestAlgorithmOid);
        Assert.Equal(0x04, token.EContentTagByte); // primitive OCTET STRING
        Assert.Equal(1, token.SignerInfoVersion);
        Assert.True(token.SidTag.HasSameClassAndValue(Asn1Tag.Sequence)); // IssuerAndSerialNumber, not [0] SKI
        Assert.Equal(leaf.IssuerName.RawData, token.SidIssuer);
        Assert.Equal(leaf.SerialNumberBytes.ToArray(), token.SidSerial);
        Assert.Equal(TimestampRequests.Sha256Oid, token.SignerDigestAlgorithmOid);
        Assert.Equal("1.2.840.10045.4.3.2", token.SignatureAlgorithmOid);
        Assert.Equal(
            ["1.2.840.113549.1.9.16.2.47", "1.2.840.113549.1.9.3", "1.2.840.113549.1.9.4", "1.2.840.113549.1.9.5"],
            token.Attributes.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("1.2.840.113549.1.9.16.1.4", new AsnReader(token.Attributes["1.2.840.113549.1.9.3"], AsnEncodingRules.DER).ReadObjectIdentifier());
        Assert.Equal(SHA256.HashData(token.TstInfoDer), new AsnReader(token.Attributes["1.2.840.113549.1.9.4"], AsnEncodingRules.DER).ReadOctetString());
        Assert.True(token.SignatureVerifies(leaf));

        Assert.Equal("1.3.6.1.4.1.57264.2", token.Policy);
        Assert.Equal(TimestampRequests.Sha256Oid, token.ImprintAlgorithmOid);
        Assert.Equal(digest, token.HashedMessage);
        Assert.Equal(1, token.AccuracySeconds);
        Assert.Null(token.Nonce);
        Assert.Equal(leaf.SubjectName.RawData, token.TsaName);
    }

    [Theory]
    [InlineData(TimestampRequests.Sha256Oid, 32, false)]
    [InlineData(TimestampRequests.Sha384Oid, 48, true)]
    [InlineData(TimestampRequests.Sha512Oid, 64, true)]
    public async Task PostTimestamp_HashAlgorithm_SigningCertificateV2HashesTsaCertificateWithRequestAlgorithm(string oid, int size, bool algorithmEncoded)
    {
        var token = new DecodedTimestamp(await fixture.Server.TimestampAsync(TimestampRequests.Der(hashOid: oid, digestLength: size)));
        var leaf = fixture.Chain[0];

        // SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { hashAlgorithm DEFAULT sha256, certHash, issuerSerial } }
        var certs = new AsnReader(token.Attributes["1.2.840.113549.1.9.16.2.47"], AsnEncodingRules.DER).ReadSequence().ReadSequence();
        var essCertId = certs.ReadSequence();
        Assert.False(certs.HasData);
        Assert.Equal(algorithmEncoded, essCertId.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence));
        if (algorithmEncoded)
        {
            Assert.Equal(oid, essCertId.ReadSequence().ReadObjectIdentifier());
        }

        var algorithm = oid switch
        {
            TimestampRequests.Sha384Oid => HashAlgorithmName.SHA384,
            TimestampRequests.Sha512Oid => HashAlgorithmName.SHA512,
            _ => HashAlgorithmName.SHA256,
        };
        Assert.Equal(CryptographicOperations.HashData(algorithm, leaf.RawData), essCertId.ReadOctetString());
        var issuerSerial = essCertId.ReadSequence();
        var issuer = issuerSerial.ReadSequence().ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 4, true));
        Assert.Equal(leaf.IssuerName.RawData, issuer.ReadEncodedValue().ToArray());
        Assert.Equal(leaf.SerialNumberBytes.ToArray(), issuerSerial.ReadIntegerBytes().ToArray());
        Assert.Equal(oid, token.ImprintAlgorithmOid);
    }

    [Fact]
    public async Task PostTimestamp_ManyConsecutiveRequests_GenTimeHasWholeSecondsAndSerialsAreDistinct20Bytes()
    {
        var serials = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 60; i++)
        {
            var token = new DecodedTimestamp(await fixture.Server.TimestampAsync(TimestampRequests.Der()));

            Assert.Matches("^[0-9]{14}Z$", token.GenTimeText);
            Assert.Equal(20, token.SerialNumber.Length);
            Assert.True(token.SerialNumber[0] < 0x80);
            Assert.True(serials.Add(Convert.ToHexString(token.SerialNumber)));
        }
    }

    [Fact]
    public async Task PostTimestamp_ClockWithMilliseconds_GenTimeTruncatedToWholeSecond()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 4, 5, 6, 7, 490, TimeSpan.Zero));
        await using var server = await TsaTestServer.StartAsync(time: time);

        var first = new DecodedTimestamp(await server.TimestampAsync(TimestampRequests.Der()));
        time.Advance(TimeSpan.FromMilliseconds(999));
        var second = new DecodedTimestamp(await server.TimestampAsync(TimestampRequests.Der()));

        Assert.Equal("20260304050607Z", first.GenTimeText);
        Assert.Equal("20260304050608Z", second.GenTimeText);
        Assert.Equal("260304050607Z", System.Text.Encoding.ASCII.GetString(first.Attributes["1.2.840.113549.1.9.5"].AsSpan(2)));
    }

    [Theory]
    [InlineData(null, 0)]
    [InlineData(false, 0)]
    [InlineData(true, 1)]
    public async Task PostTimestamp_CertReq_CertificateIncludedOnlyWhenRequested(bool? certReq, int expected)
    {
        var token = new DecodedTimestamp(await fixture.Server.TimestampAsync(TimestampRequests.Der(certReq: certReq)));

        Assert.Equal(expected, token.Certificates.Count);
        if (expected == 1)
        {
            Assert.Equal(fixture.Chain[0].RawData, token.Certificates[0].RawData);
        }
    }

    [Theory]
    [InlineData("{\"artifactHash\":\"{0}\",\"hashAlgorithm\":\"sha256\"}", 0)]
    [InlineData("{\"artifactHash\":\"{0}\",\"hashAlgorithm\":\"sha256\",\"certificates\":false}", 0)]
    [InlineData("{\"artifactHash\":\"{0}\",\"hashAlgorithm\":\"sha256\",\"certificates\":true}", 1)]
    public async Task PostTimestamp_JsonCertificates_CertificateIncludedOnlyWhenRequested(string template, int expected)
    {
        var body = template.Replace("{0}", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), StringComparison.Ordinal);
        var token = new DecodedTimestamp(await fixture.Server.TimestampAsync(System.Text.Encoding.UTF8.GetBytes(body), "application/json"));

        Assert.Equal(expected, token.Certificates.Count);
        Assert.True(token.ImprintHasNullParameters);
    }

    [Fact]
    public async Task PostTimestamp_IncludeChainInResponse_AllChainCertificatesIncluded()
    {
        await using var server = await TsaTestServer.StartAsync(new Dictionary<string, string?> { ["Timestamping:IncludeChainInResponse"] = "true" });
        var chain = await server.GetChainAsync();

        var token = new DecodedTimestamp(await server.TimestampAsync(TimestampRequests.Der(certReq: true)));

        Assert.Equal(chain.Select(c => Convert.ToHexString(c.RawData)).Order(), token.Certificates.Select(c => Convert.ToHexString(c.RawData)).Order());
    }

    [Theory]
    [InlineData("1")]
    [InlineData("18446744073709551615")]
    [InlineData("1461501637330902918203684832716283019655932542975")] // 2^160 - 1
    public async Task PostTimestamp_JsonNonce_Echoed(string nonce)
    {
        var body = $"{{\"artifactHash\":\"{Convert.ToBase64String(new byte[32])}\",\"hashAlgorithm\":\"sha256\",\"nonce\":{nonce}}}";
        var token = new DecodedTimestamp(await fixture.Server.TimestampAsync(System.Text.Encoding.UTF8.GetBytes(body), "application/json"));

        Assert.Equal(BigInteger.Parse(nonce, System.Globalization.CultureInfo.InvariantCulture), token.Nonce);
    }

    [Fact]
    public async Task PostTimestamp_DerNonce_EchoedByteForByte()
    {
        var nonce = RandomNumberGenerator.GetBytes(20);
        nonce[0] |= 0x80; // needs a leading zero byte to stay positive: 21 content bytes, 160 bits
        var encodedNonce = new byte[] { 0 }.Concat(nonce).ToArray();

        var token = new DecodedTimestamp(await fixture.Server.TimestampAsync(TimestampRequests.Der(nonce: encodedNonce)));

        Assert.Equal(new BigInteger(encodedNonce, isUnsigned: false, isBigEndian: true), token.Nonce);
    }

    [Fact]
    public async Task PostTimestamp_AcceptedPolicyRequested_TokenCarriesIt()
    {
        var token = new DecodedTimestamp(await fixture.Server.TimestampAsync(TimestampRequests.Der(policy: "1.3.6.1.4.1.57264.2.99")));

        Assert.Equal("1.3.6.1.4.1.57264.2.99", token.Policy);
    }

    [Theory]
    [InlineData("application/timestamp-query")]
    [InlineData("Application/Timestamp-Query")]
    [InlineData("application/timestamp-query; charset=binary")]
    public async Task PostTimestamp_MediaTypeVariants_Accepted(string contentType)
    {
        await fixture.Server.TimestampAsync(TimestampRequests.Der(), contentType);
    }

    [Fact]
    public async Task GetCertificateChain_Development_PemChainLeafToRootWithTsaProfile()
    {
        using var response = await fixture.Server.Client.GetAsync("/api/v1/timestamp/certchain");
        var pem = await response.Content.ReadAsStringAsync();
        var chain = fixture.Chain;
        var leaf = chain[0];
        var root = chain[^1];

        Assert.Equal("application/pem-certificate-chain", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----\n", pem, StringComparison.Ordinal);
        Assert.DoesNotContain('\r', pem);
        Assert.Equal(2, chain.Count);
        Assert.Equal(root.SubjectName.RawData, root.IssuerName.RawData);
        Assert.Equal(root.SubjectName.RawData, leaf.IssuerName.RawData);
        Assert.False(leaf.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        var eku = leaf.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single();
        Assert.True(eku.Critical);
        Assert.Equal(["1.3.6.1.5.5.7.3.8"], eku.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value));
        var keyUsage = leaf.Extensions.OfType<X509KeyUsageExtension>().Single();
        Assert.True(keyUsage.Critical);
        Assert.Equal(X509KeyUsageFlags.DigitalSignature, keyUsage.KeyUsages);
        Assert.Equal("1.2.840.10045.3.1.7", leaf.GetECDsaPublicKey()?.ExportParameters(false).Curve.Oid.Value);
    }
}
