using CsCheck;
using Leasehold.Fuzz.Harness;

namespace Leasehold.Fuzz.Tests;

/// <summary>The harness itself: it reports what a broken parser does, and a run is reproducible from its seed.</summary>
public sealed class HarnessTests
{
    private static readonly FuzzSettings Settings = new(2_000, 7, 2, TimeSpan.FromSeconds(1));

    [Fact]
    public void AParserThatThrowsIsReportedWithTheInputsSeed()
    {
        // A "parser" that fails on one input in a hundred or so, as a bug would.
        var target = new FuzzTarget<int>("broken", "throws on multiples of 97", Gen.Int[0, 10_000],
            () => new DelegateChecker<int>(n => _ = n % 97 == 0 ? throw new IndexOutOfRangeException("bug") : n), n => n.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var report = target.Run(Settings);

        Assert.False(report.Passed);
        Assert.InRange(report.Failures, 1, report.Inputs);
        var first = report.Examples[0];
        Assert.Contains("IndexOutOfRangeException", first.Problem, StringComparison.Ordinal);
        Assert.Equal(0, int.Parse(first.Input, System.Globalization.CultureInfo.InvariantCulture) % 97);
        // The printed seed regenerates the failing input, and CsCheck reports it too.
        Assert.Equal(first.Input, target.Inputs.Generate(PCG.Parse(first.InputSeed), null!, out _).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.ThrowsAny<Exception>(() => target.Replay(first.InputSeed, 100));
    }

    [Fact]
    public void AParserThatNeverReturnsIsReportedAsAHang()
    {
        using var release = new ManualResetEventSlim();
        var target = new FuzzTarget<int>("stuck", "blocks on 1234", Gen.Int[0, 2_000],
            () => new DelegateChecker<int>(n =>
            {
                if (n == 1234)
                {
                    // Bounded so that the stuck thread ends with the test.
                    release.Wait(TimeSpan.FromSeconds(10));
                }
            }),
            n => n.ToString(System.Globalization.CultureInfo.InvariantCulture));

        var report = target.Run(Settings with { Inputs = 100_000 });
        release.Set();

        Assert.NotNull(report.Hang);
        Assert.Equal("1234", report.Hang.Input);
        Assert.False(report.Passed);
    }

    [Fact]
    public void TheSameSeedGeneratesTheSameInputs()
    {
        var seen = new[] { new List<int>(), new List<int>() };
        for (var run = 0; run < 2; run++)
        {
            var list = seen[run];
            var target = new FuzzTarget<int>("record", "records", Gen.Int, () => new DelegateChecker<int>(n =>
            {
                lock (list)
                {
                    list.Add(n);
                }
            }), n => "");
            Assert.True(target.Run(Settings with { Threads = run + 1 }).Passed);
        }
        Assert.Equal(seen[0].Order(), seen[1].Order());
    }
}
