using Leasehold.Client;
using Medallion.Threading;

namespace Leasehold.DistributedLock;

/// <summary>
/// An upgradeable read lock: the gate and a shared lease on the lock's path. Upgrading gives up the shared lease and
/// queues for the exclusive one; holding the gate, no writer can come in between (see
/// <see cref="LeaseholdDistributedReaderWriterLock"/>). An upgrade that times out or is cancelled takes the shared
/// lease again, so the handle is an upgradeable read lock as before; should even that fail, <see
/// cref="LeaseholdDistributedLockHandle.HandleLostToken"/> fires.
/// </summary>
public sealed class LeaseholdDistributedLockUpgradeableHandle : LeaseholdDistributedLockHandle, IDistributedLockUpgradeableHandle
{
    private readonly LeaseholdDistributedReaderWriterLock _lock;
    private int _state; // 0: read, 1: upgrading, 2: upgraded

    internal LeaseholdDistributedLockUpgradeableHandle(LeaseholdDistributedReaderWriterLock owner, LeaseHandle gate, LeaseHandle read)
        : base(gate, read)
    {
        _lock = owner;
    }

    /// <summary>Whether the handle holds the write lock now.</summary>
    public bool IsUpgraded => Volatile.Read(ref _state) == 2;

    /// <summary>
    /// Tries to upgrade to the write lock, waiting at most <paramref name="timeout"/> (zero: only if no reader holds the
    /// lock now) for the readers to finish; false when they did not. The handle stays an upgradeable read lock then.
    /// </summary>
    /// <exception cref="InvalidOperationException">The handle is upgraded already, or an upgrade is under way.</exception>
    /// <exception cref="ObjectDisposedException">The handle is disposed.</exception>
    public async ValueTask<bool> TryUpgradeToWriteLockAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default)
    {
        var wait = Acquisition.Check(timeout);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        switch (Interlocked.CompareExchange(ref _state, 1, 0))
        {
            case 1:
                throw new InvalidOperationException("an upgrade of this handle is under way");
            case 2:
                throw new InvalidOperationException("the handle is upgraded already");
        }
        var upgraded = false;
        try
        {
            // The shared lease goes first: the server cannot turn it into an exclusive one, and it would block our own request.
            await ReleaseLastAsync().ConfigureAwait(false);
            LeaseHandle? write = null;
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, DisposingToken);
            try
            {
                write = await _lock.TryAcquireExclusiveAsync(wait, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ObjectDisposedException(GetType().FullName);
            }
            finally
            {
                if (write is null)
                {
                    await RestoreReadAsync().ConfigureAwait(false);
                }
            }
            if (write is null)
            {
                return false;
            }
            if (!TryAdd(write))
            {
                // Disposed while upgrading: nobody holds this handle any more.
                await write.DisposeAsync().ConfigureAwait(false);
                throw new ObjectDisposedException(GetType().FullName);
            }
            upgraded = true;
            return true;
        }
        finally
        {
            Volatile.Write(ref _state, upgraded ? 2 : 0);
        }
    }

    /// <summary>Upgrades to the write lock, waiting at most <paramref name="timeout"/> (null: for as long as it takes).</summary>
    /// <exception cref="TimeoutException">The readers did not finish in time; the handle stays an upgradeable read lock.</exception>
    public async ValueTask UpgradeToWriteLockAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var wait = Acquisition.Check(timeout);
        if (!await TryUpgradeToWriteLockAsync(wait, cancellationToken).ConfigureAwait(false))
        {
            throw Acquisition.TimedOut(_lock, _lock.Name, wait);
        }
    }

    /// <inheritdoc cref="TryUpgradeToWriteLockAsync"/>
    public bool TryUpgradeToWriteLock(TimeSpan timeout = default, CancellationToken cancellationToken = default)
        => Acquisition.Wait(TryUpgradeToWriteLockAsync(timeout, cancellationToken));

    /// <inheritdoc cref="UpgradeToWriteLockAsync"/>
    public void UpgradeToWriteLock(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        => Acquisition.Wait(UpgradeToWriteLockAsync(timeout, cancellationToken));

    /// <summary>
    /// How long taking the shared lease again may wait. A cancelled upgrade's exclusive request can still be queued: with a
    /// session the server ends it when the session is closed, which comes first; with a <c>Ttl</c> over HTTP, only when the
    /// server notices the closed connection, and a shared request asked at once would be refused behind it.
    /// </summary>
    private static readonly TimeSpan RestoreWait = TimeSpan.FromSeconds(5);

    /// <summary>After an upgrade that did not happen: the shared lease again. Only a drained path, an unreachable server, or
    /// the upgrade's own request still queued (or granted as it was cancelled, with a <c>Ttl</c>) after <see cref="RestoreWait"/> refuses it.</summary>
    private async Task RestoreReadAsync()
    {
        LeaseHandle? read = null;
        try
        {
            read = await _lock.TryAcquireSharedAsync(RestoreWait, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is LeaseholdException or HttpRequestException)
        {
            // Below: the read lock is gone.
        }
        if (read is null)
        {
            FireLost();
        }
        else if (!TryAdd(read))
        {
            await read.DisposeAsync().ConfigureAwait(false);
        }
    }
}
