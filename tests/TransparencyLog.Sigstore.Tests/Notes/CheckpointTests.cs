using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Sigstore.Tests.Notes;

public sealed class CheckpointTests
{
    private static readonly byte[] s_root = Convert.FromBase64String("wz+kchet9/rMKzKHd12HFt+S9LlDcqPx+djKp1mNSzQ=");

    [Fact]
    public void ToNoteText_WithExtension_MatchesRekorLayout()
    {
        var checkpoint = new Checkpoint("127.0.0.1:32783 - 5030042558679124634", 14, s_root, ["Timestamp: 1795299241569000000"]);

        Assert.Equal(
            "127.0.0.1:32783 - 5030042558679124634\n14\nwz+kchet9/rMKzKHd12HFt+S9LlDcqPx+djKp1mNSzQ=\nTimestamp: 1795299241569000000\n",
            checkpoint.ToNoteText());
    }

    [Fact]
    public void TryParse_OwnOutput_RoundTrips()
    {
        var checkpoint = new Checkpoint("log.example.com", 0, new byte[32], ["a", "b c"]);

        Assert.True(Checkpoint.TryParse(checkpoint.ToNoteText(), out var parsed));
        Assert.NotNull(parsed);
        Assert.Equal("log.example.com", parsed.Origin);
        Assert.Equal(0, parsed.Size);
        Assert.Equal(new byte[32], parsed.RootHash);
        Assert.Equal(["a", "b c"], parsed.Extensions);
    }

    [Theory]
    [InlineData("o\n14\nwz+kchet9/rMKzKHd12HFt+S9LlDcqPx+djKp1mNSzQ=")]
    [InlineData("o\n014\nwz+kchet9/rMKzKHd12HFt+S9LlDcqPx+djKp1mNSzQ=\n")]
    [InlineData("o\n-1\nwz+kchet9/rMKzKHd12HFt+S9LlDcqPx+djKp1mNSzQ=\n")]
    [InlineData("o\n+1\nwz+kchet9/rMKzKHd12HFt+S9LlDcqPx+djKp1mNSzQ=\n")]
    [InlineData("o\n99999999999999999999\nwz+kchet9/rMKzKHd12HFt+S9LlDcqPx+djKp1mNSzQ=\n")]
    [InlineData("o\n14\nwz+kchet9/rMKzKHd12HFt+S9LlDcqPx+djKp1mNS\n")]
    [InlineData("o\n14\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")]
    [InlineData("o\n14\nwz+kchet9/rMKzKHd12HFt+S9LlDcqPx+djKp1mNSzQ=\n\n")]
    [InlineData("\n14\nwz+kchet9/rMKzKHd12HFt+S9LlDcqPx+djKp1mNSzQ=\n")]
    [InlineData("o\n14\n")]
    public void TryParse_Malformed_ReturnsFalse(string text) => Assert.False(Checkpoint.TryParse(text, out _));
}
