using System.Net;
using System.Text;
using System.Text.Json;

namespace TransparencyLog.LogService.Tests.Timestamping;

/// <summary>Every refused request gets a 4xx with a stable, client-safe message (certificate-authority.md §6).</summary>
public sealed class TimestampBadRequestTests(TsaServerFixture fixture) : IClassFixture<TsaServerFixture>
{
    private static readonly string Sha256Digest = Convert.ToBase64String(new byte[32]);

    public static TheoryData<string, byte[], string> BadDerRequests()
    {
        var valid = TimestampRequests.Der();
        var indefiniteLength = (byte[])valid.Clone();
        indefiniteLength[1] = 0x80; // BER indefinite length
        return new TheoryData<string, byte[], string>
        {
            { "sha1", TimestampRequests.Der(hashOid: TimestampRequests.Sha1Oid, digestLength: 20), "weak hash algorithm" },
            { "md5", TimestampRequests.Der(hashOid: TimestampRequests.Md5Oid, digestLength: 16), "unsupported hash algorithm" },
            { "unknown hash", TimestampRequests.Der(hashOid: "1.2.3.4", digestLength: 32), "unsupported hash algorithm" },
            { "digest short", TimestampRequests.Der(digestLength: 31), "message imprint length 31 does not match sha256" },
            { "digest long", TimestampRequests.Der(digestLength: 33), "message imprint length 33 does not match sha256" },
            { "sha512 with 32 bytes", TimestampRequests.Der(hashOid: TimestampRequests.Sha512Oid, digestLength: 32), "does not match sha512" },
            { "policy not accepted", TimestampRequests.Der(policy: "1.2.3.4"), "requested policy is not accepted" },
            { "policy 129 arcs", TimestampRequests.Der(policy: TimestampRequests.PolicyWithArcs(129)), "more than 128 arcs" },
            { "policy 100 arcs", TimestampRequests.Der(policy: TimestampRequests.PolicyWithArcs(100)), "requested policy is not accepted" },
            { "hash OID 100 arcs", TimestampRequests.Der(hashOid: TimestampRequests.PolicyWithArcs(100)), "unsupported hash algorithm" },
            { "extensions", TimestampRequests.Der(extensions: true), "request extensions are not supported" },
            { "version 2", TimestampRequests.Der(version: 2), "unsupported TimeStampReq version" },
            { "version 0", TimestampRequests.Der(version: 0), "unsupported TimeStampReq version" },
            { "nonce zero", TimestampRequests.Der(nonce: [0]), "nonce must be a positive integer" },
            { "nonce negative", TimestampRequests.Der(nonce: [0xFF]), "nonce must be a positive integer" },
            { "nonce 161 bits", TimestampRequests.Der(nonce: [0x01, .. new byte[20]]), "nonce is larger than 160 bits" },
            { "nonce 1000 bytes", TimestampRequests.Der(nonce: [0x01, .. new byte[999]]), "nonce is larger than 160 bits" },
            { "trailing byte", [.. valid, 0x00], "trailing data" },
            { "trailing request", [.. valid, .. valid], "trailing data" },
            { "truncated", valid[..^1], "malformed TimeStampReq" },
            { "indefinite length", indefiniteLength, "malformed TimeStampReq" },
            { "not DER", "hello"u8.ToArray(), "malformed TimeStampReq" },
            { "empty", [], "malformed TimeStampReq" },
            { "hash parameters not NULL", ReplaceNullParameters(valid), "unexpected hash algorithm parameters" },
        };
    }

