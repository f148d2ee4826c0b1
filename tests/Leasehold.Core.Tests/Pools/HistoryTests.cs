using Leasehold.Core.Pools;

namespace Leasehold.Core.Tests.Pools;

/// <summary>Every ended lease is recorded with why it ended; queries come newest first; utilization sums held time.</summary>
public class HistoryTests : PoolTestBase
{
    private const long T0 = 1_700_000_000_000;

    [Fact]
    public void Released_expired_and_session_ended_leases_are_recorded_with_their_reason()
    {
        DeclareAll("/pool", """{"os": "a"}""", "a", "b", "c");
        var released = Granted(Take("/pool", """{ "os": "a" }""", owner: "r"));
        var expired = Granted(Take("/pool", ttlMs: 50, owner: "e"));
        var session = OpenSession();
        var inSession = Granted(AcquirePool([G("/pool")], sessionId: session.Id, owner: "s"));

        Now += 10;
        Release(released);
        Now += 40;
        Engine.Advance(Now);
        Now += 5;
        CloseSession(session);

        var history = Engine.History.ToList();
        Assert.Equal([released.Id, expired.Id, inSession.Id], history.Select(h => h.LeaseId));
        Assert.Equal([EndReason.Released, EndReason.Expired, EndReason.SessionEnded], history.Select(h => h.Reason));
        Assert.Equal([T0 + 10, T0 + 50, T0 + 55], history.Select(h => h.EndedAt));
        Assert.Equal(released.Fence, history[0].Fence);
        Assert.Equal("r", history[0].Owner);
        Assert.Equal(["""{"os":"a"}"""], history[0].Requirements!);
        Assert.Equal(T0, history[0].AcquiredAt);
        Assert.Equal(0, history[0].QueuedMs);
        Assert.Equal(["/pool/a"], history[0].Paths.Select(p => p.Value));
        Assert.Equal(["/pool/b"], history[1].Paths.Select(p => p.Value));
        Assert.Equal(["{}"], history[1].Requirements!);
        Assert.Equal(expired.Fence, history[1].Fence);
        Assert.Equal("s", history[2].Owner);
    }

    [Fact]
    public void Path_leases_are_recorded_without_requirements_and_queue_time_is_kept()
    {
        var first = Hold("/x");
        var waiter = Queued(Acquire("/x", waitMs: 1000, owner: "w"));
        Now += 30;
        Release(first);
        var second = GrantedOutcome(waiter);
        Now += 20;
        Release(second);

        var entry = Engine.History.Last();
        Assert.Equal(second.Id, entry.LeaseId);
        Assert.Null(entry.Requirements);
        Assert.Equal(30, entry.QueuedMs);
        Assert.Equal(T0 + 30, entry.AcquiredAt);
        Assert.Equal(T0 + 50, entry.EndedAt);
        Assert.Equal("w", entry.Owner);
    }

    [Fact]
    public void Failed_releases_and_refused_requests_leave_no_history()
    {
        var lease = Hold("/x");
        Release(lease.Id, lease.Token + 1);
        Failed(ErrorCode.Locked, Acquire("/x"));
        Failed(ErrorCode.NoMatch, Take("/pool"));
        var waiter = Queued(Acquire("/x", waitMs: 10));
        Now += 10;
        Engine.Advance(Now);
        Assert.Equal(waiter.Id, Assert.Single(DrainOutcomes()).WaiterId);

        Assert.Empty(Engine.History);
        Release(lease);
        Assert.Equal(ErrorCode.NotFound, Release(lease).Error);
        Assert.Single(Engine.History);
    }

    [Fact]
    public void QueryHistory_filters_by_prefix_owner_and_end_time_newest_first()
    {
        DeclareAll("/lab/phones", "{}", "p1", "p2");
        Declare("/lab/sims/s1");
        var ids = new List<long>();
        void Use(Func<AcquireResult> acquire)
        {
            var lease = Granted(acquire());
            Now += 10;
            Release(lease);
            ids.Add(lease.Id);
        }
        Use(() => Take("/lab/phones", owner: "alice"));                                   // ends T0+10
        Use(() => Take("/lab/sims", owner: "bob"));                                       // ends T0+20
        Use(() => AcquirePool([G("/lab/phones"), G("/lab/sims")], owner: "alice"));       // ends T0+30
        Use(() => Acquire("/lab", owner: "bob"));                                         // ends T0+40
        Use(() => Acquire("/elsewhere", owner: "alice"));                                 // ends T0+50

        long[] Query(string prefix, string? owner = null, long since = 0, long until = long.MaxValue, int max = 100)
            => [.. Engine.QueryHistory(P(prefix), owner, since, until, max).Select(h => h.LeaseId)];

        Assert.Equal([ids[4], ids[3], ids[2], ids[1], ids[0]], Query("/"));
        Assert.Equal([ids[3], ids[2], ids[1], ids[0]], Query("/lab"));
        Assert.Equal([ids[2], ids[0]], Query("/lab/phones"));
        Assert.Equal([ids[2], ids[1]], Query("/lab/sims"));
        Assert.Equal([ids[2]], Query("/lab/sims/s1", owner: "alice"));
        Assert.Equal([ids[4], ids[2], ids[0]], Query("/", owner: "alice"));
        Assert.Empty(Query("/", owner: "ALICE"));
        Assert.Equal([ids[3], ids[2], ids[1]], Query("/", since: T0 + 20, until: T0 + 40));
        Assert.Equal([ids[4], ids[3]], Query("/", max: 2));
        Assert.Empty(Query("/", max: 0));
        Assert.Empty(Query("/lab/phones/p1/below"));
    }

