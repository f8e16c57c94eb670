using System.Formats.Asn1;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace TransparencyLog.CaService.Tests.Infrastructure;

/// <summary>Reads CA responses the way clients do: JSON by field name, certificates by DER.</summary>
public static class CaResponses
{
    public static async Task<HttpResponseMessage> PostSigningCertAsync(HttpClient client, string json, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/signingCert")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return await client.SendAsync(request);
    }

    /// <summary>The leaf of <c>signedCertificateEmbeddedSct.chain.certificates</c>, asserting the chain shape.</summary>
    public static X509Certificate2 Leaf(string json)
    {
        using var document = JsonDocument.Parse(json);
        var certificates = document.RootElement.GetProperty("signedCertificateEmbeddedSct").GetProperty("chain").GetProperty("certificates");
        Assert.True(certificates.GetArrayLength() >= 2, "the chain must hold the leaf and at least its issuer");
        var pem = certificates[0].GetString() ?? "";
        Assert.StartsWith("-----BEGIN CERTIFICATE-----\n", pem, StringComparison.Ordinal);
        Assert.DoesNotContain("\r", pem, StringComparison.Ordinal);
        return X509Certificate2.CreateFromPem(pem);
    }

    /// <summary>The single SAN of a leaf as (context tag, value): 1 = rfc822Name, 6 = URI, 0 = OtherName.</summary>
    public static (int Tag, string Value) San(X509Certificate2 certificate)
    {
        var extension = certificate.Extensions["2.5.29.17"] ?? throw new InvalidOperationException("no SAN");
        Assert.True(extension.Critical, "the SAN of a subject-less leaf must be critical");
        var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
        var tag = names.PeekTag();
        (int, string) result = tag.TagValue switch
        {
            1 or 6 => (tag.TagValue, names.ReadCharacterString(UniversalTagNumber.IA5String, tag)),
            _ => ReadOtherName(names),
        };
        Assert.False(names.HasData, "exactly one SAN");
        return result;
    }

    public static (int Code, string Message) Error(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal(JsonValueKind.Array, root.GetProperty("details").ValueKind);
        return (root.GetProperty("code").GetInt32(), root.GetProperty("message").GetString() ?? "");
    }

    private static (int, string) ReadOtherName(AsnReader names)
    {
        var otherName = names.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true));
        Assert.Equal("1.3.6.1.4.1.57264.1.7", otherName.ReadObjectIdentifier());
        var value = otherName.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true));
        return (0, value.ReadCharacterString(UniversalTagNumber.UTF8String));
    }
}
