using Leasehold.Core.Tests.Pools;

namespace Leasehold.Core.Tests;

/// <summary>
/// The queue index (<see cref="WaiterRun"/>, one per node and kind of claim), the holder lists
/// (<see cref="HolderList"/>) and the queue pass that uses them: a release examines the waiters it may
/// free, not the whole line, and still decides what a walk of the whole queue decides.
/// </summary>
public class QueueIndexTests : EngineTestBase
{
    private static Waiter W(long id, LockMode mode = LockMode.Exclusive)
        => new() { Id = id, Paths = [], Mode = mode, Limit = mode == LockMode.Exclusive ? 1 : 0 };

    private static List<long> LiveIds(WaiterRun run)
    {
        var ids = new List<long>();
        foreach (var entry in run.Entries)
        {
            if (entry.IsLive)
            {
                ids.Add(entry.Waiter.Id);
            }
        }
        return ids;
    }

    /// <summary>Removes a waiter from a run the way the engine does: its epoch moves on, then the run is told.</summary>
    private static void Leave(WaiterRun run, Waiter waiter)
    {
        waiter.IndexEpoch++;
        run.Remove();
    }

    [Fact]
    public void A_run_keeps_its_oldest_live_waiter_first_whatever_leaves()
    {
        var run = new WaiterRun();
        var waiters = Enumerable.Range(1, 100).Select(i => W(i)).ToList();
        waiters.ForEach(run.Add);
        Assert.Equal(1, run.MinId);

        // The middle, the youngest, then the oldest: the first entry is always the oldest live one.
        foreach (var id in new[] { 50, 100, 1, 2, 99, 3 })
        {
            Leave(run, waiters[id - 1]);
        }
        Assert.Equal(4, run.MinId);
        Assert.Equal(94, run.Live);
        Assert.Equal([.. Enumerable.Range(4, 95).Where(i => i != 50).Select(i => (long)i)], LiveIds(run));
        // Stale entries do not pile up: the run compacts once they outnumber the live ones.
        foreach (var waiter in waiters.Skip(4).Where(w => w.Id % 2 == 0 && w.Id is not (50 or 100)))
        {
            Leave(run, waiter);
        }
        Assert.True(run.Entries.Length <= (2 * run.Live) + 8, $"{run.Entries.Length} entries for {run.Live} live waiters");
        Assert.Equal(4, run.MinId);
        Assert.Equal([4, .. Enumerable.Range(5, 94).Where(i => i % 2 == 1).Select(i => (long)i)], LiveIds(run));

        foreach (var waiter in waiters.Where(w => w.IndexEpoch == 0))
        {
            Leave(run, waiter);
        }
        Assert.Equal(0, run.Live);
        Assert.Equal(long.MaxValue, run.MinId);
        Assert.Equal(0, run.Entries.Length);
    }

    [Fact]
    public void A_run_places_an_older_waiter_whose_claims_moved_here_by_id()
    {
        var run = new WaiterRun();
        run.Add(W(5));
        run.Add(W(9));
        // A pool waiter (id 7) refitted onto this path after younger ones queued here.
        run.Add(W(7));
        run.Add(W(2));
        Assert.Equal([2, 5, 7, 9], LiveIds(run));
        Assert.Equal(2, run.MinId);
        Assert.Equal(2, run.FirstAbove(5));
        Assert.Equal(0, run.FirstAbove(0));
        Assert.Equal(4, run.FirstAbove(9));
    }

    [Fact]
    public void A_waiter_counted_twice_in_one_run_leaves_it_cleanly()
    {
        // A waiter on /a/x and /a/y is counted twice in /a's run of claims below it.
        var run = new WaiterRun();
        var twice = W(1);
        var other = W(2);
        run.Add(twice);
        run.Add(twice);
        run.Add(other);
        twice.IndexEpoch++;
        run.Remove();
        run.Remove();
        Assert.Equal(1, run.Live);
        Assert.Equal(2, run.MinId);
        Assert.Equal([2], LiveIds(run));
    }

