namespace Leasehold.Core.Tests.Pools;

/// <summary>Capture and Restore keep declared resources, pool leases and waiters with their groups, and the history.</summary>
public class PoolSnapshotTests : PoolTestBase
{
    private const string A = """{"os": "a"}""";
    private const string B = """{"os": "b"}""";

    /// <summary>
    /// A state with release order, a two-group lease, a pool waiter, a path lease, a session and history:
    /// r1..r4 os=a, s1..s2 os=b.
    /// </summary>
    private (Lease TwoGroups, Waiter Waiter) Build()
    {
        DeclareAll("/pool", A, "r1", "r2", "r3", "r4");
        DeclareAll("/sims", B, "s1", "s2");
        Assert.Equal("/pool/r1", TakeAndRelease("/pool", A));
        Now += 5;
        Assert.Equal("/pool/r2", TakeAndRelease("/pool", A));
        Now += 5;
        var expiring = Granted(Take("/pool", A, ttlMs: 10));                       // r3
        Now += 10;
        Engine.Advance(Now);
        Assert.Null(Engine.GetLease(expiring.Id));
        var twoGroups = Granted(AcquirePool([G("/pool", A, 2), G("/sims", B)], ttlMs: 60_000, owner: "o")); // r4, r1 + s1
        Assert.Equal(["/pool/r4", "/pool/r1", "/sims/s1"], PathsOf(twoGroups));
        Hold("/sims/s2");
        var waiter = Queued(AcquirePool([G("/sims", B)], waitMs: 30_000, owner: "w"));
        Assert.Equal(["/sims/s1", "/sims/s2"], Candidates(waiter));
        return (twoGroups, waiter);
    }

    [Fact]
    public void Restore_keeps_resources_leases_with_groups_waiters_and_history()
    {
        var (twoGroups, waiter) = Build();
        var state = Engine.Capture();

        var restored = LockEngine.Restore(StateCopy.Copy(state));

        Assert.Equal(Engine.DeclaredCount, restored.DeclaredCount);
        Assert.Equal(
            Engine.ListDeclared(ResourcePath.Root).Select(r => (r.Path.Value, r.AttributesJson, r.ReleasedSeq)),
            restored.ListDeclared(ResourcePath.Root).Select(r => (r.Path.Value, r.AttributesJson, r.ReleasedSeq)));
        Assert.Equal(state.LastReleaseSeq, restored.Capture().LastReleaseSeq);
        Assert.True(state.LastReleaseSeq >= 3);

        var lease = restored.GetLease(twoGroups.Id)!;
        Assert.Equal(2, lease.Groups!.Length);
        Assert.Equal(["/pool/r4", "/pool/r1"], ChosenBy(lease, 0));
        Assert.Equal(["/sims/s1"], ChosenBy(lease, 1));
        Assert.Equal("""{"os":"a"}""", lease.Groups[0].Requirement.Text);
        Assert.Equal(2, lease.Groups[0].Group.Count);

        var restoredWaiter = Assert.Single(restored.Queue);
        Assert.Equal(waiter.Id, restoredWaiter.Id);
        Assert.Equal(["/sims/s1", "/sims/s2"], Candidates(restoredWaiter));
        Assert.Equal("/sims", restoredWaiter.Groups![0].Group.Pool.Value);

        Assert.Equal(
            Engine.History.Select(h => (h.LeaseId, h.Reason, h.EndedAt, string.Join(",", h.Paths.Select(p => p.Value)))),
            restored.History.Select(h => (h.LeaseId, h.Reason, h.EndedAt, string.Join(",", h.Paths.Select(p => p.Value)))));
        Assert.Equal(3, restored.History.Count());
        Assert.Equal(
            Engine.Utilization(ResourcePath.Root, 0, Now + 100).Select(u => (u.Resource.Path.Value, u.HeldMs)),
            restored.Utilization(ResourcePath.Root, 0, Now + 100).Select(u => (u.Resource.Path.Value, u.HeldMs)));
    }