    [Fact]
    public void History_is_bounded_and_forgets_the_oldest_first()
    {
        var engine = new LockEngine(new EngineLimits { HistorySize = 3 });
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            var lease = engine.Acquire(new AcquireLease { Now = T0 + i, Paths = Ps("/x") }).Lease!;
            engine.Release(new ReleaseLease { Now = T0 + i, LeaseId = lease.Id, Token = lease.Token });
            ids.Add(lease.Id);
        }

        Assert.Equal(ids[2..], engine.History.Select(h => h.LeaseId));
        Assert.Equal([ids[4], ids[3], ids[2]], engine.QueryHistory(ResourcePath.Root, null, 0, long.MaxValue, 10).Select(h => h.LeaseId));
    }

    [Fact]
    public void History_is_bounded_in_bytes_too_and_a_capture_keeps_the_same_entries()
    {
        // Leases of long paths: 64 paths of 32 segments of 255 characters would make each entry about 2 MB, and 10,000
        // of them 20 GB. The byte budget forgets the oldest, counted from the entries alone.
        var segments = string.Join('/', Enumerable.Range(0, 30).Select(i => new string((char)('a' + (i % 26)), 255)));
        var one = new LockEngine().Acquire(new AcquireLease { Now = T0, Paths = Ps($"/w/0/{segments}") }).Lease!;
        var weight = new HistoryEntry(one.Id, one.Fence, null, one.Paths, null, T0, 0, T0, EndReason.Released).Weight;
        Assert.True(weight > 30 * 255 * 2, $"an entry of a path of 7.6 KB of text weighs {weight} bytes");
        var engine = new LockEngine(new EngineLimits { HistoryBytes = (3 * weight) + (weight / 2) });
        var ids = new List<long>();
        for (var i = 0; i < 6; i++)
        {
            var lease = engine.Acquire(new AcquireLease { Now = T0 + i, Paths = Ps($"/w/{i}/{segments}") }).Lease!;
            engine.Release(new ReleaseLease { Now = T0 + i, LeaseId = lease.Id, Token = lease.Token });
            ids.Add(lease.Id);
        }

        Assert.Equal(ids[3..], engine.History.Select(h => h.LeaseId));
        // A small entry still fits beside them (half an entry is left): only what does not fit goes.
        var small = engine.Acquire(new AcquireLease { Now = T0 + 9, Paths = Ps("/s") }).Lease!;
        engine.Release(new ReleaseLease { Now = T0 + 9, LeaseId = small.Id, Token = small.Token });
        Assert.Equal([ids[3], ids[4], ids[5], small.Id], engine.History.Select(h => h.LeaseId));
        // The next long one makes room by forgetting the oldest long one (and keeps the small one, newer).
        var another = engine.Acquire(new AcquireLease { Now = T0 + 10, Paths = Ps($"/w/9/{segments}") }).Lease!;
        engine.Release(new ReleaseLease { Now = T0 + 10, LeaseId = another.Id, Token = another.Token });
        Assert.Equal([ids[4], ids[5], small.Id, another.Id], engine.History.Select(h => h.LeaseId));
        // Restored from its state under the same limits, the same entries stay (replicas and restarts agree).
        var restored = LockEngine.Restore(engine.Capture(), engine.Limits);
        Assert.Equal(engine.History.Select(h => h.LeaseId), restored.History.Select(h => h.LeaseId));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void History_under_both_bounds_keeps_what_a_plain_list_keeps(int seed)
    {
        // Entries of random weights under a random count and byte budget: the ring (growing, wrapping, forgetting by
        // the weights it keeps beside its slots) holds exactly the newest entries a plain list would keep.
        var random = new Random(seed);
        var limits = new EngineLimits { HistorySize = random.Next(1, 40), HistoryBytes = random.Next(2_000, 30_000) };
        KeepsWhatAPlainListKeeps(limits, Enumerable.Range(0, 400).Select(i => "/h/" + string.Join('/', Enumerable.Repeat("x", random.Next(1, 30))) + "/" + i));
    }

    [Fact]
    public void History_that_grows_after_wrapping_keeps_each_slot_with_its_weight()
    {
        // Heavy entries first: the byte budget keeps few of them, so the ring wraps (its oldest slot moves) before it is
        // ever full. Then light ones, many of which fit: the ring grows while wrapped, up to its count.
        var heavy = Enumerable.Range(0, 30).Select(i => "/h/" + string.Join('/', Enumerable.Repeat("x", 29)) + "/" + i);
        var light = Enumerable.Range(0, 60).Select(i => "/l/" + i);
        KeepsWhatAPlainListKeeps(new EngineLimits { HistorySize = 40, HistoryBytes = 12_000 }, heavy.Concat(light));
    }

    private static void KeepsWhatAPlainListKeeps(EngineLimits limits, IEnumerable<string> paths)
    {
        var engine = new LockEngine(limits);
        var model = new List<(long Id, long Weight)>();
        var i = 0;
        foreach (var path in paths)
        {
            var lease = engine.Acquire(new AcquireLease { Now = T0 + i, Paths = Ps(path) }).Lease!;
            engine.Release(new ReleaseLease { Now = T0 + i++, LeaseId = lease.Id, Token = lease.Token });
            var weight = new HistoryEntry(lease.Id, lease.Fence, null, lease.Paths, null, T0, 0, T0, EndReason.Released).Weight;
            while (model.Count > 0 && (model.Sum(e => e.Weight) + weight > limits.HistoryBytes || model.Count >= limits.HistorySize))
            {
                model.RemoveAt(0);
            }
            model.Add((lease.Id, weight));

            Assert.Equal(model.Select(e => e.Id), engine.History.Select(h => h.LeaseId));
        }
    }

    [Fact]
    public void A_history_size_of_zero_keeps_nothing()
    {
        var engine = new LockEngine(new EngineLimits { HistorySize = 0 });
        var lease = engine.Acquire(new AcquireLease { Now = T0, Paths = Ps("/x") }).Lease!;
        engine.Release(new ReleaseLease { Now = T0, LeaseId = lease.Id, Token = lease.Token });

        Assert.Empty(engine.History);
    }

    [Theory]
    [InlineData(0, 1L << 20)]
    [InlineData(10, 0)]
    public void A_state_with_history_restored_under_limits_that_keep_none_has_none(int size, long bytes)
    {
        // A server restarted with the history turned off, on a snapshot that has one: it starts, and keeps nothing.
        var before = new LockEngine();
        var lease = before.Acquire(new AcquireLease { Now = T0, Paths = Ps("/x") }).Lease!;
        before.Release(new ReleaseLease { Now = T0, LeaseId = lease.Id, Token = lease.Token });
        Assert.Single(before.History);

        var restored = LockEngine.Restore(StateCopy.Copy(before.Capture()), new EngineLimits { HistorySize = size, HistoryBytes = bytes });

        Assert.Empty(restored.History);
    }

    [Fact]
    public void Utilization_sums_held_milliseconds_per_declared_resource_within_the_window()
    {
        DeclareAll("/pool", "{}", "a", "b", "c");
        Declare("/other/z");
        var a1 = Hold("/pool/a");                          // [T0, T0+100)
        Now = T0 + 50;
        var b = Granted(Take("/pool"));                    // b, [T0+50, T0+250)
        Now = T0 + 100;
        Release(a1);
        Now = T0 + 200;
        var a2 = Hold("/pool/a");                          // [T0+200, ...) still held
        Now = T0 + 250;
        Release(b);
        Hold("/pool/undeclared");                          // not a declared resource: not reported
        Now = T0 + 300;

        Dictionary<string, long> Use(string prefix, long from, long to)
            => Engine.Utilization(P(prefix), from, to).ToDictionary(u => u.Resource.Path.Value, u => u.HeldMs);

        Assert.Equal(new Dictionary<string, long> { ["/pool/a"] = 200, ["/pool/b"] = 200, ["/pool/c"] = 0 }, Use("/pool", T0, T0 + 300));
        Assert.Equal(new Dictionary<string, long> { ["/pool/a"] = 25, ["/pool/b"] = 50, ["/pool/c"] = 0 }, Use("/pool", T0 + 75, T0 + 125));
        Assert.Equal(new Dictionary<string, long> { ["/pool/a"] = 100, ["/pool/b"] = 50, ["/pool/c"] = 0 }, Use("/pool", T0 + 200, T0 + 300));
        Assert.Equal(new Dictionary<string, long> { ["/pool/a"] = 0, ["/pool/b"] = 0, ["/pool/c"] = 0 }, Use("/pool", T0 - 100, T0));
        Assert.Equal(new Dictionary<string, long> { ["/other/z"] = 0 }, Use("/other", T0, T0 + 300));
        Assert.Equal(4, Engine.Utilization(ResourcePath.Root, T0, T0 + 300).Count);
        Assert.Same(a2, Engine.GetLease(a2.Id));
    }

    [Fact]
    public void Utilization_counts_every_resource_of_a_multi_resource_lease()
    {
        DeclareAll("/pool", "{}", "a", "b");
        var lease = Granted(Take("/pool", count: 2));
        Now += 40;
        Release(lease);

        var use = Engine.Utilization(P("/pool"), T0, T0 + 1000);

        Assert.All(use, u => Assert.Equal(40, u.HeldMs));
    }
}
