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

        Assert.Equal("https://rekor.example", SigningServiceSelection.Selected(logs, ServiceSelector.Any, [1, 2], s_now, "rekor")?.Url);
        Assert.Equal("https://log2027.example", SigningServiceSelection.Selected(logs, ServiceSelector.Any, [1, 2], s_now.AddDays(11), "rekor")?.Url);
        Assert.Null(SigningServiceSelection.Selected(logs, ServiceSelector.Any, [2], s_now, "rekor"));
    }

    [Fact]
    public void Selected_HighestApiVersionThenNewestStart_Chosen()
    {
        IReadOnlyList<ServiceEndpoint> logs = [Log("https://old.example", 2, -50, op: "a"), Log("https://v1.example", 1, -1, op: "a"), Log("https://new.example", 2, -5, op: "a")];

        Assert.Equal("https://new.example", SigningServiceSelection.Selected(logs, ServiceSelector.Any, [1, 2], s_now, "rekor")?.Url);
        Assert.Equal("https://v1.example", SigningServiceSelection.Selected(logs, ServiceSelector.Any, [1], s_now, "rekor")?.Url);
    }

    [Fact]
    public void Selected_AllOrExactOfSeveral_RefusedNotNarrowed()
    {
        IReadOnlyList<ServiceEndpoint> tsas = [Log("https://tsa1.example", 1, -1), Log("https://tsa2.example", 1, -2)];

        Assert.Equal(ExitCodes.Error, Assert.Throws<CliException>(() => SigningServiceSelection.Selected(tsas, ServiceSelector.All, [1], s_now, "tsa")).ExitCode);
        Assert.Throws<CliException>(() => SigningServiceSelection.Selected(tsas, new ServiceSelector("EXACT", 3), [1], s_now, "tsa"));
        Assert.Throws<CliException>(() => SigningServiceSelection.Selected(tsas, new ServiceSelector("UNDEFINED"), [1], s_now, "tsa"));
        Assert.Equal("https://tsa1.example", SigningServiceSelection.Selected(tsas, new ServiceSelector("EXACT", 1), [1], s_now, "tsa")?.Url);
        Assert.Equal("https://tsa1.example", SigningServiceSelection.Selected(tsas.Take(1).ToList(), ServiceSelector.All, [1], s_now, "tsa")?.Url);
    }
}
