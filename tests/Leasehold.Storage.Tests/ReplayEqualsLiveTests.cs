using System.Globalization;
using Leasehold.Core;
using Leasehold.Core.Pools;
using Xunit.Abstractions;

namespace Leasehold.Storage.Tests;

/// <summary>
/// Drives a store with seeded random commands through the writer/flusher helper, in batches of random size,
/// taking snapshots and restarting at random points, beside an in-memory engine that is never persisted.
/// Every command must give the same result on both, every restart must recover the live state exactly
/// (declared resources, pool groups and their chosen resources, and the history included), and at the end
/// a fresh <see cref="DataStore.Open"/> must recover it too. A failure names the seed and step.
/// </summary>
public class ReplayEqualsLiveTests(ITestOutputHelper output) : IDisposable
{
    private const int Steps = 3000;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <param name="seed">Seeds the commands and the driver's choices; printed, and named in every failure.</param>
    /// <param name="snapshotOneIn">A snapshot after a step with this odds (0: never, so recovery replays the whole log).</param>
    /// <param name="historySize">How many finished leases the engines keep (small: the oldest are dropped all along).</param>
    [Theory]
    [InlineData(1, 250, 10_000)]
    [InlineData(20_240_607, 250, 10_000)]
    [InlineData(987_654_321, 0, 10_000)]
    [InlineData(424_242, 120, 25)]
    public void RecoveredEngineEqualsTheLiveOne(int seed, int snapshotOneIn, int historySize)
    {
        output.WriteLine($"seed {seed}, snapshot one step in {snapshotOneIn}, history {historySize}");
        var limits = new EngineLimits { HistorySize = historySize };
        var work = new RandomWorkload(seed);
        var choices = new Random(seed ^ 0x5BD1E995);
        var shadow = new LockEngine(limits);
        var stats = new Dictionary<string, int>();
        long lastSnapshot = 0;
        var driver = new StoreDriver(_dir.Dir, segmentBytes: 4096, limits) { AutoFlush = false };
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
                    CountSnapshotContents(driver.Engine.Capture(), stats);
                }
                if (choices.Next(400) == 0)
                {
                    var live = driver.Engine.Capture();
                    driver.Flush();
                    var next = driver.Store.NextIndex;
                    var store = driver.Reopen();
                    Assert.Equal(new RecoveryReport(lastSnapshot, next - 1 - lastSnapshot, 0, store.Report.Elapsed, next), store.Report with { LatestTime = 0 });
                    Assert.InRange(store.Report.LatestTime, Cmd.T0, long.MaxValue);
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

            using var recovered = DataStore.Open(_dir.Dir, limits);
            AssertRecovered(final, recovered.Engine, shadow, seed, Steps);
            stats["resources at the end"] = final.Resources!.Count;
            stats["history at the end"] = final.History!.Count;
            output.WriteLine($"records {recovered.NextIndex - 1}, replayed at the end {recovered.Report.RecordsReplayed}, segments {_dir.Segments().Count}");
        }
        finally
        {
            driver?.Dispose();
        }

        output.WriteLine(string.Join(", ", stats.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} {s.Value}")));
        // The workload must reach the interesting places, or the comparison proves little.
        foreach (var must in new[]
        {
            "granted", "queued", "granted from queue", "wait timed out", "session ended", "cancelled", "restarts", "expired",
            "declared", "re-declared", "removed", "remove refused: busy", "pool granted", "pool granted, 2 groups", "pool queued",
            "pool granted from queue", "pool reused", "pool no match", "history at the end",
            "revoked", "session ended by an administrator", "drained", "undrained", "refused: draining",
        })
        {
            Assert.True(stats.GetValueOrDefault(must) > 0, $"seed {seed}: the workload never reached '{must}'");
        }
        Assert.True(snapshotOneIn == 0 || stats.GetValueOrDefault("snapshots") > 0, $"seed {seed}: no snapshot was taken");
        foreach (var must in new[] { "snapshot with resources", "snapshot with a pool lease", "snapshot with a pool waiter", "snapshot with history", "snapshot with drains" })
        {
            Assert.True(snapshotOneIn == 0 || stats.GetValueOrDefault(must) > 0, $"seed {seed}: no snapshot had {must[14..]}");
        }
    }

