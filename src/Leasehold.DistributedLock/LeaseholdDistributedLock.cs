using Leasehold.Client;
using Medallion.Threading;

namespace Leasehold.DistributedLock;

/// <summary>
/// A distributed mutex on Leasehold: an exclusive lease on <see cref="Path"/> (<c>{prefix}/locks/{name's segment}</c>).
/// Not reentrant: a second acquire, even from the same process or the same object, waits like anyone else's. The object
/// holds no state of its own: share it, or make another with the same name, as you like.
/// </summary>
/// <example>
/// <code>
/// var lease = new LeaseholdDistributedLock("nightly-report", client);
/// await using (var handle = await lease.TryAcquireAsync(TimeSpan.FromSeconds(5)))
/// {
///     if (handle is not null) { /* we hold it; stop if handle.HandleLostToken fires */ }
/// }
/// </code>
/// </example>
public sealed class LeaseholdDistributedLock : IDistributedLock
{
    private readonly LeaseholdClient _client;
    private readonly LeaseholdDistributedLockOptions _options;

    /// <summary>A lock named <paramref name="name"/> (any string) on the server of <paramref name="client"/>.</summary>
    public LeaseholdDistributedLock(string name, LeaseholdClient client, LeaseholdDistributedLockOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _options = options ?? new LeaseholdDistributedLockOptions();
        Name = name;
        Path = _options.PathOf("locks", name);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The Leasehold path the lock is held on.</summary>
    public string Path { get; }

    /// <summary>
    /// Tries to acquire the lock, queueing on the server for at most <paramref name="timeout"/> (zero, the default, asks
    /// once and never waits; <see cref="Timeout.InfiniteTimeSpan"/> waits for as long as it takes). Null when not
    /// granted in time. Cancelling <paramref name="cancellationToken"/> withdraws the request and, with sessions (no
    /// <see cref="LeaseholdDistributedLockOptions.Ttl"/>), leaves no lease behind; with a ttl a lease granted as the request
    /// was cancelled stays held until its ttl runs out.
    /// </summary>
    public async ValueTask<LeaseholdDistributedLockHandle?> TryAcquireAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default)
    {
        var lease = await Acquisition.TryAcquireAsync(_client, Request(), Acquisition.Check(timeout), cancellationToken).ConfigureAwait(false);
        return lease is null ? null : new LeaseholdDistributedLockHandle(lease);
    }

    /// <summary>
    /// Acquires the lock, queueing for at most <paramref name="timeout"/> (null, the default: for as long as it takes).
    /// </summary>
    /// <exception cref="TimeoutException">Not granted in time.</exception>
    public async ValueTask<LeaseholdDistributedLockHandle> AcquireAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var wait = Acquisition.Check(timeout);
        return await TryAcquireAsync(wait, cancellationToken).ConfigureAwait(false)
            ?? throw Acquisition.TimedOut(this, Name, wait);
    }

    /// <inheritdoc cref="TryAcquireAsync"/>
    public LeaseholdDistributedLockHandle? TryAcquire(TimeSpan timeout = default, CancellationToken cancellationToken = default)
        => Acquisition.Wait(TryAcquireAsync(timeout, cancellationToken));

    /// <inheritdoc cref="AcquireAsync"/>
    public LeaseholdDistributedLockHandle Acquire(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        => Acquisition.Wait(AcquireAsync(timeout, cancellationToken));

    IDistributedSynchronizationHandle? IDistributedLock.TryAcquire(TimeSpan timeout, CancellationToken cancellationToken)
        => TryAcquire(timeout, cancellationToken);

    IDistributedSynchronizationHandle IDistributedLock.Acquire(TimeSpan? timeout, CancellationToken cancellationToken)
        => Acquire(timeout, cancellationToken);

    async ValueTask<IDistributedSynchronizationHandle?> IDistributedLock.TryAcquireAsync(TimeSpan timeout, CancellationToken cancellationToken)
        => await TryAcquireAsync(timeout, cancellationToken).ConfigureAwait(false);

    async ValueTask<IDistributedSynchronizationHandle> IDistributedLock.AcquireAsync(TimeSpan? timeout, CancellationToken cancellationToken)
        => await AcquireAsync(timeout, cancellationToken).ConfigureAwait(false);

    private AcquireOptions Request() => AcquireOptions.ForPath(Path) with { Ttl = _options.Ttl, Owner = _options.Owner };
}
