using System.Text;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Rekor;

namespace TransparencyLog.Sigstore.Tests.Rekor;

public sealed class SignedEntryTimestampTests
{
    private const string LogIdHex = "081f36803b5e957b3a936eb51b28e1267990a20ca3f865bf32c477af3882f3c4";

    [Fact]
    public void Payload_KnownInput_IsExactJcsBytes()
    {
        var payload = SignedEntryTimestamp.Payload("eyJhcGlWZXJzaW9uIjoiMC4wLjEi+/==", 1795299166, LogIdHex, 7);

        Assert.Equal(
            "{\"body\":\"eyJhcGlWZXJzaW9uIjoiMC4wLjEi+/==\",\"integratedTime\":1795299166,\"logID\":\"" + LogIdHex + "\",\"logIndex\":7}",
            Encoding.UTF8.GetString(payload));
    }

    [Fact]
    public void Payload_ZeroIndex_IsPrintedAsZero() =>
        Assert.EndsWith(",\"logIndex\":0}", Encoding.UTF8.GetString(SignedEntryTimestamp.Payload("e30=", 0, LogIdHex, 0)), StringComparison.Ordinal);

    [Fact]
    public async Task Sign_ThenVerify_UsesLogIdOfKey()
    {
        using var signer = LogSigner.Generate(LogKeyType.EcdsaP256);
        var signature = await SignedEntryTimestamp.SignAsync(signer, "e30=", 1795299166, 3);

        Assert.True(signer.Verify(SignedEntryTimestamp.Payload("e30=", 1795299166, signer.LogIdHex, 3), signature));
        Assert.True(SignedEntryTimestamp.Verify(signer.PublicKey, signature, "e30=", 1795299166, 3));
        Assert.False(SignedEntryTimestamp.Verify(signer.PublicKey, signature, "e30=", 1795299166, 4));
    }

    [Theory]
    [InlineData(0, 0L, 0L)]
    [InlineData(1, 1795299166L, 7L)]
    [InlineData(557, 1795299166L, 123456789L)]
    [InlineData(4096, -1L, 9007199254740993L)]
    [InlineData(3, long.MaxValue, long.MinValue)]
    public void Payload_BodyBytes_EqualsPayloadOfItsBase64(int bodyLength, long integratedTime, long logIndex)
    {
        var body = new byte[bodyLength];
        new Random(bodyLength).NextBytes(body);

        Assert.Equal(
            SignedEntryTimestamp.Payload(Convert.ToBase64String(body), integratedTime, LogIdHex, logIndex),
            SignedEntryTimestamp.Payload(body, integratedTime, LogIdHex, logIndex));
    }
}
