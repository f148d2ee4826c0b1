using System.Diagnostics;
using System.Globalization;

namespace Leasehold.LoadGen;

/// <summary>Percentiles of a set of Stopwatch-tick durations (nearest rank).</summary>
internal sealed class LatencyStats
{
    private readonly long[] _sorted;

    public LatencyStats(IEnumerable<List<long>> samples)
    {
        _sorted = [.. samples.SelectMany(s => s)];
        Array.Sort(_sorted);
    }

    public int Count => _sorted.Length;

    public double Milliseconds(double percentile)
    {
        if (_sorted.Length == 0)
        {
            return double.NaN;
        }
        var rank = (int)Math.Ceiling(percentile / 100.0 * _sorted.Length);
        var ticks = _sorted[Math.Clamp(rank - 1, 0, _sorted.Length - 1)];
        return ticks * 1000.0 / Stopwatch.Frequency;
    }

    public string Row(string name)
        => string.Create(CultureInfo.InvariantCulture,
            $"  {name,-8} {Milliseconds(50),9:F3} {Milliseconds(90),9:F3} {Milliseconds(99),9:F3} {Milliseconds(100),9:F3}");

    public static string Header => "  latency (ms)    p50       p90       p99       max";
}
