using System.Text;
using System.Text.Json.Nodes;
using TransparencyLog.Sigstore.Json;

namespace TransparencyLog.Sigstore.Tests.Json;

public sealed class CanonicalJsonTests
{
    private static string Canon(string json) => Encoding.UTF8.GetString(CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(json)));

    [Fact]
    public void Canonicalize_Rfc8785Section323Example_MatchesPublishedOutput()
    {
        const string input = """
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """;

        var expected = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            + "\"string\":\"\u20ac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
        Assert.Equal(expected, Canon(input));
    }

    [Fact]
    public void Canonicalize_Rfc8785SortingExample_SortsByUtf16CodeUnits()
    {
        const string input = """
            {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
             "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}
            """;

        var expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\","
            + "\"\u20ac\":\"Euro Sign\",\"\ud83d\ude00\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}";
        Assert.Equal(expected, Canon(input));
    }

    [Theory]
    [InlineData("0", "0")]
    [InlineData("-0", "0")]
    [InlineData("1795299166", "1795299166")]
    [InlineData("9007199254740991", "9007199254740991")]
    [InlineData("-42", "-42")]
    [InlineData("1e21", "1e+21")]
    [InlineData("1e20", "100000000000000000000")]
    [InlineData("123456789012345680000", "123456789012345680000")]
    [InlineData("0.1", "0.1")]
    [InlineData("-1.5", "-1.5")]
    [InlineData("0.000001", "0.000001")]
    [InlineData("1e-7", "1e-7")]
    [InlineData("1.2345e-7", "1.2345e-7")]
    [InlineData("5e-324", "5e-324")]
    [InlineData("1.7976931348623157e308", "1.7976931348623157e+308")]
    [InlineData("4.35", "4.35")]
    [InlineData("0.3333333333333333", "0.3333333333333333")]
    public void Canonicalize_Number_PrintsAsEcmaScript(string input, string expected) => Assert.Equal(expected, Canon(input));

    [Fact]
    public void Canonicalize_Whitespace_IsRemoved() =>
        Assert.Equal("{\"a\":[1,{\"b\":\"c\"}]}", Canon(" { \"a\" : [ 1 , { \"b\" : \"c\" } ] } "));

    [Fact]
    public void Canonicalize_NonAsciiAndSlash_StayLiteral() =>
        Assert.Equal("\"é/ü😀\"", Canon("\"\\u00e9\\/\\u00fc\\ud83d\\ude00\""));

    [Fact]
    public void Canonicalize_ControlCharacters_UseShortOrLowercaseEscapes() =>
        Assert.Equal("\"\\b\\f\\n\\r\\t\\u001f\\u0000\"", Canon("\"\\b\\f\\n\\r\\t\\u001F\\u0000\""));

    [Fact]
    public void Canonicalize_DuplicateKey_ThrowsFormatException() =>
        Assert.Throws<FormatException>(() => Canon("{\"a\":1,\"b\":{\"c\":1,\"c\":2}}"));

    [Theory]
    [InlineData("{\"a\":1,}")]
    [InlineData("{\"a\":1} x")]
    [InlineData("")]
    [InlineData("1e400")]
    [InlineData("[NaN]")]
    [InlineData("\"\\ud800\"")]
    public void Canonicalize_InvalidInput_ThrowsFormatException(string input) =>
        Assert.Throws<FormatException>(() => Canon(input));

    [Fact]
    public void Canonicalize_NodeWithNaN_ThrowsFormatException() =>
        Assert.Throws<FormatException>(() => CanonicalJson.Canonicalize(new JsonArray(JsonValue.Create(double.NaN))));

    [Fact]
    public void Canonicalize_Node_MatchesTextOverload()
    {
        var node = new JsonObject { ["z"] = 1L, ["a"] = "x\u00e9", ["m"] = new JsonArray(true, null, 2.5) };
        Assert.Equal("{\"a\":\"x\u00e9\",\"m\":[true,null,2.5],\"z\":1}", Encoding.UTF8.GetString(CanonicalJson.Canonicalize(node)));
    }

    [Fact]
    public void Canonicalize_EveryControlCharacterQuoteAndBackslash_EscapedAsJsonStringify()
    {
        // Each C0 control, '"' and '\\' between runs of plain, non-ASCII and astral characters, as one string.
        var text = new StringBuilder("plain");
        for (var c = 0; c < 0x20; c++)
        {
            text.Append((char)c).Append("é😀\u007f");
        }

        text.Append("\"\\/end");
        var node = JsonValue.Create(text.ToString());

        Assert.Equal(JsonStringify(text.ToString()), Encoding.UTF8.GetString(CanonicalJson.Canonicalize(node)));
    }

    [Theory]
    [InlineData("\"\\ud800\\n\"")]
    [InlineData("\"a\\udc00b\"")]
    [InlineData("\"\\n\\ud83d\"")]
    public void Canonicalize_LoneSurrogateBesideEscapes_ThrowsFormatException(string input) =>
        Assert.Throws<FormatException>(() => Canon(input));

    // ECMAScript JSON.stringify's QuoteJSONString, written out naively: the reference the writer must match.
    private static string JsonStringify(string value)
    {
        var result = new StringBuilder("\"");
        foreach (var c in value)
        {
            result.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\b' => "\\b",
                '\f' => "\\f",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < ' ' => "\\u" + ((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }

        return result.Append('"').ToString();
    }
}
