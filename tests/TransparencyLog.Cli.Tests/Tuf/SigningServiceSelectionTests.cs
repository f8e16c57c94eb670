using TransparencyLog.Cli.Hosting;
using TransparencyLog.Cli.Tuf;
using TransparencyLog.Sigstore.TrustRoot;

namespace TransparencyLog.Cli.Tests.Tuf;

public sealed class SigningServiceSelectionTests
{
    private static readonly DateTimeOffset s_now = new(2026, 12, 6, 0, 0, 0, TimeSpan.Zero);

    private static ServiceEndpoint Log(string url, int version, int startDays, int? endDays = null, string? op = null) =>
        new(url, version, new ValidityPeriod(s_now.AddDays(startDays), endDays is { } e ? s_now.AddDays(e) : null), op ?? url);

    [Fact]
    public void Selected_NewLogWithFutureStart_HiddenUntilItsStart()
    {
        // Rekor v2 period log announced ahead (rule R2); the old log's window ends when the new one starts.
        IReadOnlyList<ServiceEndpoint> logs = [Log("https://log2027.example", 2, 10, op: "example"), Log("https://rekor.example", 1, -100, 10, op: "example")];

        Assert.Equal("https://rekor.example", Assert.Single(SigningServiceSelection.Selected(logs, ServiceSelector.Any, [1, 2], s_now, "rekor")).Url);
        Assert.Equal("https://log2027.example", Assert.Single(SigningServiceSelection.Selected(logs, ServiceSelector.Any, [1, 2], s_now.AddDays(11), "rekor")).Url);
        Assert.Empty(SigningServiceSelection.Selected(logs, ServiceSelector.Any, [2], s_now, "rekor"));
    }

    [Fact]
    public void Selected_HighestApiVersionThenNewestStart_Chosen()
    {
        IReadOnlyList<ServiceEndpoint> logs = [Log("https://old.example", 2, -50, op: "a"), Log("https://v1.example", 1, -1, op: "a"), Log("https://new.example", 2, -5, op: "a")];

        Assert.Equal("https://new.example", Assert.Single(SigningServiceSelection.Selected(logs, ServiceSelector.Any, [1, 2], s_now, "rekor")).Url);
        Assert.Equal("https://v1.example", Assert.Single(SigningServiceSelection.Selected(logs, ServiceSelector.Any, [1], s_now, "rekor")).Url);
    }

    [Fact]
    public void Selected_All_EveryValidServiceNewestPerOperator()
    {
        IReadOnlyList<ServiceEndpoint> tsas =
        [
            Log("https://tsa1.example", 1, -1, op: "one"),
            Log("https://tsa1-old.example", 1, -30, -1, op: "one"),
            Log("https://tsa1-older.example", 1, -40, op: "one"),
            Log("https://tsa2.example", 1, -2, op: "two"),
            Log("https://tsa3.example", 1, 5, op: "three"),
        ];

        var chosen = SigningServiceSelection.Selected(tsas, ServiceSelector.All, [1], s_now, "tsa");

        // tsa1-old has ended, tsa1-older is older than tsa1 of the same operator, tsa3 has not started.
        Assert.Equal(["https://tsa1.example", "https://tsa2.example"], chosen.Select(static t => t.Url));
        Assert.Equal(3, SigningServiceSelection.Selected(tsas, ServiceSelector.All, [1], s_now.AddDays(6), "tsa").Count);
    }

    [Fact]
    public void Selected_ExactOfSeveral_ThatManyDistinctValidOnes()
    {
        IReadOnlyList<ServiceEndpoint> logs = [.. Enumerable.Range(1, 5).Select(i => Log($"https://log{i}.example", 1, -i))];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var random = new Random(7);

        for (var i = 0; i < 50; i++)
        {
            var chosen = SigningServiceSelection.Selected(logs, new ServiceSelector("EXACT", 2), [1], s_now, "rekor", random);
            Assert.Equal(2, chosen.Select(static l => l.Url).Distinct(StringComparer.Ordinal).Count());
            Assert.All(chosen, l => Assert.Contains(l, logs));
            seen.UnionWith(chosen.Select(static l => l.Url));
        }

        // A random choice, as sigstore-go's, spreads over the candidates rather than always taking the newest two.
        Assert.True(seen.Count > 2, string.Join(", ", seen));
        Assert.Equal(5, SigningServiceSelection.Selected(logs, new ServiceSelector("EXACT", 5), [1], s_now, "rekor").Count);
    }

    [Fact]
    public void Selected_ExactBeyondCandidatesOrUndefined_Refused()
    {
        IReadOnlyList<ServiceEndpoint> tsas = [Log("https://tsa1.example", 1, -1), Log("https://tsa2.example", 1, -2), Log("https://tsa3.example", 1, 3)];

        Assert.Equal(ExitCodes.Error, Assert.Throws<CliException>(() => SigningServiceSelection.Selected(tsas, new ServiceSelector("EXACT", 3), [1], s_now, "tsa")).ExitCode);
        Assert.Throws<CliException>(() => SigningServiceSelection.Selected(tsas, new ServiceSelector("EXACT", 0), [1], s_now, "tsa"));
        Assert.Throws<CliException>(() => SigningServiceSelection.Selected(tsas, new ServiceSelector("UNDEFINED"), [1], s_now, "tsa"));
        Assert.Equal(2, SigningServiceSelection.Selected(tsas, new ServiceSelector("EXACT", 2), [1], s_now, "tsa").Count);
    }
}
