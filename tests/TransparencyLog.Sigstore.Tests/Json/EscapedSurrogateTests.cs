using System.Text;
using TransparencyLog.Sigstore.Bundles;
using TransparencyLog.Sigstore.Rekor;
using TransparencyLog.Sigstore.TrustRoot;
using TransparencyLog.Sigstore.Tuf;

namespace TransparencyLog.Sigstore.Tests.Json;

/// <summary>
/// An escaped surrogate without its pair (<c>"\ud800"</c>) is valid JSON syntax, passes the UTF-8 check, and threw
/// InvalidOperationException when the string was read (found by reading, 2026-12-06, and replayed on the
/// rekor-v1-entry and bundle fuzz targets: both crashed). The shared parsers refuse it as malformed JSON.
/// </summary>
public sealed class EscapedSurrogateTests
{
    [Theory]
    [InlineData("""{"kind":"\ud800","apiVersion":"0.0.1","spec":{}}""")]
    [InlineData("""{"kind":"hashedrekord","apiVersion":"0.0.1","spec":{"data":{"hash":{"algorithm":"\udc00x","value":"ab"}}}}""")]
    public void ProposedEntry_EscapedLoneSurrogate_RejectedAsNotJson(string body)
    {
        var error = Assert.Throws<EntryRejectedException>(() => ProposedEntryParser.Parse(Encoding.UTF8.GetBytes(body), new EntryLimits()));

        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bundle_EscapedLoneSurrogate_BundleFormatException()
    {
        const string bundle = """{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"publicKey":{"hint":"\udc00"}}}""";

        var error = Assert.Throws<BundleFormatException>(() => Bundle.Parse(bundle));

        Assert.Contains("not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TrustedRoot_EscapedLoneSurrogate_BundleFormatException()
    {
        Assert.Throws<BundleFormatException>(() => TrustedRoot.Parse("""{"mediaType":"\ud83d","tlogs":[]}"""));
        Assert.Throws<BundleFormatException>(() => TrustedRoot.ParseLogInstance("""{"baseUrl":"\ud83d"}"""));
    }

    [Fact]
    public void TufMetadata_EscapedLoneSurrogate_BadFormat()
    {
        var error = Assert.Throws<TufException>(() => TufMetadata.Parse("""{"signed":{"_type":"\ud800"},"signatures":[]}"""u8));

        Assert.Equal(TufError.BadFormat, error.Error);
    }

    [Fact]
    public void ProposedEntry_EscapedSurrogatePair_StillRead()
    {
        // A pair is a valid character (U+1F600): only the unpaired half is refused.
        const string body = """{"kind":"\ud83d\ude00","apiVersion":"0.0.1","spec":{}}""";

        var error = Assert.Throws<EntryRejectedException>(() => ProposedEntryParser.Parse(Encoding.UTF8.GetBytes(body), new EntryLimits()));

        Assert.DoesNotContain("not valid JSON", error.Message, StringComparison.Ordinal);
    }
}
