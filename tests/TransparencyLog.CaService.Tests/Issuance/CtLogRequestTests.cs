using System.Text.Json;
using TransparencyLog.CaService.CertificateTransparency;

namespace TransparencyLog.CaService.Tests.Issuance;

/// <summary>The body the CA sends to the CT log's <c>add-chain</c> and <c>add-pre-chain</c> (RFC 6962 §4.1).</summary>
public sealed class CtLogRequestTests
{
    [Fact]
    public void ChainRequestJson_ThreeCertificates_IsTheChainMemberWithEachDerInOrder()
    {
        // Lengths 0–2 mod 3 exercise every base64 padding, and 0xFB/0xFF bytes give '+' and '/' in the encoding.
        byte[][] chain = [[0x30, 0x82, 0xFB, 0xFF], [0xFF, 0xFE, 0xFB, 0x01, 0x02], [0x3E, 0x3F, 0xFF]];

        using var document = JsonDocument.Parse(CtLogClient.ChainRequestJson(chain));

        var root = document.RootElement;
        Assert.Equal(["chain"], root.EnumerateObject().Select(p => p.Name));
        var sent = root.GetProperty("chain").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(chain.Select(Convert.ToBase64String), sent);
    }
}
