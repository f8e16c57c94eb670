namespace TransparencyLog.Merkle.Tests;

public sealed class HashTests
{
    private const string Hex = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";

    [Fact]
    public void FromHex_LowercaseHex_RoundTripsThroughToString() => Assert.Equal(Hex, Hash.FromHex(Hex).ToString());

    [Fact]
    public void TryFromHex_UppercaseHex_ParsesSameValue()
    {
        Assert.True(Hash.TryFromHex(Hex.ToUpperInvariant(), out var hash));
        Assert.Equal(Hash.FromHex(Hex), hash);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("5dc9")]
    [InlineData(Hex + "00")]
    [InlineData(" 5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff460432")]
    [InlineData("zdc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")]
    [InlineData("0x5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff46043")]
    public void TryFromHex_Malformed_ReturnsFalse(string? hex) => Assert.False(Hash.TryFromHex(hex, out _));

    [Fact]
    public void FromHex_Malformed_ThrowsFormatException() => Assert.Throws<FormatException>(() => Hash.FromHex("abc"));

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void FromBytes_WrongLength_ThrowsArgumentException(int length) =>
        Assert.Throws<ArgumentException>(() => Hash.FromBytes(new byte[length]));

    [Fact]
    public void ToArray_AfterFromBytes_ReturnsSameBytes()
    {
        var bytes = Convert.FromHexString(Hex);

        Assert.Equal(bytes, Hash.FromBytes(bytes).ToArray());
    }

    [Fact]
    public void CopyTo_ShortDestination_ThrowsArgumentException() =>
        Assert.Throws<ArgumentException>(() => Hash.FromHex(Hex).CopyTo(new byte[31]));

    [Fact]
    public void TryFromBase64_OwnEncoding_RoundTrips()
    {
        var hash = Hash.FromHex(Hex);

        Assert.True(Hash.TryFromBase64(hash.ToBase64(), out var parsed));
        Assert.Equal(hash, parsed);
        Assert.Equal(Convert.ToBase64String(Convert.FromHexString(Hex)), hash.ToBase64());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg")] // padding missing
    [InlineData("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=")] // non-zero unused bits
    [InlineData("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQw==")] // 31 bytes
    [InlineData("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/Rg Qyg=")]
    [InlineData("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg=")] // URL alphabet
    public void TryFromBase64_Malformed_ReturnsFalse(string? b64) => Assert.False(Hash.TryFromBase64(b64, out _));

    [Fact]
    public void Equality_SameAndDifferentValues_ComparesByValue()
    {
        var a = Hash.FromHex(Hex);
        var b = Hash.FromHex(Hex.ToUpperInvariant());
        var c = Hash.FromHex(Hex[..^1] + "9");

        Assert.True(a == b);
        Assert.False(a != b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.True(a != c);
        Assert.False(a.Equals((object)c));
        Assert.NotEqual(default, a);
    }
}