    private static void Step(StoreDriver driver, LockEngine shadow, Command command, int seed, int step, Dictionary<string, int> stats)
    {
        var redeclare = command is DeclareResource declare && shadow.GetDeclared(declare.Path) is not null;
        var expected = StoreDriver.ApplyTo(shadow, command);
        var expectedOutcomes = Outcomes(shadow.Outcomes);
        shadow.DiscardOutcomes();
        var actual = driver.Apply(command, out var outcomes);

        var where = $"seed {seed}, step {step}, {command}";
        Assert.True(Describe(expected) == Describe(actual), $"{where}: live {Describe(expected)}, store {Describe(actual)}");
        Assert.True(expectedOutcomes == Outcomes(outcomes), $"{where}: live outcomes {expectedOutcomes}, store {Outcomes(outcomes)}");

        if (expected is AcquireResult { Lease: not null })
        {
            Count(stats, "granted");
        }
        if (command is AcquireLease { Groups: { } groups } pool && expected is AcquireResult result)
        {
            Count(stats, result switch
            {
                { Lease: { } lease } when lease.AcquiredAt != pool.Now || lease.Token != pool.Token => "pool reused",
                { Lease: not null } when groups.Length > 1 => "pool granted, 2 groups",
                { Lease: not null } => "pool granted",
                { Waiter: not null } => "pool queued",
                { Error: ErrorCode.NoMatch } => "pool no match",
                var r => "pool " + r.Error,
            });
        }
        if (command is DeclareResource or RemoveResource && expected is OperationResult<DeclaredResource> resource)
        {
            Count(stats, (command, resource.Error) switch
            {
                (DeclareResource, ErrorCode.None) when redeclare => "re-declared",
                (DeclareResource, ErrorCode.None) => "declared",
                (RemoveResource, ErrorCode.None) => "removed",
                (RemoveResource, ErrorCode.ResourceBusy) => "remove refused: busy",
                var (_, e) => (command is DeclareResource ? "declare " : "remove ") + e,
            });
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
        switch (command, expected)
        {
            case (RevokeLease, OperationResult<Lease> { Error: ErrorCode.None }):
                Count(stats, "revoked");
                break;
            case (EndSession, OperationResult<Session> { Error: ErrorCode.None }):
                Count(stats, "session ended by an administrator");
                break;
            case (DrainPrefix, DrainResult { Started: true }):
                Count(stats, "drained");
                break;
            case (UndrainPrefix, OperationResult<Drain> { Error: ErrorCode.None }):
                Count(stats, "undrained");
                break;
            case (AcquireLease, AcquireResult { Error: ErrorCode.Draining }):
                Count(stats, "refused: draining");
                break;
        }
        foreach (var o in outcomes)
        {
            if (o.Lease?.Groups is not null)
            {
                Count(stats, "pool granted from queue");
            }
            Count(stats, o.Error switch
            {
                ErrorCode.None => "granted from queue",
                ErrorCode.Locked => "wait timed out",
                ErrorCode.SessionEnded => "session ended",
                var e => e.ToString(),
            });
        }
    }

    private static void CountSnapshotContents(EngineState state, Dictionary<string, int> stats)
    {
        if (state.Resources is { Count: > 0 })
        {
            Count(stats, "snapshot with resources");
        }
        if (state.Leases.Any(l => l.Groups is not null))
        {
            Count(stats, "snapshot with a pool lease");
        }
        if (state.Waiters.Any(w => w.Groups is not null))
        {
            Count(stats, "snapshot with a pool waiter");
        }
        if (state.History is { Count: > 0 })
        {
            Count(stats, "snapshot with history");
        }
        if (state.Drains is { Count: > 0 })
        {
            Count(stats, "snapshot with drains");
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
        AcquireResult a => $"acquire {a.Error} lease {a.Lease?.Id}/{a.Lease?.Fence}/{a.Lease?.ExpiresAt}/{Paths(a.Lease?.Paths)} "
            + $"waiter {a.Waiter?.Id}/{a.Waiter?.Deadline}/{(a.Waiter is { } w ? Paths((ResourcePath[]?)StateAssert.CandidateSet(w, w.Paths)) : "")} {a.Detail}",
        OperationResult<DeclaredResource> o => $"resource {o.Error} {o.Value?.Path} {o.Value?.AttributesJson} {o.Value?.ReleasedSeq} {o.Detail}",
        OperationResult<Lease> o => $"lease {o.Error} {o.Value?.Id} {o.Value?.ExpiresAt} {o.Detail}",
        OperationResult<Session> o => $"session {o.Error} {o.Value?.Id} {o.Value?.ExpiresAt} {o.Detail}",
        OperationResult<Drain> o => $"undrain {o.Error} {o.Value} {o.Detail}",
        DrainResult d => $"drain {d.Error} {d.Drain} {d.Started} {d.Detail}",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => $"{result}",
    };

    /// <summary>Outcomes by waiter id (the host routes them by id, so their order is not part of the contract).</summary>
    private static string Outcomes(IReadOnlyList<WaiterOutcome> outcomes) => string.Join(" ", outcomes
        .OrderBy(o => o.WaiterId)
        .Select(o => $"{o.WaiterId}:{o.Error}:{o.Lease?.Id}/{o.Lease?.Fence}/{o.Lease?.ExpiresAt}/{Paths(o.Lease?.Paths)}"));

    private static string Paths(ResourcePath[]? paths) => paths is null ? "" : string.Join(",", paths.Select(p => p.Value));

    private static void Count(Dictionary<string, int> stats, string key) => stats[key] = stats.GetValueOrDefault(key) + 1;
}