    [Fact]
    public void A_restored_engine_makes_the_same_choices_as_the_live_one()
    {
        var (twoGroups, waiter) = Build();
        var restored = StateCopy.RestoreCopy(Engine);
        var engines = new[] { Engine, restored };

        var script = new List<Func<LockEngine, object?>>
        {
            e => e.Acquire(new AcquireLease { Now = Now, Paths = [], Groups = [G("/pool", A)], Token = 1 }),
            e => e.Acquire(new AcquireLease { Now = Now, Paths = [], Groups = [G("/pool", "{}")], WaitMs = 1000, Token = 2 }),
            e => e.Release(new ReleaseLease { Now = Now + 1, LeaseId = twoGroups.Id, Token = twoGroups.Token }),
            e => e.Acquire(new AcquireLease { Now = Now + 2, Paths = [], Groups = [G("/pool", A, 2)], Token = 3 }),
            e => e.Declare(new DeclareResource { Now = Now + 3, Path = P("/pool/r5"), Attributes = A }),
            e => e.Advance(Now + 1_000_000),
        };
        foreach (var step in script)
        {
            var results = engines.Select(step).Select(Describe).ToArray();
            var outcomes = engines.Select(e => string.Join(";", e.Outcomes.Select(o => $"{o.WaiterId}:{o.Error}:{Describe(o.Lease)}"))).ToArray();
            foreach (var e in engines)
            {
                e.DiscardOutcomes();
            }
            Assert.Equal(results[0], results[1]);
            Assert.Equal(outcomes[0], outcomes[1]);
        }
        Assert.Equal(
            Engine.Leases.OrderBy(l => l.Id).Select(Describe),
            restored.Leases.OrderBy(l => l.Id).Select(Describe));
        Assert.Equal(
            Engine.ListDeclared(ResourcePath.Root).Select(r => (r.Path.Value, r.ReleasedSeq)),
            restored.ListDeclared(ResourcePath.Root).Select(r => (r.Path.Value, r.ReleasedSeq)));
        Assert.Equal(Engine.History.Count(), restored.History.Count());
        Assert.Null(Engine.GetWaiter(waiter.Id));
    }

    [Fact]
    public void A_restored_pool_waiter_is_granted_by_push()
    {
        var (twoGroups, waiter) = Build();
        var restored = StateCopy.RestoreCopy(Engine);

        restored.Release(new ReleaseLease { Now = Now, LeaseId = twoGroups.Id, Token = twoGroups.Token });

        var outcome = Assert.Single(restored.Outcomes);
        Assert.Equal(waiter.Id, outcome.WaiterId);
        Assert.Equal("/sims/s1", Only(outcome.Lease!));
    }

    [Fact]
    public void Recover_drops_pool_waiters_and_their_claims()
    {
        var (_, waiter) = Build();
        var restored = StateCopy.RestoreCopy(Engine);

        restored.Recover(new Recover { Now = Now });

        Assert.Equal(0, restored.QueueLength);
        Assert.Empty(restored.GetResource(P("/sims/s1")).Queue);
        Assert.Null(restored.GetWaiter(waiter.Id));
        Assert.Equal(6, restored.DeclaredCount);
    }

    [Fact]
    public void Closing_a_session_marks_its_resources_released_in_the_same_order_live_and_restored()
    {
        DeclareAll("/pool", "{}", "r1", "r2", "r3", "r4");
        var session = OpenSession();
        AcquireResult InSession() => AcquirePool([G("/pool")], sessionId: session.Id);
        var first = Granted(InSession());                    // r1
        Granted(InSession());                                // r2
        Release(first);
        Assert.Equal("/pool/r3", Only(Granted(InSession()))); // r3, bound to the session after r2
        var restored = StateCopy.RestoreCopy(Engine);

        var close = new CloseSession { Now = Now, SessionId = session.Id, Token = session.Token };
        Engine.Close(close);
        restored.Close(close);

        Assert.Equal(
            Engine.ListDeclared(ResourcePath.Root).Select(r => (r.Path.Value, r.ReleasedSeq)),
            restored.ListDeclared(ResourcePath.Root).Select(r => (r.Path.Value, r.ReleasedSeq)));
        Assert.Equal(Engine.History.Select(h => h.LeaseId), restored.History.Select(h => h.LeaseId));
    }

    [Fact]
    public void Apply_dispatches_declare_and_remove()
    {
        var declared = Engine.Apply(new DeclareResource { Now = Now, Path = P("/pool/a"), Attributes = "{}" });
        Assert.IsType<OperationResult<Core.Pools.DeclaredResource>>(declared);
        Assert.NotNull(Engine.GetDeclared(P("/pool/a")));

        Engine.Apply(new RemoveResource { Now = Now, Path = P("/pool/a") });
        Assert.Null(Engine.GetDeclared(P("/pool/a")));
    }

    private static string Describe(object? result) => result switch
    {
        null => "null",
        AcquireResult r => $"{r.Error} lease:{Describe(r.Lease)} waiter:{r.Waiter?.Id}",
        OperationResult<Lease> r => $"{r.Error} {Describe(r.Value)}",
        OperationResult<Core.Pools.DeclaredResource> r => $"{r.Error} {r.Value?.Path}",
        Lease l => $"#{l.Id} f{l.Fence} [{string.Join(",", l.Paths.Select(p => p.Value))}] exp{l.ExpiresAt}",
        _ => result.ToString() ?? "",
    };
}
