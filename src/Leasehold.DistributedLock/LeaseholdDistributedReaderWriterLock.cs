using System.Diagnostics;
using Leasehold.Client;
using Medallion.Threading;

namespace Leasehold.DistributedLock;

/// <summary>
/// A distributed reader-writer lock on Leasehold, with upgradeable read locks. Its name has two paths:
/// <see cref="Path"/> (<c>{prefix}/reader-writer-locks/{segment}</c>), held shared by readers and exclusive by a writer,
/// and <see cref="GatePath"/> (<c>{prefix}/upgrade-gates/{segment}</c>), held exclusive by a writer or an upgradeable
/// reader, which keeps those two kinds one at a time.
/// <list type="bullet">
/// <item>a read lock: <see cref="Path"/> shared (one lease);</item>
/// <item>a write lock: the gate, then <see cref="Path"/> exclusive (two leases, within one timeout);</item>
/// <item>an upgradeable read lock: the gate, then <see cref="Path"/> shared. Upgrading gives up the shared lease and
/// queues for the exclusive one. No writer can come in between, since every writer needs the gate first; other
/// readers may, and the upgrade waits for them to finish, while later readers queue behind it.</item>
/// </list>
/// Writer preference: a queued writer (or upgrade) blocks read locks asked after it (the server's queue lets no request
/// overtake an older conflicting one). Not reentrant.
/// </summary>
public sealed class LeaseholdDistributedReaderWriterLock : IDistributedUpgradeableReaderWriterLock
{
    private readonly LeaseholdClient _client;
    private readonly LeaseholdDistributedLockOptions _options;

    /// <summary>A reader-writer lock named <paramref name="name"/> (any string) on the server of <paramref name="client"/>.</summary>
    public LeaseholdDistributedReaderWriterLock(string name, LeaseholdClient client, LeaseholdDistributedLockOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _options = options ?? new LeaseholdDistributedLockOptions();
        Name = name;
        Path = _options.PathOf("reader-writer-locks", name);
        GatePath = _options.PathOf("upgrade-gates", name);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The path readers share and a writer holds exclusive.</summary>
    public string Path { get; }

    /// <summary>The path a writer or an upgradeable reader holds exclusive first.</summary>
    public string GatePath { get; }

    /// <summary>Tries to take a read lock, queueing for at most <paramref name="timeout"/> (zero: ask once); null when not granted in time.</summary>
    public async ValueTask<LeaseholdDistributedLockHandle?> TryAcquireReadLockAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default)
    {
        var lease = await Acquisition.TryAcquireAsync(_client, Read(), Acquisition.Check(timeout), cancellationToken).ConfigureAwait(false);
        return lease is null ? null : new LeaseholdDistributedLockHandle(lease);
    }

