namespace Leasehold.Core.Tests.Pools;

/// <summary>
/// Requests at the size limits (16 groups of up to 1000): the joint no-match check must give exact answers
/// there too, which a search over every slot could not do in reasonable time.
/// </summary>
public class PoolLimitTests : PoolTestBase
{
    private void DeclareNumbered(int count)
    {
        for (var i = 0; i < count; i++)
        {
            Declare($"/big/r{i:D5}", $$"""{"n": {{i % 16}}}""");
        }
    }

    [Fact]
    public void Sixteen_groups_of_a_hundred_fit_exactly_into_sixteen_hundred_resources()
    {
        DeclareNumbered(1600);
        var groups = Enumerable.Range(0, 16).Select(_ => G("/big", "{}", 100)).ToArray();

        var lease = Granted(AcquirePool(groups));

        Assert.Equal(1600, lease.Paths.Distinct().Count());
        Assert.All(lease.Groups!, g => Assert.Equal(100, g.Chosen.Length));
    }

    [Fact]
    public void One_resource_short_of_sixteen_groups_is_no_match_at_once()
    {
        DeclareNumbered(1599);
        var groups = Enumerable.Range(0, 16).Select(_ => G("/big", "{}", 100)).ToArray();

        Failed(ErrorCode.NoMatch, AcquirePool(groups, waitMs: 60_000));
        Assert.Empty(Engine.Leases);
        Assert.Equal(0, Engine.QueueLength);
    }

    [Fact]
    public void Hall_condition_catches_a_subset_of_groups_that_shares_too_few_resources()
    {
        DeclareNumbered(1600);
        // 200 resources have n 0 or 1. Each of the first two groups alone fits (110 <= 200), and all three
        // fit by count (1220 <= 1600), but the two together need 220 of those 200.
        var groups = new[]
        {
            G("/big", """{"n": {"$in": [0, 1]}}""", 110),
            G("/big", """{"n": {"$in": [0, 1]}}""", 110),
            G("/big", "{}", 1000),
        };

        Failed(ErrorCode.NoMatch, AcquirePool(groups));
        groups[1] = G("/big", """{"n": {"$in": [0, 1]}}""", 90);
        Granted(AcquirePool(groups));
    }
}
