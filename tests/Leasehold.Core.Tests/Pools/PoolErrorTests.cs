namespace Leasehold.Core.Tests.Pools;

/// <summary>NoMatch (never satisfiable) versus Locked (busy now) versus queued; malformed requests.</summary>
public class PoolErrorTests : PoolTestBase
{
    [Fact]
    public void Too_few_matching_declared_resources_is_NoMatch_at_once_even_with_a_wait()
    {
        Declare("/pool/a", """{"os": "a"}""");
        Declare("/pool/b", """{"os": "b"}""");
        var changes = Engine.Changes;

        Failed(ErrorCode.NoMatch, Take("/pool", """{"os": "c"}"""));
        Failed(ErrorCode.NoMatch, Take("/pool", """{"os": "a"}""", count: 2, waitMs: 60_000));
        Failed(ErrorCode.NoMatch, Take("/pool", count: 3, waitMs: 60_000));
        Failed(ErrorCode.NoMatch, Take("/nowhere", waitMs: 60_000));
        Failed(ErrorCode.NoMatch, Take("/pool/a/below", waitMs: 60_000));
        Failed(ErrorCode.NoMatch, AcquirePool([G("/pool", "{}"), G("/pool", """{"os": "c"}""")], waitMs: 60_000));

        Assert.Equal(changes, Engine.Changes);
        Assert.Equal(0, Engine.QueueLength);
        Assert.Empty(Engine.Leases);
    }

    [Fact]
    public void NoMatch_ignores_holders_Locked_and_queued_depend_on_them()
    {
        Declare("/pool/a", """{"os": "a"}""");
        Declare("/pool/b", """{"os": "a"}""");
        Hold("/pool/a");

        Failed(ErrorCode.NoMatch, Take("/pool", """{"os": "a"}""", count: 3));       // never enough
        var lease = Granted(Take("/pool", """{"os": "a"}"""));                      // one is free
        Assert.Equal("/pool/b", Only(lease));
        Failed(ErrorCode.Locked, Take("/pool", """{"os": "a"}"""));                  // all busy, no wait
        var waiter = Queued(Take("/pool", """{"os": "a"}""", count: 2, waitMs: 1000)); // all busy, waits
        Assert.Equal(Now + 1000, waiter.Deadline);
        Failed(ErrorCode.NoMatch, Take("/pool", """{"os": "a"}""", count: 3, waitMs: 1000));
    }

    [Fact]
    public void The_detail_names_the_pool_the_requirement_and_the_numbers()
    {
        Declare("/pool/a", """{"os": "a"}""");

        var result = Take("/pool", """{"os":  "a"}""", count: 2);

        Assert.Equal(ErrorCode.NoMatch, result.Error);
        Assert.Contains("/pool", result.Detail!, StringComparison.Ordinal);
        Assert.Contains("""{"os":"a"}""", result.Detail!, StringComparison.Ordinal);
        Assert.Contains("1 declared", result.Detail!, StringComparison.Ordinal);
        Assert.Contains("needs 2", result.Detail!, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"os": {"$foo": 1}}""")]
    [InlineData("""{"$and": 3}""")]
    [InlineData("""{"os": """)]
    [InlineData("""[1, 2]""")]
    [InlineData("not json")]
    public void A_malformed_requirement_is_InvalidQuery(string require)
    {
        Declare("/pool/a");
        var changes = Engine.Changes;

        Failed(ErrorCode.InvalidQuery, Take("/pool", require, waitMs: 1000));

        Assert.Equal(changes, Engine.Changes);
        Assert.Equal(0, Engine.QueueLength);
    }

    [Fact]
    public void A_malformed_requirement_is_reported_even_with_no_resources_declared()
    {
        Failed(ErrorCode.InvalidQuery, Take("/pool", """{"n": {"$gt": 1, "$bad": 2}}"""));
    }

    [Fact]
    public void Malformed_pool_requests_are_InvalidArgument()
    {
        Declare("/pool/a");
        var groups = new[] { G("/pool") };

        Failed(ErrorCode.InvalidArgument, Engine.Acquire(new AcquireLease { Now = Now, Paths = [], Groups = [] }));
        Failed(ErrorCode.InvalidArgument, Engine.Acquire(new AcquireLease { Now = Now, Paths = Ps("/x"), Groups = groups }));
        Failed(ErrorCode.InvalidArgument, Engine.Acquire(new AcquireLease { Now = Now, Paths = [], Groups = groups, Mode = LockMode.Shared }));
        Failed(ErrorCode.InvalidArgument, Engine.Acquire(new AcquireLease { Now = Now, Paths = [], Groups = groups, Limit = 1 }));
        Failed(ErrorCode.InvalidArgument, Engine.Acquire(new AcquireLease { Now = Now, Paths = [], Groups = groups, TtlMs = -1 }));
        Failed(ErrorCode.InvalidArgument, Engine.Acquire(new AcquireLease { Now = Now, Paths = [], Groups = groups, WaitMs = Engine.Limits.MaxWaitMs + 1 }));
        Failed(ErrorCode.InvalidArgument, Engine.Acquire(new AcquireLease { Now = Now, Paths = [], Groups = groups, Owner = new string('o', 257) }));
        Failed(ErrorCode.InvalidArgument, Take("/pool", count: 0));
        Failed(ErrorCode.InvalidArgument, Take("/pool", count: 1001));
        Failed(ErrorCode.InvalidArgument, AcquirePool([.. Enumerable.Repeat(G("/pool"), 17)]));
        Failed(ErrorCode.NotFound, Engine.Acquire(new AcquireLease { Now = Now, Paths = [], Groups = groups, SessionId = 99 }));
        Assert.Empty(Engine.Leases);
    }

    [Fact]
    public void Sixteen_groups_are_allowed()
    {
        for (var i = 0; i < 16; i++)
        {
            Declare($"/pool/r{i:D2}");
        }

        var lease = Granted(AcquirePool([.. Enumerable.Repeat(G("/pool"), 16)]));

        Assert.Equal(16, PathsOf(lease).Distinct().Count());
    }
}
