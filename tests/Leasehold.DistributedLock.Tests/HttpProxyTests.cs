namespace Leasehold.DistributedLock.Tests;

/// <summary>The provider over HTTP with a network in between that cuts connections or reports closed ones late (<see cref="TcpProxy"/>).</summary>
public sealed class HttpProxyTests : LockTestBase
{
    protected override Transport Transport => Transport.Http;

    [Fact]
    public async Task An_infinite_acquire_outlasts_a_proxy_that_cuts_every_waiting_request()
    {
        await using var proxy = new TcpProxy(Server.HttpAddress, cutAfter: TimeSpan.FromSeconds(1));
        var held = await CreateProvider().CreateLock("cut").AcquireAsync();
        // Through the proxy: each waiting request is cut after a second, so one acquire's retries (three, the default)
        // are used up after four cuts.
        var behindProxy = new LeaseholdDistributedSynchronizationProvider(CreateClient(o => o.Server = proxy.Address));
        var waiting = behindProxy.CreateLock("cut").AcquireAsync().AsTask();

        await WaitUntilAsync(() => Task.FromResult(proxy.Cuts >= 6 || waiting.IsCompleted), "six connections cut");
        Assert.False(waiting.IsCompleted, $"the acquire ended ({waiting.Status}: {waiting.Exception?.InnerException?.Message}) while the lock was held");
        await held.DisposeAsync();

        await using var handle = await Bounded(waiting);
        Assert.True(handle.Fence > held.Fence);
    }

    [Fact]
    public async Task A_cancelled_upgrade_with_a_ttl_takes_its_read_lease_again_when_the_server_notices_the_cancel_late()
    {
        // The server's side of a closed connection stays open two seconds: a cancelled request waits on in its queue.
        await using var proxy = new TcpProxy(Server.HttpAddress, lingerAfterClientClosed: TimeSpan.FromSeconds(2));
        var options = new LeaseholdDistributedLockOptions { Ttl = TimeSpan.FromSeconds(30) };
        var rw = new LeaseholdDistributedSynchronizationProvider(CreateClient(o => o.Server = proxy.Address), options).CreateReaderWriterLock("late");
        await using var reader = await CreateProvider(options).CreateReaderWriterLock("late").AcquireReadLockAsync();
        await using var upgradeable = await rw.AcquireUpgradeableReadLockAsync(TimeSpan.FromSeconds(5));
        using var cancel = new CancellationTokenSource();
        var upgrading = upgradeable.UpgradeToWriteLockAsync(cancellationToken: cancel.Token).AsTask();
        await WaitForQueueAsync(rw.Path, 1);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Bounded(upgrading));
        Assert.False(upgradeable.IsUpgraded);
        await AssertStillWaitingAsync(Task.Delay(Timeout.Infinite, upgradeable.HandleLostToken), TimeSpan.FromSeconds(1), "HandleLostToken after a cancelled upgrade");
        Assert.Equal((2, 0), await StateOfAsync(rw.Path));
    }
}
