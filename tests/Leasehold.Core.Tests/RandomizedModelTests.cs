using System.Diagnostics;
using Xunit.Abstractions;

namespace Leasehold.Core.Tests;

/// <summary>
/// Seeded randomized comparison of the engine with <see cref="ReferenceModel"/>. CI runs a fixed list of
/// seeds; set LEASEHOLD_SEED to run just one (and LEASEHOLD_STEPS to change the step count).
/// </summary>
public class RandomizedModelTests(ITestOutputHelper output)
{
    public const int DefaultSteps = 20_000;

    private static readonly int[] CiSeeds = [1, 2, 3, 42, 1234, 9001, 31337, 271828, 314159, 8675309];

    public static TheoryData<int> Seeds() => SeededRuns.Seeds(CiSeeds);

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Engine_agrees_with_the_reference_model(int seed)
    {
        var steps = SeededRuns.Steps("LEASEHOLD_STEPS", DefaultSteps);
        output.WriteLine($"seed {seed}, {steps} steps (replay: LEASEHOLD_SEED={seed})");
        var run = new ModelRun(seed);
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
