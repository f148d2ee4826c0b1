namespace Leasehold.Core.Tests.Pools;

/// <summary>Declaring and removing resources, and what that does to holders and pool waiters.</summary>
public class ResourceDeclarationTests : PoolTestBase
{
    [Fact]
    public void Declare_creates_then_replaces_attributes_keeping_the_release_order()
    {
        var first = Declare("/pool/a", """{"os": "a"}""");
        Assert.Equal("/pool/a", first.Path.Value);
        Assert.Equal("""{"os": "a"}""", first.AttributesJson);
        Assert.Equal(0, first.ReleasedSeq);
        Assert.Equal(1, Engine.DeclaredCount);
        Release(Hold("/pool/a"));
        var seq = Engine.GetDeclared(P("/pool/a"))!.ReleasedSeq;
        Assert.True(seq > 0);

        var changes = Engine.Changes;
        var second = Declare("/pool/a", """{"os": "b"}""");

        Assert.True(Engine.Changes > changes);
        Assert.Same(first, second);
        Assert.Equal("""{"os": "b"}""", second.AttributesJson);
        Assert.Equal(seq, second.ReleasedSeq);
        Assert.Equal(1, Engine.DeclaredCount);
        Assert.Equal(ErrorCode.NoMatch, Take("/pool", """{"os": "a"}""").Error);
        Assert.Equal("/pool/a", Only(Granted(Take("/pool", """{"os": "b"}"""))));
    }

    [Theory]
    [InlineData("[1]")]
    [InlineData("\"text\"")]
    [InlineData("3")]
    [InlineData("{")]
    [InlineData("")]
    public void Attributes_must_be_a_JSON_object(string attributes)
    {
        var changes = Engine.Changes;

        var result = Engine.Declare(new DeclareResource { Now = Now, Path = P("/pool/a"), Attributes = attributes });

        Assert.Equal(ErrorCode.InvalidArgument, result.Error);
        Assert.Null(Engine.GetDeclared(P("/pool/a")));
        Assert.Equal(changes, Engine.Changes);
        Assert.Equal(0, Engine.DeclaredCount);
    }

    [Fact]
    public void Declaring_a_held_path_does_not_disturb_its_holder()
    {
        var lease = Hold("/pool/a");

        Declare("/pool/a", """{"os": "a"}""");

        Assert.Same(lease, Engine.GetLease(lease.Id));
        Failed(ErrorCode.Locked, Take("/pool", """{"os": "a"}"""));
        Release(lease);
        Assert.Equal("/pool/a", Only(Granted(Take("/pool", """{"os": "a"}"""))));
    }

    [Fact]
    public void Changing_the_attributes_of_a_held_resource_keeps_the_lease()
    {
        Declare("/pool/a", """{"os": "a"}""");
        var lease = Granted(Take("/pool", """{"os": "a"}"""));

        Declare("/pool/a", """{"os": "b"}""");

        Assert.Same(lease, Engine.GetLease(lease.Id));
        Assert.Equal(["/pool/a"], ChosenBy(lease, 0));
    }

    [Fact]
    public void ListDeclared_and_GetDeclared()
    {
        Declare("/pool/b");
        Declare("/pool/a/x");
        Declare("/pool/a");
        Declare("/other/z");

        Assert.Equal(["/pool/a", "/pool/a/x", "/pool/b"], Engine.ListDeclared(P("/pool")).Select(r => r.Path.Value));
        Assert.Equal(4, Engine.ListDeclared(ResourcePath.Root).Count);
        Assert.Empty(Engine.ListDeclared(P("/nothing")));
        Assert.NotNull(Engine.GetDeclared(P("/pool/a/x")));
        Assert.Null(Engine.GetDeclared(P("/pool")));
        Assert.Equal(4, Engine.DeclaredCount);
    }

    [Fact]
    public void Removing_an_undeclared_resource_is_NotFound()
    {
        Hold("/pool/a"); // held, but not declared
        var changes = Engine.Changes;

        Assert.Equal(ErrorCode.NotFound, RemoveResource("/pool/a").Error);
        Assert.Equal(ErrorCode.NotFound, RemoveResource("/pool").Error);
        Assert.Equal(ErrorCode.NotFound, RemoveResource("/nowhere/x").Error);
        Assert.Equal(changes, Engine.Changes);
    }

