using System.Diagnostics;
using Medallion.Threading;

namespace Leasehold.DistributedLock.Tests;

/// <summary>The contract of <see cref="IDistributedLock"/> on Leasehold, once per transport (see Transports.cs).</summary>
public abstract class LockTests : LockTestBase
{
    [Fact]
    public async Task A_held_lock_excludes_every_other_handle_until_disposed()
    {
        IDistributedLockProvider first = CreateProvider(), second = CreateProvider();
        var handle = await first.CreateLock("jobs/nightly").AcquireAsync(TimeSpan.FromSeconds(5));

        Assert.Null(await second.CreateLock("jobs/nightly").TryAcquireAsync());
        Assert.Null(await first.CreateLock("jobs/nightly").TryAcquireAsync());
        await handle.DisposeAsync();

        await using var next = await second.CreateLock("jobs/nightly").TryAcquireAsync();
        Assert.NotNull(next);
    }

    [Fact]
    public async Task The_same_lock_object_is_not_reentrant()
    {
        IDistributedLock mutex = CreateProvider().CreateLock("reentrant?");
        await using var handle = await mutex.AcquireAsync();

        Assert.Null(await mutex.TryAcquireAsync(TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task A_try_with_zero_timeout_never_waits_in_the_queue()
    {
        var provider = CreateProvider();
        await using var held = await provider.CreateLock("busy").AcquireAsync();
        var contender = CreateProvider().CreateLock("busy");

        // Five tries, each a few round trips: a try that queued even one second each would take five.
        var clock = Stopwatch.StartNew();
        Assert.Null(await contender.TryAcquireAsync(TimeSpan.Zero));
        Assert.Null(await contender.TryAcquireAsync());  // the default timeout is zero
        Assert.Null(contender.TryAcquire());
        Assert.Null(await ((IDistributedLock)contender).TryAcquireAsync());
        Assert.Null(((IDistributedLock)contender).TryAcquire());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"five tries took {clock.Elapsed}");
        Assert.Equal((1, 0), await StateOfAsync(contender.Path));
    }

    [Fact]
    public async Task A_timeout_returns_null_from_try_and_throws_TimeoutException_from_acquire()
    {
        await using var held = await CreateProvider().CreateLock("busy").AcquireAsync();
        var contender = CreateProvider().CreateLock("busy");

        var clock = Stopwatch.StartNew();
        Assert.Null(await contender.TryAcquireAsync(TimeSpan.FromMilliseconds(300)));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(250), $"gave up after {clock.Elapsed}");
        await Assert.ThrowsAsync<TimeoutException>(async () => await contender.AcquireAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Throws<TimeoutException>(() => contender.Acquire(TimeSpan.Zero));
        Assert.Equal((1, 0), await StateOfAsync(contender.Path));
    }

    [Fact]
    public async Task A_waiter_with_no_timeout_is_granted_when_the_holder_lets_go()
    {
        var held = await CreateProvider().CreateLock("handoff").AcquireAsync();
        var contender = CreateProvider().CreateLock("handoff");
        var waiting = contender.AcquireAsync().AsTask();
        await WaitForQueueAsync(contender.Path, 1);

        await held.DisposeAsync();

        await using var next = await Bounded(waiting);
        Assert.True(next.Fence > held.Fence);
    }

    [Fact]
    public async Task A_cancelled_wait_leaves_no_lease_and_no_waiter_behind()
    {
        var held = await CreateProvider().CreateLock("cancel").AcquireAsync();
        var contender = CreateProvider().CreateLock("cancel");
        using var cancel = new CancellationTokenSource();
        var waiting = contender.AcquireAsync(cancellationToken: cancel.Token).AsTask();
        await WaitForQueueAsync(contender.Path, 1);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(waiting));
        await WaitForQueueAsync(contender.Path, 0);
        await held.DisposeAsync();
        Assert.Equal((0, 0), await StateOfAsync(contender.Path));
        await using var again = await contender.TryAcquireAsync();
        Assert.NotNull(again);
    }

    [Fact]
    public async Task A_token_cancelled_before_the_call_acquires_nothing()
    {
        var mutex = CreateProvider().CreateLock("cancelled-early");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await mutex.AcquireAsync(cancellationToken: cancelled.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => mutex.TryAcquire(TimeSpan.FromSeconds(1), cancelled.Token));
        Assert.Equal((0, 0), await StateOfAsync(mutex.Path));
    }

    [Fact]
    public async Task Disposing_twice_or_from_many_threads_at_once_releases_once_and_does_not_signal_loss()
    {
        var mutex = CreateProvider().CreateLock("dispose-race");
        var handle = await mutex.AcquireAsync();
        var lost = handle.HandleLostToken;

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var disposers = Enumerable.Range(0, 8)
            .Select(i => Task.Run(async () =>
            {
                await start.Task;
                if (i % 2 == 0)
                {
                    handle.Dispose();
                }
                else
                {
                    await handle.DisposeAsync();
                }
            }))
            .ToList();
        start.SetResult();
        await Bounded(Task.WhenAll(disposers));
        await handle.DisposeAsync();

        Assert.False(lost.IsCancellationRequested);
        Assert.Throws<ObjectDisposedException>(() => handle.HandleLostToken);
        Assert.Equal((0, 0), await StateOfAsync(mutex.Path));
        await using var again = await CreateProvider().CreateLock("dispose-race").TryAcquireAsync();
        Assert.NotNull(again);
    }

    [Fact]
    public async Task HandleLostToken_fires_when_an_administrator_revokes_the_lease()
    {
        var client = CreateClient();
        var mutex = new LeaseholdDistributedLock("revoked", client);
        await using var handle = await mutex.AcquireAsync();
        Assert.True(handle.HandleLostToken.CanBeCanceled);
        Assert.False(handle.HandleLostToken.IsCancellationRequested);

        await client.Admin.RevokeLeaseAsync(Assert.Single(handle.LeaseIds));

        await AssertFiresAsync(handle.HandleLostToken, TimeSpan.FromSeconds(10), "HandleLostToken after a revoke");
        await using var next = await CreateProvider().CreateLock("revoked").TryAcquireAsync();
        Assert.NotNull(next);
    }

    [Fact]
    public async Task A_lost_callback_that_disposes_the_handle_synchronously_returns()
    {
        var client = CreateClient();
        var mutex = new LeaseholdDistributedLock("dispose-when-lost", client);
        var handle = await mutex.AcquireAsync();
        var disposed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The family's usual reaction to a lost lock: stop and let go, synchronously, from the callback itself. (The
        // registration is not disposed by the test: that would wait for a callback that may never return.)
        _ = handle.HandleLostToken.Register(() =>
        {
            handle.Dispose();
            disposed.TrySetResult();
        });

        await client.Admin.RevokeLeaseAsync(Assert.Single(handle.LeaseIds));

        var done = await Task.WhenAny(disposed.Task, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.True(done == disposed.Task, "the callback's Dispose did not return within 10 s (it waits for the thread that runs it)");
        Assert.Equal((0, 0), await StateOfAsync(mutex.Path));
    }

    [Fact]
    public async Task Many_concurrent_acquirers_hold_the_lock_one_at_a_time()
    {
        const int Acquirers = 12, Rounds = 3;
        var providers = Enumerable.Range(0, 3).Select(_ => CreateProvider()).ToArray();
        int inside = 0, most = 0, done = 0;
        long lastFence = 0;
        var fencesOutOfOrder = 0;
        var workers = Enumerable.Range(0, Acquirers).Select(i => Task.Run(async () =>
        {
            var mutex = providers[i % providers.Length].CreateLock("crowded");
            for (var round = 0; round < Rounds; round++)
            {
                await using var handle = await mutex.AcquireAsync(LockTestServer.Timeout);
                var now = Interlocked.Increment(ref inside);
                InterlockedMax(ref most, now);
                if (handle.Fence <= Interlocked.Exchange(ref lastFence, handle.Fence))
                {
                    Interlocked.Increment(ref fencesOutOfOrder);
                }
                await Task.Yield();
                Interlocked.Decrement(ref inside);
                Interlocked.Increment(ref done);
            }
        }));

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, most);
        Assert.Equal(Acquirers * Rounds, done);
        Assert.True(fencesOutOfOrder == 0, "each holder's fence is larger than the previous holder's");
        Assert.Equal((0, 0), await StateOfAsync(providers[0].CreateLock("crowded").Path));
    }

    [Fact]
    public async Task The_synchronous_forms_acquire_and_release()
    {
        IDistributedLock mutex = CreateProvider().CreateLock("sync");
        using (var handle = mutex.Acquire(TimeSpan.FromSeconds(5)))
        {
            Assert.Null(CreateProvider().CreateLock("sync").TryAcquire());
        }
        using var again = mutex.TryAcquire();
        Assert.NotNull(again);
    }

    [Fact]
    public async Task Timeouts_outside_the_familys_range_are_refused()
    {
        var mutex = CreateProvider().CreateLock("bad-timeout");

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await mutex.TryAcquireAsync(TimeSpan.FromMilliseconds(-2)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await mutex.AcquireAsync(TimeSpan.FromDays(30)));
        Assert.Throws<ArgumentNullException>(() => CreateProvider().CreateLock(null!));
        Assert.Equal((0, 0), await StateOfAsync(mutex.Path));
    }

    [Fact]
    public async Task Names_that_are_not_path_segments_are_locks_of_their_own()
    {
        var provider = CreateProvider();
        string[] names = ["", ".", "..", "a", "a/b", "a/b/", "/", "%", "%2F", "a%2Fb", "tab\there", "日本", "x" + new string('y', 300), "x" + new string('y', 301)];
        var handles = new List<LeaseholdDistributedLockHandle>();
        foreach (var name in names)
        {
            var handle = await provider.CreateLock(name).TryAcquireAsync();
            Assert.True(handle is not null, $"'{name}' was not granted: its path is shared with another name");
            handles.Add(handle);
        }
        foreach (var name in names)
        {
            Assert.Null(await provider.CreateLock(name).TryAcquireAsync());
            Assert.Equal((1, 0), await StateOfAsync(provider.CreateLock(name).Path));
        }
        foreach (var handle in handles)
        {
            await handle.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_lock_with_a_ttl_of_its_own_is_renewed_while_held()
    {
        var client = CreateClient();
        var mutex = new LeaseholdDistributedLock("ttl", client, new LeaseholdDistributedLockOptions { Ttl = TimeSpan.FromSeconds(2) });
        await using var handle = await mutex.AcquireAsync();
        var lease = await client.GetLeaseAsync(Assert.Single(handle.LeaseIds));
        Assert.Equal(2, lease?.Ttl);
        Assert.Equal(lease?.Fence, handle.Fence);
        Assert.Null(lease?.Session);

        // Two lifetimes and more later it is still held: renewed, not expired.
        var clock = Stopwatch.StartNew();
        await WaitUntilAsync(async () =>
        {
            Assert.NotNull(await client.GetLeaseAsync(handle.LeaseIds[0]));
            return clock.Elapsed > TimeSpan.FromSeconds(4.5);
        }, "4.5 seconds of a renewed two-second lease");
        Assert.False(handle.HandleLostToken.IsCancellationRequested);
    }

    [Fact]
    public async Task The_prefix_and_owner_options_place_and_name_the_lease()
    {
        var client = CreateClient();
        var provider = new LeaseholdDistributedSynchronizationProvider(client, new LeaseholdDistributedLockOptions { Prefix = "/apps/billing/", Owner = "billing-7" });
        var mutex = provider.CreateLock("invoices");
        Assert.Equal("/apps/billing/locks/invoices", mutex.Path);

        await using var handle = await mutex.AcquireAsync();
        var resource = await client.GetResourceAsync("/apps/billing/locks/invoices");
        Assert.Equal("billing-7", Assert.Single(resource.Holders).Owner);
        Assert.Throws<ArgumentException>(() => new LeaseholdDistributedSynchronizationProvider(client, new LeaseholdDistributedLockOptions { Prefix = "apps" }));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var was = Interlocked.CompareExchange(ref target, value, seen);
            if (was == seen)
            {
                return;
            }
            seen = was;
        }
    }
}
