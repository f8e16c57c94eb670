using System.Buffers;
using System.Text.Json.Nodes;
using Google.Protobuf;
using TransparencyLog.CaService.Api;
using TransparencyLog.CaService.Fulcio;

namespace TransparencyLog.CaService.Tests.Api;

/// <summary>The issuance answer written straight to UTF-8 is the JSON Google.Protobuf's formatter writes.</summary>
public sealed class SigningCertificateJsonTests
{
    // Base64 with '+', '/' and '=' and PEM line breaks: the characters an escaping difference would show on.
    private const string Leaf = "-----BEGIN CERTIFICATE-----\nMIIB+/8=\n-----END CERTIFICATE-----\n";
    private const string Root = "-----BEGIN CERTIFICATE-----\nMIIC//+a\n-----END CERTIFICATE-----\n";

    public static TheoryData<string> Variants => ["embedded", "detached", "detached-empty-sct", "embedded-no-chain"];

    [Theory]
    [MemberData(nameof(Variants))]
    public void WriteSigningCertificate_EachVariant_SameJsonAsTheProtobufFormatter(string variant)
    {
        var chain = new CertificateChain { Certificates = { Leaf, Root } };
        var certificate = variant switch
        {
            "embedded" => new SigningCertificate { SignedCertificateEmbeddedSct = new SigningCertificateEmbeddedSCT { Chain = chain } },
            "embedded-no-chain" => new SigningCertificate { SignedCertificateEmbeddedSct = new SigningCertificateEmbeddedSCT() },
            "detached" => new SigningCertificate
            {
                SignedCertificateDetachedSct = new SigningCertificateDetachedSCT
                {
                    Chain = chain,
                    SignedCertificateTimestamp = ByteString.CopyFrom([0xFB, 0xFF, 0x00, 0x7B]),
                },
            },
            _ => new SigningCertificate { SignedCertificateDetachedSct = new SigningCertificateDetachedSCT { Chain = chain } },
        };
        var output = new ArrayBufferWriter<byte>();

        ProtoJson.WriteSigningCertificate(output, certificate);

        var expected = JsonNode.Parse(ProtoJson.Format(certificate));
        var written = JsonNode.Parse(output.WrittenSpan);
        Assert.True(JsonNode.DeepEquals(expected, written), $"expected {expected?.ToJsonString()}, wrote {written?.ToJsonString()}");
        Assert.Equal(certificate, ProtoJson.Parse<SigningCertificate>(output.WrittenSpan));
    }
}
