using System.Text;
using TransparencyLog.Policy.Evaluation;

namespace TransparencyLog.Admission.Tests.Policies;

/// <summary>The webhook's body parsing (ReviewHandler and the admission-review fuzz target both use it).</summary>
public sealed class ReviewParsingTests
{
    [Fact]
    public void ParseReview_InvalidUtf8InsideAString_ReviewFormatException()
    {
        // Found by the admission-review fuzz target: System.Text.Json parses this and throws only when the string is read.
        byte[] body = [.. """{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":""""u8, 0xff, .. "\"}}"u8];

        var error = Assert.Throws<ReviewFormatException>(() => ReviewEvaluator.ParseReview(body));

        Assert.Equal("the body is not UTF-8", error.Message);
    }

    [Theory]
    [InlineData("{not json", "the body is not JSON")]
    [InlineData("", "the body is not JSON")]
    public void ParseReview_NotJson_ReviewFormatException(string body, string message)
    {
        var error = Assert.Throws<ReviewFormatException>(() => ReviewEvaluator.ParseReview(Encoding.UTF8.GetBytes(body)));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void ParseReview_NestedTooDeep_ReviewFormatException()
    {
        var deep = new string('[', ReviewEvaluator.MaxJsonDepth + 1) + new string(']', ReviewEvaluator.MaxJsonDepth + 1);

        Assert.Throws<ReviewFormatException>(() => ReviewEvaluator.ParseReview(Encoding.UTF8.GetBytes(deep)));
    }
}
