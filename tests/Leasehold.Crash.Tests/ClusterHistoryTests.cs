namespace Leasehold.Crash.Tests;

/// <summary>The failover test's checker must be able to fail: each promise broken on purpose in a made-up history.</summary>
public sealed class ClusterHistoryTests
{
    private static Grant G(long fence, string path, long invoked, long answered, long? released, long? expires = null, int client = 0)
        => new() { Client = client, LeaseId = fence, Token = "t", Fence = fence, Path = path, InvokedAt = invoked, AnsweredAt = answered, ExpiresAt = expires, ReleaseInvokedAt = released };

    private static IReadOnlyList<string> Check(params Grant[] grants)
    {
        var history = new ClusterHistory();
        foreach (var grant in grants)
        {
            history.Add(grant);
        }
        return history.Check();
    }

    [Fact]
    public void A_clean_history_passes()
        => Assert.Empty(Check(G(1, "/a", 0, 10, 20), G(2, "/b", 5, 12, null, expires: 100), G(3, "/a", 15, 25, 30)));

    [Fact]
    public void Two_holders_at_once_are_found()
        => Assert.Contains(Check(G(1, "/a", 0, 10, 40), G(2, "/a", 15, 25, 50)), p => p.Contains("held until 40"));

    [Fact]
    public void A_lease_not_released_holds_until_its_deadline()
        => Assert.Contains(Check(G(1, "/a", 0, 10, null, expires: 1000), G(2, "/a", 15, 25, 50)), p => p.Contains("/a"));

    [Fact]
    public void A_reused_fence_is_found()
        => Assert.Contains(Check(G(1, "/a", 0, 10, 20), G(1, "/b", 30, 40, 50)), p => p.Contains("fence 1 issued 2 times"));

    [Fact]
    public void A_fence_smaller_than_one_granted_before_is_found()
        => Assert.Contains(Check(G(5, "/a", 0, 10, 20), G(3, "/b", 30, 40, 50)), p => p.Contains("fence 3"));

    [Fact]
    public void A_recorded_violation_is_reported()
    {
        var history = new ClusterHistory();
        history.Violation("lost");
        Assert.Equal(["lost"], history.Check());
    }
}