    [Fact]
    public void Shared_holders_released_in_any_order_stay_listed_in_grant_order()
    {
        var holders = Enumerable.Range(0, 300).Select(_ => Hold("/s", LockMode.Shared)).ToList();
        var random = new Random(17);
        var leaving = holders.OrderBy(_ => random.Next()).Take(250).ToList();
        foreach (var lease in leaving)
        {
            Assert.Equal(ErrorCode.None, Release(lease).Error);
        }
        var staying = holders.Except(leaving).Select(l => l.Id).ToList();
        Assert.Equal(staying, Engine.GetResource(P("/s")).Holders.Select(l => l.Id));
        Assert.Equal(staying, Engine.ListHeld(P("/"), 10).Single().Holders.Select(l => l.Id));
        // An exclusive request still sees them all, and gets the path once the last one leaves.
        var writer = Queued(Acquire("/s", waitMs: 1_000));
        foreach (var lease in holders.Where(h => staying.Contains(h.Id)))
        {
            Assert.Empty(Engine.Outcomes);
            Release(lease);
        }
        GrantedOutcome(writer);
    }

    [Fact]
    public void A_handoff_in_a_long_line_examines_the_head_only()
    {
        var holder = Hold("/line");
        var line = Enumerable.Range(0, 1_000).Select(i => Queued(Acquire("/line", i % 3 == 0 ? LockMode.Shared : LockMode.Exclusive, waitMs: 60_000))).ToList();

        var before = Engine.WaitersExamined;
        Release(holder);
        // The first waiter is shared and the second exclusive: one grant, and the second checked and left.
        var first = GrantedOutcome(line[0]);
        Assert.True(Engine.WaitersExamined - before <= 2, $"{Engine.WaitersExamined - before} waiters examined for one handoff");

        var current = first;
        for (var i = 1; i < 200; i++)
        {
            before = Engine.WaitersExamined;
            Release(current);
            var granted = DrainOutcomes();
            Assert.NotEmpty(granted);
            Assert.Equal(line[i].Id, granted[0].WaiterId);
            // Shared waiters in a row are granted together; each grant checks at most the next in line.
            Assert.True(Engine.WaitersExamined - before <= granted.Count + 1, $"{Engine.WaitersExamined - before} waiters examined for {granted.Count} grants");
            i += granted.Count - 1;
            foreach (var extra in granted.Skip(1))
            {
                Release(extra.Lease!);
                Assert.Empty(Engine.Outcomes);
            }
            current = granted[0].Lease!;
        }
    }

    [Fact]
    public void Releasing_one_of_many_readers_examines_only_the_waiting_writer()
    {
        var readers = Enumerable.Range(0, 1_000).Select(_ => Hold("/r", LockMode.Shared)).ToList();
        var writer = Queued(Acquire("/r", waitMs: 60_000));
        var late = Enumerable.Range(0, 100).Select(_ => Queued(Acquire("/r", LockMode.Shared, waitMs: 60_000))).ToList();

        var before = Engine.WaitersExamined;
        foreach (var reader in readers.Take(999))
        {
            Release(reader);
        }
        Assert.Empty(Engine.Outcomes);
        Assert.True(Engine.WaitersExamined - before <= 999, $"{Engine.WaitersExamined - before} waiters examined for 999 releases");
        Release(readers[^1]);
        var writing = GrantedOutcome(writer);
        Release(writing);
        Assert.Equal(late.Select(w => w.Id), DrainOutcomes().Select(o => o.WaiterId));
    }

    [Fact]
    public void Ending_a_lease_above_many_held_paths_finds_the_few_waiters_below_it()
    {
        // /f is read-locked with its children; a hundred children are read-locked too. A writer on one
        // child waits for /f only. More children than waiters below: the pass finds the writer through the
        // run of claims below /f instead of visiting every child.
        var parent = Hold("/f", LockMode.Shared);
        for (var i = 0; i < 100; i++)
        {
            Hold($"/f/c{i}", LockMode.Shared);
        }
        var writer = Queued(Acquire("/f/x", waitMs: 60_000));
        var blocked = Queued(Acquire("/f/c7", waitMs: 60_000));

        var before = Engine.WaitersExamined;
        Release(parent);
        GrantedOutcome(writer);
        Assert.Equal(2, Engine.WaitersExamined - before);
        Assert.Equal([blocked.Id], QueueIds());
    }