    [Fact]
    public void Removing_a_held_resource_is_ResourceBusy_and_changes_nothing()
    {
        DeclareAll("/pool", """{"os": "a"}""", "a", "b");
        var lease = Granted(Take("/pool"));
        var pathLease = Hold("/pool/b", LockMode.Shared);
        var changes = Engine.Changes;
        var fence = Engine.LastFence;

        var busy = RemoveResource("/pool/a");
        var busyShared = RemoveResource("/pool/b");

        Assert.Equal(ErrorCode.ResourceBusy, busy.Error);
        Assert.Contains($"lease {lease.Id}", busy.Detail!, StringComparison.Ordinal);
        Assert.Equal(ErrorCode.ResourceBusy, busyShared.Error);
        Assert.Equal(changes, Engine.Changes);
        Assert.Equal(fence, Engine.LastFence);
        Assert.Equal(2, Engine.DeclaredCount);
        Assert.NotNull(Engine.GetDeclared(P("/pool/a")));
        Assert.Same(lease, Engine.GetLease(lease.Id));
        Assert.Same(pathLease, Engine.GetLease(pathLease.Id));

        Release(lease);
        Assert.Equal(ErrorCode.None, RemoveResource("/pool/a").Error);
        Assert.Null(Engine.GetDeclared(P("/pool/a")));
        Assert.Equal(1, Engine.DeclaredCount);
        Assert.Equal(ErrorCode.NotFound, RemoveResource("/pool/a").Error);
    }

    [Fact]
    public void A_resource_held_only_below_or_above_can_be_removed()
    {
        Declare("/pool/a");
        Declare("/pool/b");
        var below = Hold("/pool/a/x", lockParents: false);
        Hold("/pool", lockChildren: false);

        Assert.Equal(ErrorCode.None, RemoveResource("/pool/a").Error);
        Assert.Equal(ErrorCode.None, RemoveResource("/pool/b").Error);
        Assert.Same(below, Engine.GetLease(below.Id));
    }

    [Fact]
    public void A_removed_and_declared_again_resource_starts_as_never_released()
    {
        DeclareAll("/pool", "{}", "a", "b");
        Assert.Equal("/pool/a", TakeAndRelease("/pool"));
        RemoveResource("/pool/a");
        Declare("/pool/a");

        Assert.Equal(0, Engine.GetDeclared(P("/pool/a"))!.ReleasedSeq);
        Assert.Equal("/pool/a", TakeAndRelease("/pool"));
    }

    [Fact]
    public void Declaring_a_new_matching_resource_grants_a_waiter()
    {
        Declare("/pool/a", """{"os": "a"}""");
        Granted(Take("/pool", """{"os": "a"}"""));
        var waiter = Queued(Take("/pool", """{"os": "a"}""", waitMs: 1000));

        Declare("/pool/z", """{"os": "b"}""");
        Assert.Empty(DrainOutcomes());
        Assert.Equal(["/pool/a"], Candidates(waiter));

        Now += 7;
        Declare("/pool/new", """{"os": "a"}""");

        var lease = GrantedOutcome(waiter);
        Assert.Equal("/pool/new", Only(lease));
        Assert.Equal(7, lease.WaitedMs);
    }

    [Fact]
    public void Changing_attributes_so_a_resource_matches_grants_a_waiter()
    {
        Declare("/pool/a", """{"os": "a"}""");
        Declare("/pool/b", """{"os": "b"}""");
        Granted(Take("/pool", """{"os": "a"}"""));
        var waiter = Queued(Take("/pool", """{"os": "a"}""", waitMs: 1000));

        Declare("/pool/b", """{"os": "a"}""");

        Assert.Equal("/pool/b", Only(GrantedOutcome(waiter)));
    }

    [Fact]
    public void Declaring_a_matching_resource_that_is_busy_adds_it_to_the_waiters_candidates()
    {
        Declare("/pool/a");
        Granted(Take("/pool"));
        var waiter = Queued(Take("/pool", waitMs: 1000));
        Hold("/pool/b");

        Declare("/pool/b");

        Assert.Empty(DrainOutcomes());
        Assert.Equal(["/pool/a", "/pool/b"], Candidates(waiter));
        Assert.Single(Engine.GetResource(P("/pool/b")).Queue);
    }

    [Fact]
    public void Declaring_outside_a_waiters_pool_leaves_it_alone()
    {
        Declare("/pool/a");
        Granted(Take("/pool"));
        var waiter = Queued(Take("/pool", waitMs: 1000));

        Declare("/other/b");
        Declare("/poolx");

        Assert.Empty(DrainOutcomes());
        Assert.Equal(["/pool/a"], Candidates(waiter));
    }

    [Fact]
    public void Removing_a_resource_a_waiter_needed_fails_it_with_NoMatch()
    {
        DeclareAll("/pool", """{"os": "a"}""", "a", "b");
        Granted(Take("/pool", count: 1));
        var waiter = Queued(Take("/pool", count: 2, waitMs: 1000));
        Assert.Equal(["/pool/a", "/pool/b"], Candidates(waiter));

        Assert.Equal(ErrorCode.None, RemoveResource("/pool/b").Error);

        SingleOutcome(waiter, ErrorCode.NoMatch);
        Assert.Equal(0, Engine.QueueLength);
        Assert.Empty(Engine.GetResource(P("/pool/a")).Queue);
        Assert.Empty(Engine.GetResource(P("/pool/b")).Queue);
    }

