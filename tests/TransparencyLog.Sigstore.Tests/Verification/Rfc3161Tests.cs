using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Verification;

namespace TransparencyLog.Sigstore.Tests.Verification;

public sealed class Rfc3161Tests
{
    private static readonly CertificateIdentityPolicy s_alice = CertificateIdentityPolicy.Create(TestPki.Email, null, TestPki.OidcIssuer, null);

    /// <summary>
    /// A TimeStampResp as a TSA sends it: CMS SignedData over TSTInfo, signer by IssuerAndSerialNumber, and a
    /// signingCertificateV2 attribute naming <paramref name="tsa"/> (or hashing <paramref name="essCertificate"/>
    /// instead; none when <paramref name="withEss"/> is false). <paramref name="genTimeText"/> overrides the encoded genTime.
    /// </summary>
    private static byte[] Token(
        X509Certificate2 tsa, ECDsa key, byte[] signedBytes, DateTimeOffset genTime,
        byte[]? essCertificate = null, bool withEss = true, string? genTimeText = null)
    {
        var tstInfo = new AsnWriter(AsnEncodingRules.DER);
        using (tstInfo.PushSequence())
        {
            tstInfo.WriteInteger(1);
            tstInfo.WriteObjectIdentifier("1.2.3.4");
            using (tstInfo.PushSequence())
            {
                using (tstInfo.PushSequence())
                {
                    tstInfo.WriteObjectIdentifier("2.16.840.1.101.3.4.2.1");
                }

                tstInfo.WriteOctetString(SHA256.HashData(signedBytes));
            }

            tstInfo.WriteInteger(7);
            if (genTimeText is null)
            {
                tstInfo.WriteGeneralizedTime(genTime, omitFractionalSeconds: true);
            }
            else
            {
                tstInfo.WriteEncodedValue([0x18, (byte)genTimeText.Length, .. System.Text.Encoding.ASCII.GetBytes(genTimeText)]);
            }
        }

        var info = tstInfo.Encode();

        void WriteAttributes(AsnWriter writer, Asn1Tag? tag)
        {
            using (writer.PushSetOf(tag))
            {
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier("1.2.840.113549.1.9.3");
                    using (writer.PushSetOf())
                    {
                        writer.WriteObjectIdentifier("1.2.840.113549.1.9.16.1.4");
                    }
                }

                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier("1.2.840.113549.1.9.4");
                    using (writer.PushSetOf())
                    {
                        writer.WriteOctetString(SHA256.HashData(info));
                    }
                }

                if (withEss)
                {
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier("1.2.840.113549.1.9.16.2.47");
                        using (writer.PushSetOf())
                        using (writer.PushSequence())
                        using (writer.PushSequence())
                        using (writer.PushSequence())
                        {
                            writer.WriteOctetString(SHA256.HashData(essCertificate ?? tsa.RawData));
                        }
                    }
                }
            }
        }

        var attributes = new AsnWriter(AsnEncodingRules.DER);
        WriteAttributes(attributes, null);
        var signature = key.SignData(attributes.Encode(), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            using (writer.PushSequence())
            {
                writer.WriteInteger(0);
            }

            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier("1.2.840.113549.1.7.2");
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, true)))
                using (writer.PushSequence())
                {
                    writer.WriteInteger(3);
                    using (writer.PushSetOf())
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier("2.16.840.1.101.3.4.2.1");
                    }

                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier("1.2.840.113549.1.9.16.1.4");
                        using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, true)))
                        {
                            writer.WriteOctetString(info);
                        }
                    }

                    using (writer.PushSetOf())
                    using (writer.PushSequence())
                    {
                        writer.WriteInteger(1);
                        using (writer.PushSequence())
                        {
                            writer.WriteEncodedValue(tsa.IssuerName.RawData);
                            writer.WriteInteger(tsa.SerialNumberBytes.Span);
                        }

                        using (writer.PushSequence())
                        {
                            writer.WriteObjectIdentifier("2.16.840.1.101.3.4.2.1");
                        }

                        WriteAttributes(writer, new Asn1Tag(TagClass.ContextSpecific, 0, true));
                        using (writer.PushSequence())
                        {
                            writer.WriteObjectIdentifier("1.2.840.10045.4.3.2");
                        }

                        writer.WriteOctetString(signature);
                    }
                }
            }
        }

        return writer.Encode();
    }

    private sealed class Tsa : IDisposable
    {
        public Tsa()
        {
            RootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            Root = TestPki.CreateCa("CN=tsa-root", RootKey, null, null, Scenario.Now.AddYears(-1), Scenario.Now.AddYears(5));
            Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=tsa-signer", Key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.8")], true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            Signer = request.Create(Root, Scenario.Now.AddYears(-1), Scenario.Now.AddYears(1), [0x42, 0x01]);
        }

        public ECDsa RootKey { get; }

        public X509Certificate2 Root { get; }

        public ECDsa Key { get; }

        public X509Certificate2 Signer { get; }

        public CertificateAuthority Authority => new(null, "https://tsa.test", [Signer.RawData, Root.RawData], new ValidityPeriod(Scenario.Now.AddDays(-1), null));

        public void Dispose()
        {
            Signer.Dispose();
            Key.Dispose();
            Root.Dispose();
            RootKey.Dispose();
        }
    }

    /// <summary>The scenario's bundle with its SET removed, so the RFC 3161 token is the only timestamp.</summary>
    private static Bundle OnlyTsaTimestamp(Scenario scenario, byte[] token) => scenario.Bundle with
    {
        VerificationMaterial = scenario.Bundle.VerificationMaterial with
        {
            TlogEntries = [scenario.Bundle.VerificationMaterial.TlogEntries[0] with { InclusionPromise = null }],
            Rfc3161Timestamps = [token],
        },
    };

    [Fact]
    public void Verify_ValidRfc3161Timestamp_CountsAsTimestamp()
    {
        using var scenario = Scenario.MessageSignature();
        using var tsa = new Tsa();
        var genTime = Scenario.Now.AddSeconds(2);
        var bundle = OnlyTsaTimestamp(scenario, Token(tsa.Signer, tsa.Key, scenario.Bundle.MessageSignature!.Signature, genTime));
        var root = scenario.TrustedRoot with { TimestampAuthorities = [tsa.Authority] };

        var result = new BundleVerifier(root).Verify(bundle, scenario.Artifact, s_alice);

        var timestamp = Assert.Single(result.Timestamps);
        Assert.Equal(TimestampSource.TimestampAuthority, timestamp.Source);
        Assert.Equal(genTime, timestamp.Time);
    }

    [Fact]
    public void Verify_TimestampOverOtherSignature_FailsWithTimestampError()
    {
        using var scenario = Scenario.MessageSignature();
        using var tsa = new Tsa();
        var bundle = OnlyTsaTimestamp(scenario, Token(tsa.Signer, tsa.Key, [1, 2, 3], Scenario.Now));
        var root = scenario.TrustedRoot with { TimestampAuthorities = [tsa.Authority] };

        var error = Assert.Throws<VerificationException>(() => new BundleVerifier(root).Verify(bundle, scenario.Artifact, s_alice));

        Assert.Equal(VerificationErrorCode.Timestamp, error.Code);
        Assert.Contains("imprint", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_TimestampSignedByOtherKey_FailsWithTimestampError()
    {
        using var scenario = Scenario.MessageSignature();
        using var tsa = new Tsa();
        using var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var bundle = OnlyTsaTimestamp(scenario, Token(tsa.Signer, otherKey, scenario.Bundle.MessageSignature!.Signature, Scenario.Now));
        var root = scenario.TrustedRoot with { TimestampAuthorities = [tsa.Authority] };

        var error = Assert.Throws<VerificationException>(() => new BundleVerifier(root).Verify(bundle, scenario.Artifact, s_alice));

        Assert.Equal(VerificationErrorCode.Timestamp, error.Code);
    }

    [Fact]
    public void Verify_TimestampFromUntrustedTsa_FailsWithTimestampError()
    {
        using var scenario = Scenario.MessageSignature();
        using var tsa = new Tsa();
        var bundle = OnlyTsaTimestamp(scenario, Token(tsa.Signer, tsa.Key, scenario.Bundle.MessageSignature!.Signature, Scenario.Now));

        var error = Assert.Throws<VerificationException>(() => new BundleVerifier(scenario.TrustedRoot).Verify(bundle, scenario.Artifact, s_alice));

        Assert.Equal(VerificationErrorCode.Timestamp, error.Code);
    }

    /// <summary>Verifies the scenario's bundle with only the token <paramref name="token"/> makes, under a root that trusts the TSA.</summary>
    private static VerificationResult VerifyWithToken(Func<Tsa, byte[], byte[]> token)
    {
        using var scenario = Scenario.MessageSignature();
        using var tsa = new Tsa();
        var bundle = OnlyTsaTimestamp(scenario, token(tsa, scenario.Bundle.MessageSignature!.Signature));
        return new BundleVerifier(scenario.TrustedRoot with { TimestampAuthorities = [tsa.Authority] }).Verify(bundle, scenario.Artifact, s_alice);
    }

    private static string GenTimeText(DateTimeOffset time, string fraction) =>
        time.UtcDateTime.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture) + fraction + "Z";

    [Fact]
    public void Verify_GenTimeWithMilliseconds_IsAccepted()
    {
        var genTime = Scenario.Now.AddSeconds(2);

        var result = VerifyWithToken((tsa, signature) => Token(tsa.Signer, tsa.Key, signature, genTime, genTimeText: GenTimeText(genTime, ".123")));

        Assert.Equal(genTime.AddMilliseconds(123), Assert.Single(result.Timestamps).Time);
    }

    [Theory]
    [InlineData("trimmed fraction", "fractional seconds")]
    [InlineData("other certificate", "signingCertificateV2")]
    [InlineData("no signingCertificateV2", "signingCertificateV2")]
    public void Verify_TokenBreakingSigstoreRules_FailsWithTimestampError(string defect, string reason)
    {
        var genTime = Scenario.Now.AddSeconds(2);
        Func<Tsa, byte[], byte[]> token = defect switch
        {
            "trimmed fraction" => (tsa, signature) => Token(tsa.Signer, tsa.Key, signature, genTime, genTimeText: GenTimeText(genTime, ".49")),
            "other certificate" => (tsa, signature) => Token(tsa.Signer, tsa.Key, signature, genTime, essCertificate: tsa.Root.RawData),
            _ => (tsa, signature) => Token(tsa.Signer, tsa.Key, signature, genTime, withEss: false),
        };

        var error = Assert.Throws<VerificationException>(() => VerifyWithToken(token));

        Assert.Equal(VerificationErrorCode.Timestamp, error.Code);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
