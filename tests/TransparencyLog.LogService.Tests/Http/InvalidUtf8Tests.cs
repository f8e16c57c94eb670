using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using TransparencyLog.LogService.Tests.Infrastructure;

namespace TransparencyLog.LogService.Tests.Http;

/// <summary>
/// A JSON body must be UTF-8 (RFC 8259 §8.1). Bytes that are not, inside a string the parser would otherwise accept,
/// are the client's error: 400 in Rekor's error shape, nothing appended, nothing logged at error level.
/// </summary>
public sealed class InvalidUtf8Tests(LogFixture log) : IClassFixture<LogFixture>
{
    public static TheoryData<string, string> Requests() => new()
    {
        { "/api/v1/log/entries", """{"kind":"#"}""" },
        { "/api/v1/log/entries", """{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"sha256","value":"#"}},"signature":{"content":"AAAA","publicKey":{"content":"AAAA"}}}}""" },
        { "/api/v1/log/entries", """{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{"data":{"hash":{"algorithm":"#","value":"00"}},"signature":{"content":"#","publicKey":{"content":"#"}}}}""" },
        { "/api/v1/log/entries", """{"apiVersion":"0.0.1","kind":"dsse","spec":{"proposedContent":{"envelope":"#","verifiers":["#"]}}}""" },
        { "/api/v1/log/entries", """{"apiVersion":"0.0.1","kind":"dsse","spec":{"proposedContent":{"envelope":"{\"payloadType\":\"#\"}","verifiers":["AAAA"]}}}""" },
        { "/api/v1/log/entries", """{"#":1}""" },
        { "/api/v1/index/retrieve", """{"hash":"#"}""" },
        { "/api/v1/index/retrieve", """{"email":"#@example.com"}""" },
        { "/api/v1/index/retrieve", """{"publicKey":{"content":"#"}}""" },
        { "/api/v1/log/entries/retrieve", """{"entryUUIDs":["#"]}""" },
        { "/api/v1/log/entries/retrieve", """{"entries":[{"kind":"#"}]}""" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task Post_InvalidUtf8InJsonString_Returns400RekorErrorWithoutErrorLog(string path, string template)
    {
        var before = await TreeSizeAsync();
        var errorsBefore = ErrorLines();

        using var response = await PostRawAsync(log.Client, path, WithInvalidUtf8(template));

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path} {template}: got {(int)response.StatusCode}: {body}");
        var error = JsonDocument.Parse(body).RootElement;
        Assert.Equal(400, error.GetProperty("code").GetInt32());
        Assert.Contains("UTF-8", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await TreeSizeAsync());
        Assert.Equal(errorsBefore, ErrorLines());
    }

    /// <summary>Replaces every <c>#</c> with the byte 0xFF, which never occurs in UTF-8.</summary>
    internal static byte[] WithInvalidUtf8(string template) =>
        Encoding.UTF8.GetBytes(template).Select(b => b == (byte)'#' ? (byte)0xFF : b).ToArray();

    internal static Task<HttpResponseMessage> PostRawAsync(HttpClient client, string path, byte[] body, string contentType = "application/json")
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return client.PostAsync(path, content);
    }

    private int ErrorLines() =>
        log.Service.Output.Split('\n').Count(line => line.Contains(" ERR]", StringComparison.Ordinal) || line.Contains("Exception", StringComparison.Ordinal));

    private async Task<long> TreeSizeAsync() =>
        JsonDocument.Parse(await log.Client.GetStringAsync("/api/v1/log")).RootElement.GetProperty("treeSize").GetInt64();
}
