using System.Globalization;
using Leasehold.Core;
using Xunit.Abstractions;

namespace Leasehold.Storage.Tests;

/// <summary>
/// Drives a store with seeded random commands through the writer/flusher helper, in batches of random size,
/// taking snapshots and restarting at random points, beside an in-memory engine that is never persisted.
/// Every command must give the same result on both, every restart must recover the live state exactly, and
/// at the end a fresh <see cref="DataStore.Open"/> must recover it too. A failure names the seed and step.
/// </summary>
public class ReplayEqualsLiveTests(ITestOutputHelper output) : IDisposable
{
    private const int Steps = 3000;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <param name="seed">Seeds the commands and the driver's choices; printed, and named in every failure.</param>
    /// <param name="snapshotOneIn">A snapshot after a step with this odds (0: never, so recovery replays the whole log).</param>
    [Theory]
    [InlineData(1, 250)]
    [InlineData(20_240_607, 250)]
    [InlineData(987_654_321, 0)]
    public void RecoveredEngineEqualsTheLiveOne(int seed, int snapshotOneIn)
    {
        output.WriteLine($"seed {seed}, snapshot one step in {snapshotOneIn}");
        var work = new RandomWorkload(seed);
        var choices = new Random(seed ^ 0x5BD1E995);
        var shadow = new LockEngine();
        var stats = new Dictionary<string, int>();
        long lastSnapshot = 0;
        var driver = new StoreDriver(_dir.Dir, segmentBytes: 4096) { AutoFlush = false };
        try
        {
            for (var step = 0; step < Steps; step++)
            {
                Step(driver, shadow, work.Next(shadow), seed, step, stats);
                if (choices.Next(3) == 0)
                {
                    driver.Flush();
                }
                if (snapshotOneIn > 0 && choices.Next(snapshotOneIn) == 0)
                {
                    lastSnapshot = driver.Snapshot();
                    Count(stats, "snapshots");
                }
                if (choices.Next(400) == 0)
                {
                    var live = driver.Engine.Capture();
                    driver.Flush();
                    var next = driver.Store.NextIndex;
                    var store = driver.Reopen();
                    Assert.Equal(new RecoveryReport(lastSnapshot, next - 1 - lastSnapshot, 0, store.Report.Elapsed, next), store.Report);
                    AssertRecovered(live, store.Engine, shadow, seed, step);
                    Count(stats, "restarts");
                    // As the server does after every start.
                    Step(driver, shadow, work.Recover(), seed, step, stats);
                }
            }
            driver.Flush();
            var final = driver.Engine.Capture();
            driver.Dispose();
            driver = null;

            using var recovered = DataStore.Open(_dir.Dir);
            AssertRecovered(final, recovered.Engine, shadow, seed, Steps);
            output.WriteLine($"records {recovered.NextIndex - 1}, replayed at the end {recovered.Report.RecordsReplayed}, segments {_dir.Segments().Count}");
        }
        finally
        {
            driver?.Dispose();
        }

        output.WriteLine(string.Join(", ", stats.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} {s.Value}")));
        // The workload must reach the interesting places, or the comparison proves little.
        foreach (var must in new[] { "granted", "queued", "granted from queue", "wait timed out", "session ended", "cancelled", "restarts", "expired" })
        {
            Assert.True(stats.GetValueOrDefault(must) > 0, $"seed {seed}: the workload never reached '{must}'");
        }
        Assert.True(snapshotOneIn == 0 || stats.GetValueOrDefault("snapshots") > 0, $"seed {seed}: no snapshot was taken");
    }

    private static void Step(StoreDriver driver, LockEngine shadow, Command command, int seed, int step, Dictionary<string, int> stats)
    {
        var expected = shadow.Apply(command);
        var expectedOutcomes = Outcomes(shadow.Outcomes);
        shadow.Outcomes.Clear();
        var actual = driver.Apply(command, out var outcomes);

        var where = $"seed {seed}, step {step}, {command}";
        Assert.True(Describe(expected) == Describe(actual), $"{where}: live {Describe(expected)}, store {Describe(actual)}");
        Assert.True(expectedOutcomes == Outcomes(outcomes), $"{where}: live outcomes {expectedOutcomes}, store {Outcomes(outcomes)}");

        if (expected is AcquireResult { Lease: not null })
        {
            Count(stats, "granted");
        }
        if (expected is AcquireResult { Waiter: not null })
        {
            Count(stats, "queued");
        }
        if (command is Tick && expected is > 0)
        {
            Count(stats, "expired");
        }
        if (command is CancelWait && expected is true)
        {
            Count(stats, "cancelled");
        }
        foreach (var o in outcomes)
        {
            Count(stats, o.Error switch
            {
                ErrorCode.None => "granted from queue",
                ErrorCode.Locked => "wait timed out",
                ErrorCode.SessionEnded => "session ended",
                var e => e.ToString(),
            });
        }
    }

    private static void AssertRecovered(EngineState live, LockEngine recovered, LockEngine shadow, int seed, int step)
    {
        var state = recovered.Capture();
        try
        {
            StateAssert.Equal(live, state);
            StateAssert.Equal(shadow.Capture(), state);
        }
        catch (Exception ex) when (ex is Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException($"seed {seed}, after step {step}: the recovered state differs\n{ex.Message}");
        }
        Assert.Empty(recovered.Outcomes);
    }

    private static string Describe(object? result) => result switch
    {
        AcquireResult a => $"acquire {a.Error} lease {a.Lease?.Id}/{a.Lease?.Fence}/{a.Lease?.ExpiresAt} waiter {a.Waiter?.Id}/{a.Waiter?.Deadline} {a.Detail}",
        OperationResult<Lease> o => $"lease {o.Error} {o.Value?.Id} {o.Value?.ExpiresAt} {o.Detail}",
        OperationResult<Session> o => $"session {o.Error} {o.Value?.Id} {o.Value?.ExpiresAt} {o.Detail}",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => $"{result}",
    };

    /// <summary>Outcomes by waiter id (the host routes them by id, so their order is not part of the contract).</summary>
    private static string Outcomes(List<WaiterOutcome> outcomes) => string.Join(" ", outcomes
        .OrderBy(o => o.WaiterId)
        .Select(o => $"{o.WaiterId}:{o.Error}:{o.Lease?.Id}/{o.Lease?.Fence}/{o.Lease?.ExpiresAt}"));

    private static void Count(Dictionary<string, int> stats, string key) => stats[key] = stats.GetValueOrDefault(key) + 1;
}
