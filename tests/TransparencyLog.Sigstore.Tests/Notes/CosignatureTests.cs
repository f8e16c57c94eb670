using System.Buffers.Binary;
using System.Text;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Sigstore.Tests.Notes;

public sealed class CosignatureTests
{
    // The c2sp.org/tlog-cosignature example's witness line (its key is not published, so only its layout is checked).
    private const string SpecExampleSignature = "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==";

    private static readonly string s_text = new Checkpoint("example.com/behind-the-sofa", 20852163,
        Convert.FromBase64String("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")).ToNoteText();

    [Fact]
    public void Message_FixedTime_IsHeaderTimeAndWholeNoteText()
    {
        var message = Encoding.UTF8.GetString(Cosignature.Message(1679315147, s_text + "extension line\n"));

        Assert.Equal("cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nextension line\n", message);
    }

    [Fact]
    public void SpecExampleLine_Decodes_ToKeyIdAndTimestamp()
    {
        var blob = Convert.FromBase64String(SpecExampleSignature);

        Assert.Equal(Cosignature.SignatureBlobSize, blob.Length);
        Assert.Equal("8d66cf3f", Convert.ToHexStringLower(blob[..4]));
        Assert.Equal(1679315147UL, BinaryPrimitives.ReadUInt64BigEndian(blob.AsSpan(4)));
    }

    [Fact]
    public async Task Cosigner_SignLine_VerifiesUnderItsVerifierKeyAndKeyIdUsesType04()
    {
        using var key = LogSigner.Generate(LogKeyType.Ed25519);
        var cosigner = new Cosigner("witness.example.com/w1", key);
        var note = s_text + "\n\u2014 example.com/behind-the-sofa AAAAAAAA\n";

        var line = await cosigner.SignLineAsync(s_text, 1679315147);

        var verifier = CosignatureVerifierKey.Parse(cosigner.VerifierKey);
        Assert.Equal(cosigner.VerifierKey, verifier.VerifierKey);
        Assert.Equal(0x04, Convert.FromBase64String(cosigner.VerifierKey.Split('+', 3)[2])[0]);
        Assert.True(Cosignature.TryVerify(note + line, verifier, out var time));
        Assert.Equal(1679315147, time);
        Assert.Equal(104, line.TrimEnd('\n').Split(' ')[2].Length);
        // The same key under a note key ID (0x01) is a different key ID: a plain note verifier does not accept the line.
        Assert.NotEqual(new NoteVerifierKey("witness.example.com/w1", key.PublicKey).KeyId, cosigner.KeyId);
    }

    [Fact]
    public async Task CosignatureVerifierKey_Type01Vkey_IsRekeyedAs04()
    {
        using var key = LogSigner.Generate(LogKeyType.Ed25519);
        var cosigner = new Cosigner("w.example", key);
        var noteVkey = new NoteVerifierKey("w.example", key.PublicKey).VerifierKey;

        var parsed = CosignatureVerifierKey.Parse(noteVkey);

        Assert.Equal(cosigner.VerifierKey, parsed.VerifierKey);
        Assert.True(Cosignature.TryVerify(s_text + "\n" + await cosigner.SignLineAsync(s_text, 5), parsed, out _));
    }

    [Fact]
    public async Task TryVerify_TamperedTextTimeOrSignature_Fails()
    {
        using var key = LogSigner.Generate(LogKeyType.Ed25519);
        var cosigner = new Cosigner("w.example", key);
        var verifier = CosignatureVerifierKey.Parse(cosigner.VerifierKey);
        var line = await cosigner.SignLineAsync(s_text, 1000);
        var blob = Convert.FromBase64String(line.TrimEnd('\n').Split(' ')[2]);

        var otherTime = (byte[])blob.Clone();
        otherTime[11] ^= 1;
        var otherSignature = (byte[])blob.Clone();
        otherSignature[^1] ^= 1;

        Assert.False(Cosignature.TryVerify(s_text.Replace("20852163", "20852164", StringComparison.Ordinal) + "\n" + line, verifier, out _));
        Assert.False(Cosignature.TryVerify(s_text + "\n\u2014 w.example " + Convert.ToBase64String(otherTime) + "\n", verifier, out _));
        Assert.False(Cosignature.TryVerify(s_text + "\n\u2014 w.example " + Convert.ToBase64String(otherSignature) + "\n", verifier, out _));
        // A good line next to a failing one under the same key is still rejected.
        Assert.False(Cosignature.TryVerify(s_text + "\n" + line + "\u2014 w.example " + Convert.ToBase64String(otherSignature) + "\n", verifier, out _));
    }

    [Theory]
    [InlineData("w.example+00000000+BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("w.example+abcd+BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("w.example+00000000+AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("w example+00000000+BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("w.example+00000000+BAAA")]
    public void CosignatureVerifierKey_Malformed_ThrowsFormatException(string vkey) =>
        Assert.Throws<FormatException>(() => CosignatureVerifierKey.Parse(vkey));
}
