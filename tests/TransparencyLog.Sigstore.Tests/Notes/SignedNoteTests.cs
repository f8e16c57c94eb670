using System.Text;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Sigstore.Tests.Notes;

public sealed class SignedNoteTests
{
    // golang.org/x/mod/sumdb/note test vector (also the C2SP signed-note example).
    private const string PeterVkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    private const string PeterSeed = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    private const string PeterText = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    private const string PeterSignatureLine = "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    private static readonly string s_text = new Checkpoint("log.example.com", 7, new byte[32]).ToNoteText();

    [Fact]
    public void NoteVerifierKey_C2spExample_ParsesAndKeyIdRecomputes()
    {
        var key = NoteVerifierKey.Parse("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");

        Assert.Equal("example.com/foo", key.Name);
        Assert.Equal(LogKeyType.Ed25519, key.Key.KeyType);
        Assert.Equal("530d903a", Convert.ToHexStringLower(key.KeyId));
        Assert.Equal("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k", key.VerifierKey);
    }

    [Theory]
    [InlineData("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")]
    [InlineData("example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")]
    [InlineData("example.com/foo+530d903a+A2kyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")]
    [InlineData("example.com/foo+530d903a")]
    [InlineData("example.com/foo+530d90+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")]
    public void NoteVerifierKey_Mangled_ThrowsFormatException(string vkey) =>
        Assert.Throws<FormatException>(() => NoteVerifierKey.Parse(vkey));

    [Fact]
    public async Task Sign_GoReferenceKey_ReproducesGoNoteExactly()
    {
        var seed = Convert.FromBase64String(PeterSeed)[1..];
        using var key = LogSigner.FromSigner(SoftwareSigner.FromEd25519Seed(seed));
        var signer = new NoteSigner("PeterNeumann", key);

        Assert.Equal(PeterVkey, signer.VerifierKey);
        Assert.Equal(PeterText + "\n" + PeterSignatureLine, await SignedNote.SignAsync(PeterText, signer));
        Assert.True(new NoteVerifier(PeterVkey).Verify(PeterText + "\n" + PeterSignatureLine));
    }

    [Theory]
    [InlineData(LogKeyType.EcdsaP256)]
    [InlineData(LogKeyType.Ed25519)]
    public async Task Sign_ThenVerify_RoundTrips(LogKeyType type)
    {
        using var key = LogSigner.Generate(type);
        var signer = new NoteSigner("log.example.com", key);
        var note = await SignedNote.SignAsync(s_text, signer);

        Assert.StartsWith(s_text + "\n\u2014 log.example.com ", note, StringComparison.Ordinal);
        Assert.True(new NoteVerifier(signer.VerifierKey).TryVerifyCheckpoint(note, out var checkpoint));
        Assert.Equal(7, checkpoint?.Size);
        Assert.True(new NoteVerifier("log.example.com", key.PublicKey).Verify(note));
    }

    [Fact]
    public void NoteSigner_Ecdsa_KeyIdIsLogIdPrefixAndVkeyHoldsSpki()
    {
        using var key = LogSigner.Generate(LogKeyType.EcdsaP256);
        var signer = new NoteSigner("rekor.example.com", key);

        Assert.Equal(key.LogId[..4], signer.KeyId);
        var expectedKey = Convert.ToBase64String([0x02, .. key.PublicKeySpki]);
        Assert.Equal($"rekor.example.com+{key.LogIdHex[..8]}+{expectedKey}", signer.VerifierKey);
    }

    [Fact]
    public async Task Sign_Ecdsa_SignatureIsDerOverSha256OfText()
    {
        using var key = LogSigner.Generate(LogKeyType.EcdsaP256);
        var note = await SignedNote.SignAsync(s_text, new NoteSigner("log.example.com", key));

        Assert.True(SignedNote.TryParse(note, out var text, out var signatures));
        Assert.Equal(s_text, text);
        var signature = Assert.Single(signatures);
        Assert.Equal(0x30, signature.Signature[0]);
        Assert.True(key.PublicKey.Verify(Encoding.UTF8.GetBytes(s_text), signature.Signature));
    }

