using System.Globalization;

namespace TransparencyLog.LogService.Explorer;

/// <summary>
/// Entries added per hour or per day, from the sizes the log signed over time, drawn as server-side SVG: no script,
/// and the same numbers as a table for screen readers and for people who want the figures.
/// </summary>
internal sealed record GrowthChart(string Range, DateTimeOffset[] Boundaries, long[] Sizes)
{
    private const int Width = 720;
    private const int Height = 220;
    private const int Left = 56;
    private const int Bottom = 28;
    private const int Top = 12;

    /// <summary>The chart's ranges: 48 hourly buckets or 30 daily ones.</summary>
    public static readonly IReadOnlyDictionary<string, (TimeSpan Bucket, int Count, string Label)> Ranges = new Dictionary<string, (TimeSpan, int, string)>(StringComparer.Ordinal)
    {
        ["48h"] = (TimeSpan.FromHours(1), 48, "entries per hour, last 48 hours"),
        ["30d"] = (TimeSpan.FromDays(1), 30, "entries per day, last 30 days"),
    };

    /// <summary>Bucket boundaries ending at the next whole bucket after <paramref name="now"/>.</summary>
    public static DateTimeOffset[] BoundariesFor(string range, DateTimeOffset now)
    {
        var (bucket, count, _) = Ranges[range];
        var end = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % bucket.Ticks), TimeSpan.Zero) + bucket;
        var boundaries = new DateTimeOffset[count + 1];
        for (var i = 0; i <= count; i++)
        {
            boundaries[i] = end - ((count - i) * bucket);
        }

        return boundaries;
    }

    public long[] Added => [.. Enumerable.Range(0, Sizes.Length - 1).Select(i => Math.Max(0, Sizes[i + 1] - Sizes[i]))];

    public void Write(Html html)
    {
        var added = Added;
        var max = Math.Max(1, added.Max());
        var (bucket, _, label) = Ranges[Range];
        var plotWidth = Width - Left - 8;
        var plotHeight = Height - Top - Bottom;
        var barWidth = (double)plotWidth / added.Length;
        html.Open("figure", ("class", "chart"))
            .Open("svg", ("viewBox", $"0 0 {Width} {Height}"), ("role", "img"), ("aria-labelledby", "chart-title chart-desc"), ("id", "growth-chart"), ("xmlns", "http://www.w3.org/2000/svg"))
            .Element("title", $"Growth: {label}", ("id", "chart-title"))
            .Element("desc", $"{added.Sum()} entries added in total; at most {max} in one {(bucket.TotalHours == 1 ? "hour" : "day")}.", ("id", "chart-desc"))
            .Open("line", ("x1", N(Left)), ("y1", N(Top + plotHeight)), ("x2", N(Width - 8)), ("y2", N(Top + plotHeight)), ("class", "axis")).Close("line")
            .Element("text", max.ToString(CultureInfo.InvariantCulture), ("x", N(Left - 6)), ("y", N(Top + 10)), ("class", "tick"), ("text-anchor", "end"))
            .Element("text", "0", ("x", N(Left - 6)), ("y", N(Top + plotHeight)), ("class", "tick"), ("text-anchor", "end"));
        for (var i = 0; i < added.Length; i++)
        {
            var h = added[i] == 0 ? 0 : Math.Max(1, plotHeight * added[i] / (double)max);
            html.Open("rect", ("x", N(Left + (i * barWidth) + 1)), ("y", N(Top + plotHeight - h)), ("width", N(Math.Max(1, barWidth - 2))), ("height", N(h)), ("class", "bar"))
                .Element("title", $"{Layout.Time(Boundaries[i])}: {added[i]} entries")
                .Close("rect");
        }

        var format = bucket.TotalHours == 1 ? "dd HH:mm" : "MM-dd";
        // First, middle and last bucket, anchored so that no label runs past the chart's edges.
        foreach (var (i, anchor) in new[] { (0, "start"), (added.Length / 2, "middle"), (added.Length - 1, "end") })
        {
            var x = anchor == "end" ? Left + ((i + 1) * barWidth) : Left + (i * barWidth) + (anchor == "middle" ? barWidth / 2 : 0);
            html.Element("text", Boundaries[i].UtcDateTime.ToString(format, CultureInfo.InvariantCulture),
                ("x", N(x)), ("y", N(Height - 8)), ("class", "tick"), ("text-anchor", anchor));
        }

        html.Close("svg").Element("figcaption", $"{char.ToUpperInvariant(label[0])}{label[1..]} (UTC), from the checkpoints the log signed.").Close("figure");

        html.Open("details").Element("summary", "The same figures as a table")
            .Open("div", ("class", "table-scroll"), ("role", "region"), ("aria-label", "Growth figures"), ("tabindex", "0"))
            .Open("table").Open("thead").Open("tr")
            .Element("th", "From (UTC)", ("scope", "col")).Element("th", "Entries added", ("scope", "col")).Element("th", "Tree size at end", ("scope", "col"))
            .Close("tr").Close("thead").Open("tbody");
        for (var i = added.Length - 1; i >= 0; i--)
        {
            html.Open("tr").Element("td", Layout.Time(Boundaries[i])).Element("td", added[i].ToString(CultureInfo.InvariantCulture))
                .Element("td", Sizes[i + 1].ToString(CultureInfo.InvariantCulture)).Close("tr");
        }

        html.Close("tbody").Close("table").Close("div").Close("details");
    }

    private static string N(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