    /// <summary>Takes a read lock, queueing for at most <paramref name="timeout"/> (null: for as long as it takes).</summary>
    /// <exception cref="TimeoutException">Not granted in time.</exception>
    public async ValueTask<LeaseholdDistributedLockHandle> AcquireReadLockAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var wait = Acquisition.Check(timeout);
        return await TryAcquireReadLockAsync(wait, cancellationToken).ConfigureAwait(false) ?? throw Acquisition.TimedOut(this, Name, wait);
    }

    /// <summary>Tries to take the write lock, queueing for at most <paramref name="timeout"/> in all; null when not granted in time.</summary>
    public async ValueTask<LeaseholdDistributedLockHandle?> TryAcquireWriteLockAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default)
        => await TryAcquireGatedAsync(write: true, Acquisition.Check(timeout), cancellationToken).ConfigureAwait(false);

    /// <summary>Takes the write lock, queueing for at most <paramref name="timeout"/> in all (null: for as long as it takes).</summary>
    /// <exception cref="TimeoutException">Not granted in time.</exception>
    public async ValueTask<LeaseholdDistributedLockHandle> AcquireWriteLockAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var wait = Acquisition.Check(timeout);
        return await TryAcquireWriteLockAsync(wait, cancellationToken).ConfigureAwait(false) ?? throw Acquisition.TimedOut(this, Name, wait);
    }

    /// <summary>Tries to take an upgradeable read lock (compatible with readers, not with writers or another upgradeable reader).</summary>
    public async ValueTask<LeaseholdDistributedLockUpgradeableHandle?> TryAcquireUpgradeableReadLockAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default)
        => (LeaseholdDistributedLockUpgradeableHandle?)await TryAcquireGatedAsync(write: false, Acquisition.Check(timeout), cancellationToken).ConfigureAwait(false);

    /// <summary>Takes an upgradeable read lock, queueing for at most <paramref name="timeout"/> in all (null: for as long as it takes).</summary>
    /// <exception cref="TimeoutException">Not granted in time.</exception>
    public async ValueTask<LeaseholdDistributedLockUpgradeableHandle> AcquireUpgradeableReadLockAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var wait = Acquisition.Check(timeout);
        return await TryAcquireUpgradeableReadLockAsync(wait, cancellationToken).ConfigureAwait(false) ?? throw Acquisition.TimedOut(this, Name, wait);
    }

    /// <summary>The gate, then the lock (exclusive for a writer, shared for an upgradeable reader), within one timeout.</summary>
    private async Task<LeaseholdDistributedLockHandle?> TryAcquireGatedAsync(bool write, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var gate = await Acquisition.TryAcquireAsync(_client, Gate(), timeout, cancellationToken).ConfigureAwait(false);
        if (gate is null)
        {
            return null;
        }
        LeaseHandle? held = null;
        try
        {
            // Holding the gate, only readers can stand in the way: a writer's request waits for them to finish (and
            // readers asking later queue behind it); an upgradeable reader's is granted at once but for a drained path.
            held = await Acquisition.TryAcquireAsync(_client, write ? Write() : Read(), Acquisition.Remaining(timeout, started), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (held is null)
            {
                await gate.DisposeAsync().ConfigureAwait(false);
            }
        }
        return held is null ? null
            : write ? new LeaseholdDistributedLockHandle(gate, held)
            : new LeaseholdDistributedLockUpgradeableHandle(this, gate, held);
    }

    /// <summary>For an upgrade: the lock exclusive, by the holder of the gate.</summary>
    internal Task<LeaseHandle?> TryAcquireExclusiveAsync(TimeSpan timeout, CancellationToken cancellationToken)
        => Acquisition.TryAcquireAsync(_client, Write(), timeout, cancellationToken);

    /// <summary>
    /// After a failed upgrade: the shared lease again, by the holder of the gate (no other writer can hold or want the
    /// lock), waiting at most <paramref name="wait"/> for the upgrade's own request to leave the queue.
    /// </summary>
    internal Task<LeaseHandle?> TryAcquireSharedAsync(TimeSpan wait, CancellationToken cancellationToken)
        => Acquisition.TryAcquireAsync(_client, Read(), wait, cancellationToken);

    private AcquireOptions Read() => AcquireOptions.ForPath(Path) with { Shared = true, Ttl = _options.Ttl, Owner = _options.Owner };

    private AcquireOptions Write() => AcquireOptions.ForPath(Path) with { Ttl = _options.Ttl, Owner = _options.Owner };

    private AcquireOptions Gate() => AcquireOptions.ForPath(GatePath) with { Ttl = _options.Ttl, Owner = _options.Owner };

    /// <inheritdoc cref="TryAcquireReadLockAsync"/>
    public LeaseholdDistributedLockHandle? TryAcquireReadLock(TimeSpan timeout = default, CancellationToken cancellationToken = default)
        => Acquisition.Wait(TryAcquireReadLockAsync(timeout, cancellationToken));

    /// <inheritdoc cref="AcquireReadLockAsync"/>
    public LeaseholdDistributedLockHandle AcquireReadLock(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        => Acquisition.Wait(AcquireReadLockAsync(timeout, cancellationToken));

    /// <inheritdoc cref="TryAcquireWriteLockAsync"/>
    public LeaseholdDistributedLockHandle? TryAcquireWriteLock(TimeSpan timeout = default, CancellationToken cancellationToken = default)
        => Acquisition.Wait(TryAcquireWriteLockAsync(timeout, cancellationToken));

    /// <inheritdoc cref="AcquireWriteLockAsync"/>
    public LeaseholdDistributedLockHandle AcquireWriteLock(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        => Acquisition.Wait(AcquireWriteLockAsync(timeout, cancellationToken));

    /// <inheritdoc cref="TryAcquireUpgradeableReadLockAsync"/>
    public LeaseholdDistributedLockUpgradeableHandle? TryAcquireUpgradeableReadLock(TimeSpan timeout = default, CancellationToken cancellationToken = default)
        => Acquisition.Wait(TryAcquireUpgradeableReadLockAsync(timeout, cancellationToken));

    /// <inheritdoc cref="AcquireUpgradeableReadLockAsync"/>
    public LeaseholdDistributedLockUpgradeableHandle AcquireUpgradeableReadLock(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        => Acquisition.Wait(AcquireUpgradeableReadLockAsync(timeout, cancellationToken));

    IDistributedSynchronizationHandle? IDistributedReaderWriterLock.TryAcquireReadLock(TimeSpan timeout, CancellationToken cancellationToken)
        => TryAcquireReadLock(timeout, cancellationToken);

    IDistributedSynchronizationHandle IDistributedReaderWriterLock.AcquireReadLock(TimeSpan? timeout, CancellationToken cancellationToken)
        => AcquireReadLock(timeout, cancellationToken);

    async ValueTask<IDistributedSynchronizationHandle?> IDistributedReaderWriterLock.TryAcquireReadLockAsync(TimeSpan timeout, CancellationToken cancellationToken)
        => await TryAcquireReadLockAsync(timeout, cancellationToken).ConfigureAwait(false);

    async ValueTask<IDistributedSynchronizationHandle> IDistributedReaderWriterLock.AcquireReadLockAsync(TimeSpan? timeout, CancellationToken cancellationToken)
        => await AcquireReadLockAsync(timeout, cancellationToken).ConfigureAwait(false);

    IDistributedSynchronizationHandle? IDistributedReaderWriterLock.TryAcquireWriteLock(TimeSpan timeout, CancellationToken cancellationToken)
        => TryAcquireWriteLock(timeout, cancellationToken);

    IDistributedSynchronizationHandle IDistributedReaderWriterLock.AcquireWriteLock(TimeSpan? timeout, CancellationToken cancellationToken)
        => AcquireWriteLock(timeout, cancellationToken);

    async ValueTask<IDistributedSynchronizationHandle?> IDistributedReaderWriterLock.TryAcquireWriteLockAsync(TimeSpan timeout, CancellationToken cancellationToken)
        => await TryAcquireWriteLockAsync(timeout, cancellationToken).ConfigureAwait(false);

    async ValueTask<IDistributedSynchronizationHandle> IDistributedReaderWriterLock.AcquireWriteLockAsync(TimeSpan? timeout, CancellationToken cancellationToken)
        => await AcquireWriteLockAsync(timeout, cancellationToken).ConfigureAwait(false);

    IDistributedLockUpgradeableHandle? IDistributedUpgradeableReaderWriterLock.TryAcquireUpgradeableReadLock(TimeSpan timeout, CancellationToken cancellationToken)
        => TryAcquireUpgradeableReadLock(timeout, cancellationToken);

    IDistributedLockUpgradeableHandle IDistributedUpgradeableReaderWriterLock.AcquireUpgradeableReadLock(TimeSpan? timeout, CancellationToken cancellationToken)
        => AcquireUpgradeableReadLock(timeout, cancellationToken);

    async ValueTask<IDistributedLockUpgradeableHandle?> IDistributedUpgradeableReaderWriterLock.TryAcquireUpgradeableReadLockAsync(TimeSpan timeout, CancellationToken cancellationToken)
        => await TryAcquireUpgradeableReadLockAsync(timeout, cancellationToken).ConfigureAwait(false);

    async ValueTask<IDistributedLockUpgradeableHandle> IDistributedUpgradeableReaderWriterLock.AcquireUpgradeableReadLockAsync(TimeSpan? timeout, CancellationToken cancellationToken)
        => await AcquireUpgradeableReadLockAsync(timeout, cancellationToken).ConfigureAwait(false);
}
