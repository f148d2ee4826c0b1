using System.Diagnostics;
using Xunit.Abstractions;

namespace Leasehold.Core.Tests.Pools;

/// <summary>
/// Seeded random pool traffic compared with <see cref="PoolReference"/> (see <see cref="PoolModelRun"/>).
/// CI runs a few fixed seeds; set LEASEHOLD_SEED to run just one, LEASEHOLD_POOL_STEPS to change the step count.
/// </summary>
public class PoolRandomizedTests(ITestOutputHelper output)
{
    public const int DefaultSteps = 5_000;

    private static readonly int[] CiSeeds = [1, 7, 42, 2024, 90210];

    public static TheoryData<int> Seeds() => SeededRuns.Seeds(CiSeeds);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Pool_allocation_agrees_with_the_brute_force_reference(int seed)
    {
        var steps = SeededRuns.Steps("LEASEHOLD_POOL_STEPS", DefaultSteps);
        output.WriteLine($"seed {seed}, {steps} steps (replay: LEASEHOLD_SEED={seed})");
        var run = new PoolModelRun(seed);
        var clock = Stopwatch.StartNew();
        try
        {
            run.Execute(steps);
        }
        finally
        {
            output.WriteLine($"{clock.ElapsedMilliseconds} ms; {run.Stats}");
        }
    }
}
