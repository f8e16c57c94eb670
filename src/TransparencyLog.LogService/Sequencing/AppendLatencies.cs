namespace TransparencyLog.LogService.Sequencing;

/// <summary>
/// The latencies of this process's last appends (from entering the sequencer's queue to the answer, commit and proof
/// included), for the explorer's health page. Bounded: a ring of the last <see cref="Capacity"/> appends, recorded
/// once per batch under one lock.
/// </summary>
internal sealed class AppendLatencies
{
    public const int Capacity = 4096;

    private readonly double[] _milliseconds = new double[Capacity];
    private readonly Lock _lock = new();
    private long _count;

    /// <summary>Records the latencies of one answered batch.</summary>
    public void Record(ReadOnlySpan<double> milliseconds)
    {
        lock (_lock)
        {
            foreach (var value in milliseconds)
            {
                _milliseconds[_count++ % Capacity] = value;
            }
        }
    }

    /// <summary>p50 and p99 of the recorded appends, and how many they are; null before the first append.</summary>
    public (double P50, double P99, int Count)? Percentiles()
    {
        double[] values;
        lock (_lock)
        {
            values = _milliseconds[..(int)Math.Min(_count, Capacity)];
        }

        if (values.Length == 0)
        {
            return null;
        }

        Array.Sort(values);
        return (At(values, 0.50), At(values, 0.99), values.Length);
    }

    private static double At(double[] sorted, double quantile) => sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(quantile * sorted.Length) - 1)];
}
