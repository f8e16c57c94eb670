using System.Globalization;
using System.Text.RegularExpressions;

namespace TransparencyLog.Tests.Shared;

/// <summary>A parsed <c>/metrics</c> answer (Prometheus text format): every sample with its labels.</summary>
internal sealed partial class PrometheusScrape
{
    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = [];

    private PrometheusScrape()
    {
    }

    public static async Task<PrometheusScrape> GetAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        return Parse(await response.Content.ReadAsStringAsync());
    }

    public static PrometheusScrape Parse(string text)
    {
        var scrape = new PrometheusScrape();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"not a Prometheus sample line: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match label in LabelPair().Matches(match.Groups["labels"].Value))
            {
                labels[label.Groups["name"].Value] = label.Groups["value"].Value;
            }

            var value = match.Groups["value"].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                var v => double.Parse(v, CultureInfo.InvariantCulture),
            };
            scrape._samples.Add((match.Groups["name"].Value, labels, value));
        }

        return scrape;
    }

    /// <summary>Whether any sample of <paramref name="name"/> exists.</summary>
    public bool Has(string name) => _samples.Any(s => s.Name == name);

    /// <summary>The sum of the samples of <paramref name="name"/> whose labels include <paramref name="labels"/> (0 when none).</summary>
    public double Sum(string name, params (string Name, string Value)[] labels) => _samples
        .Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value))
        .Sum(s => s.Value);

    /// <summary>The label sets of <paramref name="name"/>.</summary>
    public IEnumerable<IReadOnlyDictionary<string, string>> Series(string name) =>
        _samples.Where(s => s.Name == name).Select(s => (IReadOnlyDictionary<string, string>)s.Labels);

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<name>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
