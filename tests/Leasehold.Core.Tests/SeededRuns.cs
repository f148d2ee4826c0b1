using System.Globalization;

namespace Leasehold.Core.Tests;

/// <summary>
/// Seeds and step counts for the randomized tests: a fixed list in CI, or the one seed in
/// <c>LEASEHOLD_SEED</c> to replay a failure, and a step count an environment variable may raise.
/// </summary>
internal static class SeededRuns
{
    public static TheoryData<int> Seeds(params int[] ciSeeds)
    {
        var data = new TheoryData<int>();
        if (int.TryParse(Environment.GetEnvironmentVariable("LEASEHOLD_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed))
        {
            data.Add(seed);
            return data;
        }
        foreach (var s in ciSeeds)
        {
            data.Add(s);
        }
        return data;
    }

    public static int Steps(string variable, int fallback)
        => int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : fallback;
}
