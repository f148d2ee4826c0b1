using Leasehold.Client.Transport;

namespace Leasehold.Client.Tests;

/// <summary>
/// The ends a native connection keeps for leases not watched yet: the newest are kept, so that ends nobody claims
/// (a lease that expired after its handle was disposed) never stop a later one from reaching its handle.
/// </summary>
public sealed class RecentEndsTests
{
    [Fact]
    public void The_newest_end_is_kept_after_many_that_nobody_claimed()
    {
        var ends = new RecentEnds();
        for (long id = 1; id <= RecentEnds.Capacity + 100; id++)
        {
            ends.Add(id, "expired");
        }
        ends.Add(5_000, "revoked");

        Assert.Equal(RecentEnds.Capacity, ends.Count);
        Assert.True(ends.TryTake(5_000, out var reason));
        Assert.Equal("revoked", reason);
        // The oldest were forgotten to make room, the later ones kept.
        Assert.False(ends.TryTake(1, out _));
        Assert.False(ends.TryTake(101, out _));
        Assert.True(ends.TryTake(RecentEnds.Capacity + 100, out _));
    }

    [Fact]
    public void An_end_is_taken_once()
    {
        var ends = new RecentEnds();
        ends.Add(7, "session-ended");
        ends.Add(7, "expired");

        Assert.True(ends.TryTake(7, out var reason));
        Assert.Equal("session-ended", reason);
        Assert.False(ends.TryTake(7, out _));
        Assert.Equal(0, ends.Count);
    }

    [Fact]
    public void Ends_taken_soon_after_they_came_leave_room_for_the_capacity_of_unclaimed_ones()
    {
        var ends = new RecentEnds();
        // Many ends claimed at once (the usual case) must not push out the few nobody has claimed yet.
        ends.Add(-1, "expired");
        for (long id = 1; id <= 10 * RecentEnds.Capacity; id++)
        {
            ends.Add(id, "expired");
            Assert.True(ends.TryTake(id, out _));
        }

        Assert.True(ends.TryTake(-1, out _));
    }
}