    public static TheoryData<string, string, string> BadJsonRequests() => new()
    {
        { "sha1", $"{{\"artifactHash\":\"{Convert.ToBase64String(new byte[20])}\",\"hashAlgorithm\":\"sha1\"}}", "weak hash algorithm" },
        { "md5", $"{{\"artifactHash\":\"{Convert.ToBase64String(new byte[16])}\",\"hashAlgorithm\":\"md5\"}}", "unsupported hash algorithm" },
        { "no hashAlgorithm", $"{{\"artifactHash\":\"{Sha256Digest}\"}}", "hashAlgorithm is required" },
        { "no artifactHash", "{\"hashAlgorithm\":\"sha256\"}", "artifactHash is required" },
        { "bad base64", "{\"artifactHash\":\"!!!not base64!!!\",\"hashAlgorithm\":\"sha256\"}", "artifactHash is not valid base64" },
        { "digest short", $"{{\"artifactHash\":\"{Convert.ToBase64String(new byte[31])}\",\"hashAlgorithm\":\"sha256\"}}", "message imprint length 31 does not match sha256" },
        { "sha384 with 32 bytes", $"{{\"artifactHash\":\"{Sha256Digest}\",\"hashAlgorithm\":\"sha384\"}}", "does not match sha384" },
        { "nonce zero", Json("\"nonce\":0"), "nonce must be a positive integer" },
        { "nonce negative", Json("\"nonce\":-5"), "nonce must be a positive integer" },
        { "nonce fraction", Json("\"nonce\":1.5"), "nonce must be a positive integer" },
        { "nonce exponent", Json("\"nonce\":1e5"), "nonce must be a positive integer" },
        { "nonce string", Json("\"nonce\":\"5\""), "nonce must be a positive integer" },
        { "nonce 2^160", Json("\"nonce\":1461501637330902918203684832716283019655932542976"), "nonce is larger than 160 bits" },
        { "nonce 600 digits", Json("\"nonce\":" + new string('9', 600)), "nonce is larger than 160 bits" },
        { "policy 129 arcs", Json($"\"tsaPolicyOID\":\"{TimestampRequests.PolicyWithArcs(129)}\""), "more than 128 arcs" },
        { "policy not accepted", Json("\"tsaPolicyOID\":\"1.2.3.4\""), "requested policy is not accepted" },
        { "policy 100 arcs", Json($"\"tsaPolicyOID\":\"{TimestampRequests.PolicyWithArcs(100)}\""), "requested policy is not accepted" },
        { "policy not an OID", Json("\"tsaPolicyOID\":\"abc\""), "not a dotted-decimal object identifier" },
        { "policy empty arc", Json("\"tsaPolicyOID\":\"1..2\""), "not a dotted-decimal object identifier" },
        { "certificates not bool", Json("\"certificates\":\"yes\""), "certificates must be a boolean" },
        { "duplicate property", Json($"\"artifactHash\":\"{Sha256Digest}\""), "duplicate property" },
        { "not JSON", "{", "malformed JSON request" },
        { "array", "[]", "expected an object" },
        { "too large", Json($"\"padding\":\"{new string('x', 1100)}\""), "JSON request body is larger than 1024 bytes" },
    };

    [Theory]
    [MemberData(nameof(BadDerRequests))]
    public async Task PostTimestamp_BadDerRequest_Returns400WithMessage(string name, byte[] body, string expectedMessage)
    {
        using var response = await fixture.Server.PostAsync(body);

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, expectedMessage, name);
    }

    [Theory]
    [MemberData(nameof(BadJsonRequests))]
    public async Task PostTimestamp_BadJsonRequest_Returns400WithMessage(string name, string body, string expectedMessage)
    {
        using var response = await fixture.Server.PostJsonAsync(body);

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, expectedMessage, name);
    }

    [Theory]
    [InlineData("{\"artifactHash\":\"#\",\"hashAlgorithm\":\"sha256\"}")]
    [InlineData("{\"artifactHash\":\"AAAA\",\"hashAlgorithm\":\"#\"}")]
    [InlineData("{\"kind\":\"#\"}")]
    [InlineData("{\"#\":1}")]
    public async Task PostTimestamp_InvalidUtf8InJsonString_Returns400WithMessage(string template)
    {
        var body = Encoding.UTF8.GetBytes(template).Select(b => b == (byte)'#' ? (byte)0xFF : b).ToArray();

        using var response = await fixture.Server.PostAsync(body, "application/json");

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "UTF-8", template);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("text/plain")]
    [InlineData("application/octet-stream")]
    [InlineData("application/timestamp-reply")]
    [InlineData("application/timestamp-queryx")]
    [InlineData("multipart/form-data; boundary=application/json")]
    [InlineData("application/json/application/json")]
    [InlineData("application/timestamp-query, application/json")]
    public async Task PostTimestamp_WrongContentType_Returns415(string? contentType)
    {
        using var response = await fixture.Server.PostAsync(TimestampRequests.Der(), contentType);

        await AssertErrorAsync(response, HttpStatusCode.UnsupportedMediaType, "Content-Type must be application/timestamp-query or application/json", contentType ?? "none");
    }

    [Fact]
    public async Task PostTimestamp_DerBodyOverLimit_Returns413()
    {
        using var response = await fixture.Server.PostAsync(new byte[(64 * 1024) + 1]);

        await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "request body is larger than 65536 bytes", "oversized");
    }

    [Fact]
    public async Task PostTimestamp_JsonWithCharsetParameter_Returns200()
    {
        var body = Encoding.UTF8.GetBytes($"{{\"artifactHash\":\"{Sha256Digest}\",\"hashAlgorithm\":\"sha256\",\"unknownField\":[1,2]}}");

        using var response = await fixture.Server.PostAsync(body, "application/json; charset=utf-8");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static string Json(string extra) => $"{{\"artifactHash\":\"{Sha256Digest}\",\"hashAlgorithm\":\"sha256\",{extra}}}";

    private static byte[] ReplaceNullParameters(byte[] request)
    {
        // The same request with an OCTET STRING where the AlgorithmIdentifier's NULL parameters go.
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(1);
            using (writer.PushSequence())
            {
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(TimestampRequests.Sha256Oid);
                    writer.WriteOctetString([1]);
                }

                writer.WriteOctetString(request.AsSpan(^32));
            }
        }

        return writer.Encode();
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string expectedMessage, string name)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{name}: expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        Assert.Equal((int)status, json.RootElement.GetProperty("code").GetInt32());
        Assert.Contains(expectedMessage, json.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
