using Leasehold.Client;
using Medallion.Threading;

namespace Leasehold.DistributedLock;

/// <summary>
/// A held lock, read or write lock, or semaphore ticket: one Leasehold lease (two for a write lock or an upgradeable
/// read lock: the gate and the lock). Disposing it releases them. <see cref="HandleLostToken"/> fires when any of them
/// is lost (revoked by an administrator, expired because keep-alives could not get through, its session ended).
/// </summary>
public class LeaseholdDistributedLockHandle : IDistributedSynchronizationHandle
{
    private readonly Lock _gate = new();
    private readonly List<(LeaseHandle Lease, CancellationTokenRegistration Watch)> _leases = [];
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _disposing = new();
    private int _disposed;
    private long _fence;

    internal LeaseholdDistributedLockHandle(params LeaseHandle[] leases)
    {
        foreach (var lease in leases)
        {
            TryAdd(lease);
        }
    }

    /// <summary>
    /// Fires when the lock is, or may be, no longer held: a lease behind it was revoked, released by someone holding its
    /// token, or ended because keep-alives could not reach the server for as long as it lives (no later than the server
    /// could have ended it). Over <c>leasehold://</c> the server's push makes it fire at once. Its callbacks run on the
    /// thread pool, so one may dispose the handle synchronously. It does not fire on dispose; after dispose it throws
    /// <see cref="ObjectDisposedException"/>, as the family's handles do.
    /// </summary>
    public CancellationToken HandleLostToken
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _lost.Token;
        }
    }

    /// <summary>
    /// The fencing token of the lease on the name's own path (for an upgraded handle, of its write lease): larger than
    /// every one the server issued before. Pass it to the guarded system so that a stale holder's writes can be refused.
    /// </summary>
    public long Fence => Interlocked.Read(ref _fence);

    /// <summary>The ids of the leases behind the handle (the name's own path last); empty once disposed.</summary>
    public IReadOnlyList<long> LeaseIds
    {
        get
        {
            lock (_gate)
            {
                return [.. _leases.Select(l => l.Lease.Id)];
            }
        }
    }

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Fires when disposing starts: an upgrade under way stops waiting.</summary>
    internal CancellationToken DisposingToken => _disposing.Token;

    /// <summary>Adds a lease to the handle (losing it loses the handle); false when the handle is disposed already.</summary>
    internal bool TryAdd(LeaseHandle lease)
    {
        lock (_gate)
        {
            if (_disposed != 0)
            {
                return false;
            }
            // Registered under the lock: a lease lost already fires the handle at once, and DisposeAsync cannot miss it.
            var watch = lease.LostToken.Register(static state => ((LeaseholdDistributedLockHandle)state!).FireLost(), this);
            _leases.Add((lease, watch));
            Interlocked.Exchange(ref _fence, lease.Fence);
            return true;
        }
    }

    /// <summary>Takes the last lease out of the handle (its loss no longer counts) and releases it.</summary>
    internal async Task ReleaseLastAsync()
    {
        (LeaseHandle Lease, CancellationTokenRegistration Watch) last;
        lock (_gate)
        {
            if (_disposed != 0 || _leases.Count == 0)
            {
                return;
            }
            last = _leases[^1];
            _leases.RemoveAt(_leases.Count - 1);
        }
        await last.Watch.DisposeAsync().ConfigureAwait(false);
        await last.Lease.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Fires <see cref="HandleLostToken"/> from the thread pool, never on the caller's thread: over HTTP that thread is
    /// the lease's keep-alive loop, and a callback that disposes the handle synchronously (the usual reaction to a lost
    /// lock) waits for that loop to end, which would wait for the callback. The native push path does the same.
    /// </summary>
    internal void FireLost() => ThreadPool.QueueUserWorkItem(static self => self.CancelLost(), this, preferLocal: false);

    private void CancelLost()
    {
        if (IsDisposed)
        {
            // Disposed since: nobody is listening any more, and a disposed handle does not signal loss.
            return;
        }
        try
        {
            _lost.Cancel();
        }
        catch (AggregateException)
        {
            // A callback registered on HandleLostToken threw: its owner's business.
        }
        catch (ObjectDisposedException)
        {
            // Lost while being disposed: nobody is listening any more.
        }
    }

    /// <summary>Releases the leases, the name's own path first. Releasing one already gone is not an error.</summary>
    public async ValueTask DisposeAsync()
    {
        List<(LeaseHandle Lease, CancellationTokenRegistration Watch)> leases;
        lock (_gate)
        {
            if (_disposed != 0)
            {
                return;
            }
            _disposed = 1;
            leases = [.. _leases];
            _leases.Clear();
        }
        await _disposing.CancelAsync().ConfigureAwait(false);
        foreach (var (_, watch) in leases)
        {
            await watch.DisposeAsync().ConfigureAwait(false);
        }
        // The lock before its gate: whoever gets the gate next finds the lock free.
        for (var i = leases.Count - 1; i >= 0; i--)
        {
            await leases[i].Lease.DisposeAsync().ConfigureAwait(false);
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>As <see cref="DisposeAsync"/>, waited for.</summary>
    public void Dispose() => Acquisition.Wait(DisposeAsync());
}
