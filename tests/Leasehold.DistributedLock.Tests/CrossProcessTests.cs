using System.Diagnostics;

namespace Leasehold.DistributedLock.Tests;

/// <summary>Mutual exclusion between this process and another one (lock-holder) using the provider, once per transport.</summary>
public abstract class CrossProcessTests : LockTestBase
{
    [Fact]
    public async Task A_lock_held_by_another_process_is_granted_here_once_it_releases()
    {
        var (holder, fence) = await HolderProcess.StartHoldingAsync(Server.AddressOf(Transport), "lock", "shared/job");
        using var _ = holder;
        var mutex = CreateProvider().CreateLock("shared/job");

        Assert.Null(await mutex.TryAcquireAsync());
        var waiting = mutex.AcquireAsync().AsTask();
        await WaitForQueueAsync(mutex.Path, 1);
        await holder.ReleaseAsync();

        await using var handle = await Bounded(waiting);
        Assert.True(handle.Fence > fence);
    }

    [Fact]
    public async Task The_lock_of_a_killed_process_is_free_once_its_session_expires()
    {
        var (holder, _) = await HolderProcess.StartHoldingAsync(Server.AddressOf(Transport), "lock", "crashy", sessionTtlSeconds: 2);
        using var _h = holder;
        var mutex = CreateProvider().CreateLock("crashy");
        Assert.Null(await mutex.TryAcquireAsync());

        var clock = Stopwatch.StartNew();
        await holder.KillAsync();

        await using var handle = await mutex.AcquireAsync(LockTestServer.Timeout);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"granted {clock.Elapsed} after the kill");
    }

    [Fact]
    public async Task A_process_waiting_for_a_lock_held_here_gets_it_when_this_one_releases()
    {
        var handle = await CreateProvider().CreateLock("other-waits").AcquireAsync();
        using var holder = HolderProcess.Start(Server.AddressOf(Transport), "lock", "other-waits");
        await WaitForQueueAsync(CreateProvider().CreateLock("other-waits").Path, 1);

        await handle.DisposeAsync();

        Assert.True(await holder.HeldAsync() > handle.Fence);
        await holder.ReleaseAsync();
    }

    [Fact]
    public async Task A_reader_in_another_process_shares_with_readers_here_and_keeps_writers_out()
    {
        var (holder, _) = await HolderProcess.StartHoldingAsync(Server.AddressOf(Transport), "read", "table");
        using var _h = holder;
        var rw = CreateProvider().CreateReaderWriterLock("table");

        await using (var reader = await rw.TryAcquireReadLockAsync())
        {
            Assert.NotNull(reader);
        }
        Assert.Null(await rw.TryAcquireWriteLockAsync(TimeSpan.FromMilliseconds(200)));
        var writing = rw.AcquireWriteLockAsync().AsTask();
        await WaitForQueueAsync(rw.Path, 1);
        await holder.ReleaseAsync();
        await using var writer = await Bounded(writing);
    }

    [Fact]
    public async Task Semaphore_tickets_held_by_another_process_count_here()
    {
        var (holder, _) = await HolderProcess.StartHoldingAsync(Server.AddressOf(Transport), "semaphore:2", "pool");
        using var _h = holder;
        var semaphore = CreateProvider().CreateSemaphore("pool", 2);

        await using var mine = await semaphore.TryAcquireAsync();
        Assert.NotNull(mine);
        Assert.Null(await semaphore.TryAcquireAsync());
        await holder.ReleaseAsync();
        await using var another = await semaphore.TryAcquireAsync();
        Assert.NotNull(another);
    }
}
