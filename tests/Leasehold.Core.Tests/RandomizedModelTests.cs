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

    public const int LongQueueSteps = 3_000;

    private static readonly int[] CiSeeds = [1, 2, 3, 42, 1234, 9001, 31337, 271828, 314159, 8675309];

    private static readonly int[] LongQueueSeeds = [5, 77, 2025];

    public static TheoryData<int> Seeds() => SeededRuns.Seeds(CiSeeds);

    public static TheoryData<int> LongSeeds() => SeededRuns.Seeds(LongQueueSeeds);

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

    /// <summary>
    /// The same comparison with long lines of waiters on a few hot paths (see <see cref="ModelRun"/>'s
    /// longQueues): the queue pass examines only the waiters something freed, and must still grant exactly
    /// those a walk of the whole queue grants. The run must actually have built long queues.
    /// </summary>
    [Theory]
    [MemberData(nameof(LongSeeds))]
    public void Engine_agrees_with_the_reference_model_on_long_queues(int seed)
    {
        var steps = SeededRuns.Steps("LEASEHOLD_STEPS", LongQueueSteps);
        output.WriteLine($"seed {seed}, {steps} steps, long queues (replay: LEASEHOLD_SEED={seed})");
        var run = new ModelRun(seed, longQueues: true);
        var clock = Stopwatch.StartNew();
        try
        {
            run.Execute(steps);
        }
        finally
        {
            output.WriteLine($"{clock.ElapsedMilliseconds} ms; {run.Stats}");
        }
        Assert.True(run.MaxQueue >= 50, $"the longest queue was {run.MaxQueue} waiters; the scenario is meant to build at least 50");
    }
}