    [Fact]
    public async Task Verify_UnknownExtraSignature_IsIgnored()
    {
        using var key = LogSigner.Generate(LogKeyType.Ed25519);
        using var other = LogSigner.Generate(LogKeyType.Ed25519);
        var signer = new NoteSigner("log.example.com", key);
        var note = await SignedNote.SignAsync(s_text, [new NoteSigner("witness.example", other), signer]);

        Assert.True(new NoteVerifier(signer.VerifierKey).Verify(note));
    }

    [Fact]
    public async Task Verify_OnlyUnknownSignatures_IsRejected()
    {
        using var key = LogSigner.Generate(LogKeyType.Ed25519);
        using var other = LogSigner.Generate(LogKeyType.Ed25519);
        var note = await SignedNote.SignAsync(s_text, new NoteSigner("log.example.com", other));

        Assert.False(new NoteVerifier("log.example.com", key.PublicKey).Verify(note));
    }

    [Fact]
    public async Task Verify_KnownKeyWithBadSignature_IsRejectedEvenIfAnotherVerifies()
    {
        using var key = LogSigner.Generate(LogKeyType.Ed25519);
        var signer = new NoteSigner("log.example.com", key);
        var good = await SignedNote.SignAsync(s_text, signer);
        var badLine = (await SignedNote.SignAsync(new Checkpoint("log.example.com", 8, new byte[32]).ToNoteText(), signer)).Split("\n\n")[1];

        Assert.False(new NoteVerifier(signer.VerifierKey).Verify(good + badLine));
    }

    [Fact]
    public async Task Verify_TamperedText_IsRejected()
    {
        using var key = LogSigner.Generate(LogKeyType.EcdsaP256);
        var signer = new NoteSigner("log.example.com", key);
        var note = (await SignedNote.SignAsync(s_text, signer)).Replace("\n7\n", "\n8\n", StringComparison.Ordinal);

        Assert.False(new NoteVerifier(signer.VerifierKey).Verify(note));
    }

    [Fact]
    public async Task Verify_MissingFinalNewline_IsRejected()
    {
        using var key = LogSigner.Generate(LogKeyType.Ed25519);
        var signer = new NoteSigner("log.example.com", key);
        var note = await SignedNote.SignAsync(s_text, signer);

        Assert.False(new NoteVerifier(signer.VerifierKey).Verify(note[..^1]));
    }

    [Theory]
    [InlineData("no final newline")]
    [InlineData("")]
    [InlineData("ends in a blank line\n\n")]
    [InlineData("tab\tinside\n")]
    public async Task Sign_InvalidText_Throws(string text)
    {
        using var key = LogSigner.Generate(LogKeyType.Ed25519);
        await Assert.ThrowsAsync<ArgumentException>(async () => await SignedNote.SignAsync(text, new NoteSigner("log.example.com", key)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("has+plus")]
    public void NoteSigner_InvalidName_Throws(string name)
    {
        using var key = LogSigner.Generate(LogKeyType.Ed25519);
        Assert.Throws<ArgumentException>(() => new NoteSigner(name, key));
    }

    [Fact]
    public void TryParse_TooManySignatureLines_ReturnsFalse()
    {
        var line = "\u2014 x " + Convert.ToBase64String(new byte[68]) + "\n";
        var note = s_text + "\n" + string.Concat(Enumerable.Repeat(line, SignedNote.MaxSignatureLines + 1));

        Assert.False(SignedNote.TryParse(note, out _, out _));
    }

    [Fact]
    public void TryParse_OversizedNote_ReturnsFalse()
    {
        var note = new string('a', SignedNote.MaxNoteBytes) + "\n\n\u2014 x AAAAAAA=\n";
        Assert.False(SignedNote.TryParse(note, out _, out _));
    }

    [Theory]
    [InlineData("text\n\n- x AAAAAAA=\n")]
    [InlineData("text\n\n\u2014 x AAAA\n")]
    [InlineData("text\n\n\u2014 x AAAAAAA= extra\n")]
    [InlineData("text\n\n")]
    [InlineData("text\n\u2014 x AAAAAAA=\n")]
    public void TryParse_MalformedSignatureBlock_ReturnsFalse(string note) => Assert.False(SignedNote.TryParse(note, out _, out _));
}