    [Fact]
    public void Removing_a_resource_so_the_groups_can_no_longer_be_served_together_fails_the_waiter_with_NoMatch()
    {
        Declare("/pool/a1", """{"os": "a"}""");
        Declare("/pool/a2", """{"os": "a"}""");
        Declare("/pool/b", """{"os": "b"}""");
        var a1 = Hold("/pool/a1");
        var both = Queued(AcquirePool([G("/pool", """{"os": "a"}"""), G("/pool", """{"os": "a"}""")], waitMs: 1000));
        var one = Queued(Take("/pool", """{"os": "a"}""", waitMs: 1000));
        Assert.Equal(["/pool/a1", "/pool/a2"], Candidates(both));

        // a2 is free (only claimed), so it can be removed. Each group alone still matches a1, but the two
        // groups need two distinct os=a resources and only one is left: the waiter can never be served.
        Assert.Equal(ErrorCode.None, RemoveResource("/pool/a2").Error);

        SingleOutcome(both, ErrorCode.NoMatch);
        Assert.Equal([one.Id], QueueIds());
        Assert.Equal([one.Id], Engine.GetResource(P("/pool/a1")).Queue.Select(w => w.Id));
        Assert.Equal(["/pool/a1"], Candidates(one));
        Failed(ErrorCode.NoMatch, AcquirePool([G("/pool", """{"os": "a"}"""), G("/pool", """{"os": "a"}""")], waitMs: 1000));

        Release(a1);
        Assert.Equal("/pool/a1", Only(GrantedOutcome(one)));
    }

    [Fact]
    public void Changing_attributes_so_too_few_match_fails_the_waiter_with_NoMatch()
    {
        DeclareAll("/pool", """{"os": "a"}""", "a", "b");
        Granted(Take("/pool", count: 2));
        var waiter = Queued(AcquirePool([G("/pool", "{}"), G("/pool", """{"os": "a"}""")], waitMs: 1000));

        Declare("/pool/a", """{"os": "b"}""");
        Assert.Empty(DrainOutcomes()); // os=a still has /pool/b
        Assert.Equal([waiter.Id], QueueIds());
        Declare("/pool/b", """{"os": "b"}""");

        SingleOutcome(waiter, ErrorCode.NoMatch);
    }

    [Fact]
    public void Removing_one_of_several_candidates_keeps_the_waiter_with_the_rest()
    {
        DeclareAll("/pool", "{}", "a", "b", "c");
        Granted(Take("/pool", count: 2));
        var waiter = Queued(Take("/pool", count: 2, waitMs: 1000));

        Assert.Equal(ErrorCode.None, RemoveResource("/pool/c").Error);

        Assert.Empty(DrainOutcomes());
        Assert.Equal(["/pool/a", "/pool/b"], Candidates(waiter));
        Assert.Equal([waiter.Id], QueueIds());
    }

    [Fact]
    public void Removing_a_free_candidate_lets_a_path_waiter_behind_the_pool_waiter_through()
    {
        DeclareAll("/pool", "{}", "a", "b", "c");
        Hold("/pool/a");
        var waiter = Queued(Take("/pool", count: 3, waitMs: 1000));
        var pathWaiter = Queued(Acquire("/pool/b", waitMs: 1000));
        var other = Queued(Acquire("/pool/c", waitMs: 1000));

        Assert.Equal(ErrorCode.None, RemoveResource("/pool/c").Error);

        var outcomes = DrainOutcomes();
        Assert.Equal([waiter.Id, pathWaiter.Id, other.Id], outcomes.Select(o => o.WaiterId));
        Assert.Equal(ErrorCode.NoMatch, outcomes[0].Error);
        Assert.Equal(ErrorCode.None, outcomes[1].Error);
        Assert.Equal(ErrorCode.None, outcomes[2].Error);
    }

    [Fact]
    public void A_waiter_keeps_its_place_in_a_resources_queue_when_its_candidates_are_recomputed()
    {
        Declare("/pool/a");
        var x = Hold("/x");
        var held = Granted(Take("/pool"));
        var poolWaiter = Queued(Take("/pool", waitMs: 1000));
        var pathWaiter = Queued(AcquireMany(["/pool/a", "/x"], waitMs: 1000));
        Assert.Equal([poolWaiter.Id, pathWaiter.Id], Engine.GetResource(P("/pool/a")).Queue.Select(w => w.Id));
        Hold("/pool/b");

        Declare("/pool/b"); // busy: the pool waiter now wants a or b

        Assert.Equal([poolWaiter.Id, pathWaiter.Id], Engine.GetResource(P("/pool/a")).Queue.Select(w => w.Id));
        Release(held);
        Assert.Equal(poolWaiter.Id, Assert.Single(DrainOutcomes()).WaiterId);
        Release(x);
        Assert.Empty(DrainOutcomes());
    }
}
