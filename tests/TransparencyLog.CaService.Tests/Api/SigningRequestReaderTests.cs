using System.Text;
using TransparencyLog.CaService.Api;
using TransparencyLog.CaService.Fulcio;

namespace TransparencyLog.CaService.Tests.Api;

/// <summary>
/// The one-pass reader of issuance requests accepts only what the general parse (<see cref="ProtoJson.Parse{T}"/>)
/// reads to the same message, and leaves every other body to it (returns null), so the API's rules and errors stay
/// those of the general parse.
/// </summary>
public sealed class SigningRequestReaderTests
{
    private const string Pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n";

    public static TheoryData<string> PlainBodies => new()
    {
        // sigstore-js, cosign: camelCase names.
        """{"credentials":{"oidcIdentityToken":"eyJhbGciOiJFUzI1NiJ9.e30.c2ln"},"publicKeyRequest":{"publicKey":{"algorithm":"ECDSA","content":PEM},"proofOfPossession":"MEUCIQDx/+Q="}}""".Replace("PEM", Json(Pem), StringComparison.Ordinal),
        // Proto names, whitespace, members in another order, escapes in names and values.
        """
        {
          "public_key_request": { "proof_of_possession": "AAEC", "public_key": { "content": PEM, "algorithm": "ED25519" } },
          "cred\u0065ntials": { "oidc_identity_token": "a\u00e9\n\"b" }
        }
        """.Replace("PEM", Json(Pem), StringComparison.Ordinal),
        // A CSR instead of a key; an empty token; empty objects; an empty proof.
        """{"certificateSigningRequest":"MIIB","credentials":{"oidcIdentityToken":""}}""",
        """{"certificate_signing_request":""}""",
        """{"credentials":{},"publicKeyRequest":{"publicKey":{},"proofOfPossession":""}}""",
        """{}""",
        // Escaped base64 (.NET's default encoder writes '+' as \u002B; '/' may be written \/): decoded as unescaped.
        """{"publicKeyRequest":{"publicKey":{"algorithm":"ECDSA","content":PEM},"proofOfPossession":"MEUCIQDx\u002B\/Q="}}""".Replace("PEM", Json(Pem), StringComparison.Ordinal),
        """{"certificateSigningRequest":"\u0041\u0041\u0045\u003d"}""",
        // An escaped line break inside the base64: both parses skip it.
        """{"certificateSigningRequest":"AA\nEC"}""",
    };

    public static TheoryData<string> OtherBodies => new()
    {
        // Unknown members and enum names: grpc-gateway ignores them; the general parse decides.
        """{"credentials":{"oidcIdentityToken":"t"},"extra":1}""",
        """{"publicKeyRequest":{"publicKey":{"algorithm":"RSA","content":"c"}}}""",
        """{"publicKeyRequest":{"publicKey":{"algorithm":2,"content":"c"}}}""",
        // Nulls, wrong types, URL-safe or unpadded base64.
        """{"credentials":null}""",
        """{"credentials":{"oidcIdentityToken":5}}""",
        """{"certificateSigningRequest":"-_8"}""",
        """{"certificateSigningRequest":"AAE"}""",
        // Escapes that spell URL-safe or broken base64, or a lone surrogate.
        """{"certificateSigningRequest":"\u002d_8="}""",
        """{"certificateSigningRequest":"AA\u0000="}""",
        """{"certificateSigningRequest":"AA\ud800"}""",
        // Repeated members, both names of a field, both members of the oneof: errors of the general parse.
        """{"credentials":{"oidcIdentityToken":"a","oidcIdentityToken":"b"}}""",
        """{"publicKeyRequest":{},"public_key_request":{}}""",
        """{"publicKeyRequest":{},"certificateSigningRequest":"AA=="}""",
        // Not a single JSON object, a lone surrogate, not UTF-8.
        """[]""",
        """{"credentials":{}} {}""",
        """{"credentials":{"oidcIdentityToken":"a\ud800b"}}""",
        """{"credentials":{"oidcIdentityToken":"a""",
    };

    [Theory]
    [MemberData(nameof(PlainBodies))]
    public void TryRead_PlainBody_EqualsTheGeneralParse(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);

        var read = SigningRequestReader.TryRead(bytes);

        Assert.NotNull(read);
        Assert.Equal(ProtoJson.Parse<CreateSigningCertificateRequest>(bytes), read);
    }

    [Theory]
    [MemberData(nameof(OtherBodies))]
    public void TryRead_OtherBody_LeavesItToTheGeneralParse(string body)
    {
        Assert.Null(SigningRequestReader.TryRead(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public void TryRead_InvalidUtf8_LeavesItToTheGeneralParse()
    {
        var body = Encoding.UTF8.GetBytes("""{"credentials":{"oidcIdentityToken":"ey?A"}}""");
        body[Array.IndexOf(body, (byte)'?')] = 0xC3;

        Assert.Null(SigningRequestReader.TryRead(body));
    }

    [Fact]
    public void TryRead_PlainBody_ReadsEveryField()
    {
        var body = Encoding.UTF8.GetBytes("""{"credentials":{"oidcIdentityToken":"tok"},"publicKeyRequest":{"publicKey":{"algorithm":"ECDSA","content":PEM},"proofOfPossession":"AQID"}}""".Replace("PEM", Json(Pem), StringComparison.Ordinal));

        var read = SigningRequestReader.TryRead(body)!;

        Assert.Equal("tok", read.Credentials.OidcIdentityToken);
        Assert.Equal(PublicKeyAlgorithm.Ecdsa, read.PublicKeyRequest.PublicKey.Algorithm);
        Assert.Equal(Pem, read.PublicKeyRequest.PublicKey.Content);
        Assert.Equal(new byte[] { 1, 2, 3 }, read.PublicKeyRequest.ProofOfPossession.ToByteArray());
        Assert.Equal(CreateSigningCertificateRequest.KeyOneofCase.PublicKeyRequest, read.KeyCase);
    }

    [Fact]
    public void TryRead_BodyWrittenByDotNetsDefaultEncoder_IsRead()
    {
        // What a .NET client sends: System.Text.Json escapes '+' in the base64 proof and the PEM's line breaks.
        var proof = new byte[] { 0xFB, 0xEF, 0xFF, 0x3E, 0x01 };
        var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new
        {
            credentials = new { oidcIdentityToken = "tok" },
            publicKeyRequest = new { publicKey = new { algorithm = "ECDSA", content = Pem }, proofOfPossession = Convert.ToBase64String(proof) },
        });
        Assert.Contains("\\u002B", Encoding.UTF8.GetString(body), StringComparison.Ordinal);

        var read = SigningRequestReader.TryRead(body);

        Assert.NotNull(read);
        Assert.Equal(proof, read.PublicKeyRequest.ProofOfPossession.ToByteArray());
        Assert.Equal(ProtoJson.Parse<CreateSigningCertificateRequest>(body), read);
    }

    private static string Json(string value) => System.Text.Json.JsonSerializer.Serialize(value);
}
