using Medallion.Threading;

namespace Leasehold.DistributedLock.Tests;

/// <summary>The contract of <see cref="IDistributedUpgradeableReaderWriterLock"/> on Leasehold, once per transport.</summary>
public abstract class ReaderWriterLockTests : LockTestBase
{
    private const string Name = "catalogue";

    private IDistributedUpgradeableReaderWriterLock NewLock() => ((IDistributedUpgradeableReaderWriterLockProvider)CreateProvider()).CreateUpgradeableReaderWriterLock(Name);

    private string LockPath => CreateProvider().CreateReaderWriterLock(Name).Path;

    private string GatePath => CreateProvider().CreateReaderWriterLock(Name).GatePath;

    [Fact]
    public async Task Readers_share_the_lock()
    {
        var readers = new List<IDistributedSynchronizationHandle>();
        for (var i = 0; i < 3; i++)
        {
            readers.Add(Assert.IsAssignableFrom<IDistributedSynchronizationHandle>(await NewLock().TryAcquireReadLockAsync()));
        }
        Assert.Equal((3, 0), await StateOfAsync(LockPath));
        foreach (var reader in readers)
        {
            await reader.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_writer_excludes_readers_writers_and_upgradeable_readers()
    {
        var writer = await NewLock().AcquireWriteLockAsync(TimeSpan.FromSeconds(5));

        Assert.Null(await NewLock().TryAcquireReadLockAsync());
        Assert.Null(await NewLock().TryAcquireWriteLockAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Null(await NewLock().TryAcquireUpgradeableReadLockAsync());
        await writer.DisposeAsync();

        await using var reader = await NewLock().TryAcquireReadLockAsync();
        Assert.NotNull(reader);
        Assert.Equal((0, 0), await StateOfAsync(GatePath));
    }

    [Fact]
    public async Task A_reader_keeps_writers_out_and_a_timed_out_writer_leaves_nothing_held()
    {
        await using var reader = await NewLock().AcquireReadLockAsync();

        Assert.Null(await NewLock().TryAcquireWriteLockAsync());
        Assert.Null(await NewLock().TryAcquireWriteLockAsync(TimeSpan.FromMilliseconds(300)));
        await Assert.ThrowsAsync<TimeoutException>(async () => await NewLock().AcquireWriteLockAsync(TimeSpan.FromMilliseconds(100)));

        // The writers took the gate first; having failed, they gave it back.
        Assert.Equal((0, 0), await StateOfAsync(GatePath));
        Assert.Equal((1, 0), await StateOfAsync(LockPath));
    }

    [Fact]
    public async Task A_queued_writer_blocks_readers_that_come_after_it()
    {
        var first = await NewLock().AcquireReadLockAsync();
        var writing = NewLock().AcquireWriteLockAsync().AsTask();
        await WaitForQueueAsync(LockPath, 1);

        // Compatible with the reader that holds the lock, but not allowed to overtake the writer.
        Assert.Null(await NewLock().TryAcquireReadLockAsync());
        var late = NewLock().AcquireReadLockAsync().AsTask();
        await WaitForQueueAsync(LockPath, 2);

        await first.DisposeAsync();
        var writer = await Bounded(writing);
        await AssertStillWaitingAsync(late, TimeSpan.FromMilliseconds(300), "a reader behind a writer that holds the lock");
        await writer.DisposeAsync();
        await using var reader = await Bounded(late);
    }

    [Fact]
    public async Task An_upgradeable_reader_admits_readers_but_not_writers_or_another_upgradeable_reader()
    {
        await using var upgradeable = await NewLock().AcquireUpgradeableReadLockAsync();

        await using (var reader = await NewLock().TryAcquireReadLockAsync())
        {
            Assert.NotNull(reader);
        }
        Assert.Null(await NewLock().TryAcquireUpgradeableReadLockAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Null(await NewLock().TryAcquireWriteLockAsync());
    }

    [Fact]
    public async Task An_upgrade_waits_for_the_readers_and_blocks_readers_that_come_later()
    {
        var handle = await NewLock().AcquireUpgradeableReadLockAsync();
        var reader = await NewLock().AcquireReadLockAsync();
        var upgrading = handle.UpgradeToWriteLockAsync().AsTask();
        await WaitForQueueAsync(LockPath, 1);

        Assert.Null(await NewLock().TryAcquireReadLockAsync());
        await reader.DisposeAsync();
        await Bounded(upgrading);

        Assert.True(((LeaseholdDistributedLockUpgradeableHandle)handle).IsUpgraded);
        Assert.Null(await NewLock().TryAcquireReadLockAsync());
        Assert.Null(await NewLock().TryAcquireWriteLockAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await handle.TryUpgradeToWriteLockAsync());
        await handle.DisposeAsync();

        Assert.Equal((0, 0), await StateOfAsync(LockPath));
        Assert.Equal((0, 0), await StateOfAsync(GatePath));
    }

    [Fact]
    public async Task No_writer_gets_in_between_an_upgradeable_read_and_its_upgrade()
    {
        var handle = await NewLock().AcquireUpgradeableReadLockAsync();
        var reader = await NewLock().AcquireReadLockAsync();
        var writing = NewLock().AcquireWriteLockAsync().AsTask();
        await WaitForQueueAsync(GatePath, 1);
        var upgrading = handle.UpgradeToWriteLockAsync().AsTask();
        await WaitForQueueAsync(LockPath, 1);

        await reader.DisposeAsync();
        await Bounded(upgrading);
        Assert.False(writing.IsCompleted, "the writer got in between");

        await handle.DisposeAsync();
        await using var writer = await Bounded(writing);
    }

    [Fact]
    public async Task An_upgrade_that_times_out_keeps_the_upgradeable_read_lock()
    {
        var handle = await NewLock().AcquireUpgradeableReadLockAsync();
        var reader = await NewLock().AcquireReadLockAsync();

        Assert.False(await handle.TryUpgradeToWriteLockAsync(TimeSpan.FromMilliseconds(300)));
        Assert.False(handle.TryUpgradeToWriteLock());
        await Assert.ThrowsAsync<TimeoutException>(async () => await handle.UpgradeToWriteLockAsync(TimeSpan.FromMilliseconds(100)));

        Assert.False(handle.HandleLostToken.IsCancellationRequested);
        Assert.Equal((2, 0), await StateOfAsync(LockPath));   // both readers
        Assert.Equal((1, 0), await StateOfAsync(GatePath));
        Assert.Null(await NewLock().TryAcquireWriteLockAsync());
        await reader.DisposeAsync();
        Assert.True(await handle.TryUpgradeToWriteLockAsync());
        await handle.DisposeAsync();
        Assert.Equal((0, 0), await StateOfAsync(LockPath));
    }

    [Fact]
    public async Task A_cancelled_upgrade_keeps_the_upgradeable_read_lock_and_leaves_no_waiter()
    {
        await using var handle = await NewLock().AcquireUpgradeableReadLockAsync();
        var reader = await NewLock().AcquireReadLockAsync();
        using var cancel = new CancellationTokenSource();
        var upgrading = handle.UpgradeToWriteLockAsync(cancellationToken: cancel.Token).AsTask();
        await WaitForQueueAsync(LockPath, 1);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(upgrading));
        Assert.Equal((2, 0), await StateOfAsync(LockPath));
        await reader.DisposeAsync();
        Assert.True(await handle.TryUpgradeToWriteLockAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Disposing_during_an_upgrade_stops_it_and_releases_everything()
    {
        var handle = await NewLock().AcquireUpgradeableReadLockAsync();
        await using var reader = await NewLock().AcquireReadLockAsync();
        var upgrading = handle.UpgradeToWriteLockAsync().AsTask();
        await WaitForQueueAsync(LockPath, 1);

        await Bounded(handle.DisposeAsync().AsTask());

        await Assert.ThrowsAsync<ObjectDisposedException>(() => Bounded(upgrading));
        await WaitForQueueAsync(LockPath, 0);
        Assert.Equal((1, 0), await StateOfAsync(LockPath));   // the other reader only
        Assert.Equal((0, 0), await StateOfAsync(GatePath));
    }

    [Fact]
    public async Task A_write_lock_is_lost_when_either_of_its_leases_is_revoked()
    {
        var client = CreateClient();
        var rw = new LeaseholdDistributedReaderWriterLock(Name, client);
        await using var writer = await rw.AcquireWriteLockAsync();
        Assert.Equal(2, writer.LeaseIds.Count);

        await client.Admin.RevokeLeaseAsync(writer.LeaseIds[0]);   // the gate

        await AssertFiresAsync(writer.HandleLostToken, TimeSpan.FromSeconds(10), "HandleLostToken after the gate's revoke");
    }

    [Fact]
    public async Task A_lock_and_a_reader_writer_lock_of_the_same_name_are_unrelated()
    {
        var provider = CreateProvider();
        await using var writer = await provider.CreateReaderWriterLock("same").AcquireWriteLockAsync();
        await using var mutex = await provider.CreateLock("same").TryAcquireAsync();
        await using var ticket = await provider.CreateSemaphore("same", 1).TryAcquireAsync();
        Assert.NotNull(mutex);
        Assert.NotNull(ticket);
    }

    [Fact]
    public async Task Concurrent_readers_and_writers_never_overlap()
    {
        const int Writers = 4, Readers = 6, Rounds = 3;
        int writers = 0, readers = 0, violations = 0, done = 0;
        var tasks = Enumerable.Range(0, Writers + Readers).Select(i => Task.Run(async () =>
        {
            var rw = NewLock();
            for (var round = 0; round < Rounds; round++)
            {
                if (i < Writers)
                {
                    await using var handle = await rw.AcquireWriteLockAsync(LockTestServer.Timeout);
                    if (Interlocked.Increment(ref writers) != 1 || Volatile.Read(ref readers) != 0)
                    {
                        Interlocked.Increment(ref violations);
                    }
                    await Task.Yield();
                    Interlocked.Decrement(ref writers);
                }
                else
                {
                    await using var handle = await rw.AcquireReadLockAsync(LockTestServer.Timeout);
                    Interlocked.Increment(ref readers);
                    if (Volatile.Read(ref writers) != 0)
                    {
                        Interlocked.Increment(ref violations);
                    }
                    await Task.Yield();
                    Interlocked.Decrement(ref readers);
                }
                Interlocked.Increment(ref done);
            }
        }));

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, violations);
        Assert.Equal((Writers + Readers) * Rounds, done);
    }
}
