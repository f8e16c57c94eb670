using System.Text;
using System.Text.Json;
using TransparencyLog.CaService.Api;
using TransparencyLog.CaService.Fulcio;

namespace TransparencyLog.CaService.Tests.Api;

/// <summary>Malformed request bodies are JsonException (the API's 400), never another exception (a 500).</summary>
public sealed class ProtoJsonParseTests
{
    // Found by fuzzing (scripts/fuzz.sh ca-signing-request) once the body was parsed from its bytes: invalid UTF-8 in a
    // member name threw InvalidOperationException from JsonObject.
    [Fact]
    public void Parse_InvalidUtf8InMemberName_IsJsonException()
    {
        var body = Encoding.UTF8.GetBytes("""{"credentials":{"oidcIdentityToken":"eyJA"},"publicK?yRequest":{}}""");
        body[Array.IndexOf(body, (byte)'?')] = 0x82;

        var error = Assert.Throws<JsonException>(() => ProtoJson.Parse<CreateSigningCertificateRequest>(body));

        Assert.Contains("UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InvalidUtf8InStringValue_IsJsonException()
    {
        var body = Encoding.UTF8.GetBytes("""{"credentials":{"oidcIdentityToken":"ey?A"}}""");
        body[Array.IndexOf(body, (byte)'?')] = 0xC3;

        Assert.Throws<JsonException>(() => ProtoJson.Parse<CreateSigningCertificateRequest>(body));
    }

    [Fact]
    public void Parse_EscapedLoneSurrogate_IsJsonException()
    {
        var body = Encoding.UTF8.GetBytes("""{"credentials":{"oidcIdentityToken":"a\ud800b"}}""");

        Assert.Throws<JsonException>(() => ProtoJson.Parse<CreateSigningCertificateRequest>(body));
    }

    [Fact]
    public void Parse_ValidBody_ReadsTheToken()
    {
        var body = Encoding.UTF8.GetBytes("""{"credentials":{"oidcIdentityToken":"eyJhbGciOi é"}}""");

        Assert.Equal("eyJhbGciOi é", ProtoJson.Parse<CreateSigningCertificateRequest>(body).Credentials.OidcIdentityToken);
    }
}
