using TransparencyLog.Tests.Shared;
using TransparencyLog.Sigstore.Keys;
using TransparencyLog.Sigstore.Notes;

namespace TransparencyLog.Sigstore.Tests.Notes;

public sealed class WitnessPolicyTests : IDisposable
{
    private readonly LogSigner _logKey = LogSigner.Generate(LogKeyType.Ed25519);
    private readonly LogSigner[] _keys = [LogSigner.Generate(LogKeyType.Ed25519), LogSigner.Generate(LogKeyType.Ed25519), LogSigner.Generate(LogKeyType.Ed25519)];
    private readonly Cosigner[] _witnesses;
    private readonly NoteSigner _log;
    private readonly string _text = new Checkpoint("log.example", 10, new byte[32]).ToNoteText();

    public WitnessPolicyTests()
    {
        _log = new NoteSigner("log.example", _logKey);
        _witnesses = [new("wa.example/w", _keys[0]), new("wb.example/w", _keys[1]), new("wc.example/w", _keys[2])];
    }

    private string Policy(string quorumLines) => $"""
        # a comment line
        log     {_log.VerifierKey}   https://log.example
        witness wa  {_witnesses[0].VerifierKey}   https://wa.example/
        witness wb  {_witnesses[1].VerifierKey}   https://wb.example/witness/   # trailing comment
        witness wc  {_witnesses[2].VerifierKey}
        {quorumLines}
        """;

    private string Note(params int[] witnesses) =>
        SignedNote.SignAsync(_text, _log).Completed() + string.Concat(witnesses.Select(i => _witnesses[i].SignLineAsync(_text, 1700000000 + i).Completed()));

    [Theory]
    [InlineData("group main 2 wa wb wc\nquorum main", new[] { 0, 1 }, true)]
    [InlineData("group main 2 wa wb wc\nquorum main", new[] { 2 }, false)]
    [InlineData("group main any wa wb wc\nquorum main", new[] { 2 }, true)]
    [InlineData("group main all wa wb wc\nquorum main", new[] { 0, 2 }, false)]
    [InlineData("group main all wa wb wc\nquorum main", new[] { 0, 1, 2 }, true)]
    [InlineData("group ab any wa wb\ngroup main all ab wc\nquorum main", new[] { 1, 2 }, true)]
    [InlineData("group ab any wa wb\ngroup main all ab wc\nquorum main", new[] { 0, 1 }, false)]
    [InlineData("quorum wb", new[] { 1 }, true)]
    [InlineData("quorum none", new int[0], true)]
    public void Verify_Quorums_SatisfiedExactlyWhenEnoughWitnessesCosigned(string quorum, int[] cosigners, bool satisfied)
    {
        var policy = WitnessPolicy.Parse(Policy(quorum));

        Assert.Equal(satisfied, policy.Verify(Note(cosigners), out var cosigned));
        Assert.Equal(cosigners.Select(i => "wa wb wc".Split(' ')[i]).Order(), cosigned.Order());
    }

    [Fact]
    public void Verify_FailingLineOfPolicyWitness_RejectsNote()
    {
        var policy = WitnessPolicy.Parse(Policy("group main 1 wa wb\nquorum main"));
        var note = Note(0, 1);
        var broken = note.Replace(_witnesses[1].SignLineAsync(_text, 1700000001).Completed().TrimEnd('\n'), _witnesses[1].SignLineAsync(_text, 1).Completed().TrimEnd('\n')[..^8] + "AAAAAAA=", StringComparison.Ordinal);

        Assert.NotEqual(note, broken);
        Assert.False(policy.Verify(broken, out _));
    }

    [Fact]
    public void Parse_Type01WitnessKey_AcceptedAsCosignatureKey()
    {
        var noteKey = new NoteVerifierKey("wa.example/w", _keys[0].PublicKey).VerifierKey;
        var policy = WitnessPolicy.Parse($"witness wa {noteKey} https://wa.example/\nquorum wa\n");

        Assert.True(policy.Verify(Note(0), out _));
        Assert.Equal(new Uri("https://wa.example/"), Assert.Single(policy.Witnesses).Url);
    }

    [Theory]
    [InlineData("group main 2 wa wx\nquorum main")]
    [InlineData("group main 2 wa wa\nquorum main")]
    [InlineData("group main 4 wa wb wc\nquorum main")]
    [InlineData("group main 0 wa wb wc\nquorum main")]
    [InlineData("group main of wa wb wc\nquorum main")]
    [InlineData("group main 2 of wa wb\nquorum main")]
    [InlineData("quorum main")]
    [InlineData("quorum wa\nquorum wb")]
    [InlineData("group any 1 wa\nquorum any")]
    [InlineData("witness wa x+00000000+AA\nquorum wa")]
    [InlineData("frobnicate\nquorum none")]
    [InlineData("")]
    public void Parse_Malformed_ThrowsFormatExceptionNamingTheLine(string quorum) =>
        Assert.Throws<FormatException>(() => WitnessPolicy.Parse(Policy(quorum)));

    [Fact]
    public void Parse_DuplicateWitnessKey_Throws()
    {
        var text = $"witness wa {_witnesses[0].VerifierKey}\nwitness wz {_witnesses[0].VerifierKey}\nquorum wa\n";

        var error = Assert.Throws<FormatException>(() => WitnessPolicy.Parse(text));
        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _logKey.Dispose();
        foreach (var key in _keys)
        {
            key.Dispose();
        }
    }
}