    [Fact]
    public void A_grant_fails_every_waiter_asking_another_limit_even_far_back_in_the_line()
    {
        // A reader holds it, so nothing fixes the limit yet: exclusive waiters may ask different ones.
        var holder = Hold("/sem", LockMode.Shared);
        var first = Queued(Acquire("/sem", limit: 2, waitMs: 60_000));
        // Behind a shared waiter, not the head of the line: the limit is checked before the queue rule.
        Queued(Acquire("/sem", LockMode.Shared, waitMs: 60_000));
        var other = Queued(Acquire("/sem", limit: 3, waitMs: 60_000));
        var same = Queued(Acquire("/sem", limit: 2, waitMs: 60_000));

        Release(holder);
        var outcomes = DrainOutcomes();
        Assert.Equal([(first.Id, ErrorCode.None), (other.Id, ErrorCode.LimitMismatch)], outcomes.Select(o => (o.WaiterId, o.Error)));
        Assert.Contains(same.Id, QueueIds());
    }

    [Fact]
    public void A_restored_engine_rebuilds_the_index_and_hands_off_as_the_live_one()
    {
        var holder = Hold("/a/b");
        Hold("/c", LockMode.Shared);
        for (var i = 0; i < 300; i++)
        {
            var path = (i % 4) switch
            {
                0 => "/a",
                1 => "/a/b",
                2 => "/a/b/c",
                _ => "/c",
            };
            Queued(Acquire(path, i % 5 == 0 ? LockMode.Shared : LockMode.Exclusive, lockParents: i % 7 != 0, waitMs: 60_000));
        }
        var restored = StateCopy.RestoreCopy(Engine);

        var release = new ReleaseLease { Now = Now, LeaseId = holder.Id, Token = holder.Token };
        Engine.Release(release);
        restored.Release(release);
        var live = Engine.Outcomes.Select(o => (o.WaiterId, o.Error, o.Lease?.Fence)).ToList();
        Assert.NotEmpty(live);
        Assert.Equal(live, restored.Outcomes.Select(o => (o.WaiterId, o.Error, o.Lease?.Fence)));
        Assert.Equal(Engine.Queue.Select(w => w.Id), restored.Queue.Select(w => w.Id));
        Assert.True(restored.WaitersExamined < 20, $"the restored engine examined {restored.WaitersExamined} waiters");
    }
}

/// <summary>The pools' cached candidate lists survive declarations in other pools.</summary>
public class CandidateCacheTests : PoolTestBase
{
    [Fact]
    public void A_declaration_in_one_pool_keeps_the_other_pools_lists()
    {
        DeclareAll("/pa", "{\"os\": \"linux\"}", "r1", "r2");
        DeclareAll("/pb", "{\"os\": \"linux\"}", "r1", "r2");
        Release(Granted(Take("/pa", "{\"os\": \"linux\"}")));
        Release(Granted(Take("/pb", "{\"os\": \"linux\"}")));
        var built = Engine.CandidateListsBuilt;

        Declare("/pa/r3", "{\"os\": \"linux\"}");
        Release(Granted(Take("/pb", "{\"os\": \"linux\"}")));
        Assert.Equal(built, Engine.CandidateListsBuilt);

        // Pool A's list was rebuilt and has the new resource.
        var all = Granted(Take("/pa", "{\"os\": \"linux\"}", count: 3));
        Assert.Equal(built + 1, Engine.CandidateListsBuilt);
        Assert.Equal(["/pa/r1", "/pa/r2", "/pa/r3"], ChosenBy(all, 0).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_declaration_under_a_pool_renews_the_lists_of_the_pools_above_it_too()
    {
        DeclareAll("/lab/rack", "{}", "a", "b");
        Release(Granted(Take("/lab", count: 2)));
        Release(Granted(Take("/", count: 2)));
        Release(Granted(Take("/lab/rack", count: 2)));

        RemoveResource("/lab/rack/b");
        Failed(ErrorCode.NoMatch, Take("/lab", count: 2));
        Failed(ErrorCode.NoMatch, Take("/", count: 2));
        Failed(ErrorCode.NoMatch, Take("/lab/rack", count: 2));
        Declare("/lab/rack/c");
        Assert.Equal(["/lab/rack/a", "/lab/rack/c"], ChosenBy(Granted(Take("/", count: 2)), 0).Order(StringComparer.Ordinal));
    }
}
