using Leasehold.Client;
using Medallion.Threading;

namespace Leasehold.DistributedLock.Tests;

/// <summary>The contract of <see cref="IDistributedSemaphore"/> on Leasehold, once per transport.</summary>
public abstract class SemaphoreTests : LockTestBase
{
    private IDistributedSemaphore NewSemaphore(int maxCount, string name = "licences") => ((IDistributedSemaphoreProvider)CreateProvider()).CreateSemaphore(name, maxCount);

    [Fact]
    public async Task At_most_max_count_tickets_are_held_at_once()
    {
        var tickets = new List<IDistributedSynchronizationHandle>();
        for (var i = 0; i < 3; i++)
        {
            tickets.Add(Assert.IsAssignableFrom<IDistributedSynchronizationHandle>(await NewSemaphore(3).TryAcquireAsync()));
        }
        Assert.Null(await NewSemaphore(3).TryAcquireAsync());
        Assert.Null(await NewSemaphore(3).TryAcquireAsync(TimeSpan.FromMilliseconds(200)));
        await Assert.ThrowsAsync<TimeoutException>(async () => await NewSemaphore(3).AcquireAsync(TimeSpan.FromMilliseconds(100)));

        await tickets[1].DisposeAsync();
        await using var fourth = await NewSemaphore(3).TryAcquireAsync();
        Assert.NotNull(fourth);
        foreach (var ticket in tickets)
        {
            await ticket.DisposeAsync();
        }
    }

    [Fact]
    public async Task Waiters_get_freed_tickets_in_the_order_they_asked()
    {
        var semaphore = CreateProvider().CreateSemaphore("ordered", 2);
        var a = await semaphore.AcquireAsync();
        await using var b = await semaphore.AcquireAsync();
        var first = semaphore.AcquireAsync().AsTask();
        await WaitForQueueAsync(semaphore.Path, 1);
        var second = semaphore.AcquireAsync().AsTask();
        await WaitForQueueAsync(semaphore.Path, 2);

        await a.DisposeAsync();

        await using var granted = await Bounded(first);
        await AssertStillWaitingAsync(second, TimeSpan.FromMilliseconds(300), "the second waiter with no ticket free");
        await granted.DisposeAsync();
        await using var next = await Bounded(second);
    }

    [Fact]
    public async Task A_different_max_count_for_the_same_name_is_refused_at_once()
    {
        await using var held = await NewSemaphore(2).AcquireAsync();

        var refused = await Assert.ThrowsAsync<LeaseholdException>(async () => await NewSemaphore(3).AcquireAsync(TimeSpan.FromSeconds(5)));

        Assert.Equal("limit-mismatch", refused.Code);
    }

    [Fact]
    public async Task Many_concurrent_acquirers_never_exceed_the_count()
    {
        const int MaxCount = 3, Acquirers = 10, Rounds = 3;
        int inside = 0, most = 0, done = 0;
        var tasks = Enumerable.Range(0, Acquirers).Select(_ => Task.Run(async () =>
        {
            var semaphore = NewSemaphore(MaxCount, "crowded");
            for (var round = 0; round < Rounds; round++)
            {
                await using var ticket = await semaphore.AcquireAsync(LockTestServer.Timeout);
                var now = Interlocked.Increment(ref inside);
                int seen;
                while (now > (seen = Volatile.Read(ref most)) && Interlocked.CompareExchange(ref most, now, seen) != seen)
                {
                }
                await Task.Delay(5);
                Interlocked.Decrement(ref inside);
                Interlocked.Increment(ref done);
            }
        }));

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.InRange(most, 1, MaxCount);
        Assert.Equal(Acquirers * Rounds, done);
    }

    [Fact]
    public async Task A_cancelled_wait_for_a_ticket_leaves_nothing_behind()
    {
        var semaphore = CreateProvider().CreateSemaphore("cancel", 1);
        await using var held = await semaphore.AcquireAsync();
        using var cancel = new CancellationTokenSource();
        var waiting = semaphore.AcquireAsync(cancellationToken: cancel.Token).AsTask();
        await WaitForQueueAsync(semaphore.Path, 1);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(waiting));
        await WaitForQueueAsync(semaphore.Path, 0);
        Assert.Equal((1, 0), await StateOfAsync(semaphore.Path));
    }

    [Fact]
    public async Task HandleLostToken_fires_when_a_ticket_is_revoked()
    {
        var client = CreateClient();
        var semaphore = new LeaseholdDistributedSemaphore("revoked", 2, client);
        await using var ticket = await semaphore.AcquireAsync();

        await client.Admin.RevokeLeaseAsync(Assert.Single(ticket.LeaseIds));

        await AssertFiresAsync(ticket.HandleLostToken, TimeSpan.FromSeconds(10), "HandleLostToken after a revoke");
    }

    [Fact]
    public void Max_count_outside_one_to_a_million_is_refused()
    {
        var provider = CreateProvider();
        Assert.Throws<ArgumentOutOfRangeException>(() => provider.CreateSemaphore("zero", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => provider.CreateSemaphore("huge", 1_000_001));
        Assert.Equal(1_000_000, provider.CreateSemaphore("largest", 1_000_000).MaxCount);
    }
}
