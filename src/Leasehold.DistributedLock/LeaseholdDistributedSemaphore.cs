using Leasehold.Client;
using Medallion.Threading;

namespace Leasehold.DistributedLock;

/// <summary>
/// A distributed semaphore on Leasehold: up to <see cref="MaxCount"/> holders at once, each an exclusive lease with
/// <c>limit: MaxCount</c> on <see cref="Path"/> (<c>{prefix}/semaphores/{name's segment}</c>). Tickets go to waiters
/// in the order they asked. Every holder of a name must agree on its <see cref="MaxCount"/>: while tickets are held
/// with another count, an acquire fails with a <see cref="LeaseholdException"/> whose <c>Code</c> is
/// <c>limit-mismatch</c>, at once.
/// </summary>
public sealed class LeaseholdDistributedSemaphore : IDistributedSemaphore
{
    /// <summary>The server's largest semaphore.</summary>
    public const int MaxMaxCount = 1_000_000;

    private readonly LeaseholdClient _client;
    private readonly LeaseholdDistributedLockOptions _options;

    /// <summary>A semaphore named <paramref name="name"/> (any string) of <paramref name="maxCount"/> tickets (1 … 1,000,000).</summary>
    public LeaseholdDistributedSemaphore(string name, int maxCount, LeaseholdClient client, LeaseholdDistributedLockOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxCount, MaxMaxCount);
        _client = client;
        _options = options ?? new LeaseholdDistributedLockOptions();
        Name = name;
        MaxCount = maxCount;
        Path = _options.PathOf("semaphores", name);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public int MaxCount { get; }

    /// <summary>The Leasehold path the tickets are held on.</summary>
    public string Path { get; }

    /// <summary>Tries to take a ticket, queueing for at most <paramref name="timeout"/> (zero: ask once); null when none was had in time.</summary>
    public async ValueTask<LeaseholdDistributedLockHandle?> TryAcquireAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default)
    {
        var request = AcquireOptions.ForPath(Path) with { Limit = MaxCount, Ttl = _options.Ttl, Owner = _options.Owner };
        var lease = await Acquisition.TryAcquireAsync(_client, request, Acquisition.Check(timeout), cancellationToken).ConfigureAwait(false);
        return lease is null ? null : new LeaseholdDistributedLockHandle(lease);
    }

    /// <summary>Takes a ticket, queueing for at most <paramref name="timeout"/> (null: for as long as it takes).</summary>
    /// <exception cref="TimeoutException">No ticket in time.</exception>
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

    IDistributedSynchronizationHandle? IDistributedSemaphore.TryAcquire(TimeSpan timeout, CancellationToken cancellationToken)
        => TryAcquire(timeout, cancellationToken);

    IDistributedSynchronizationHandle IDistributedSemaphore.Acquire(TimeSpan? timeout, CancellationToken cancellationToken)
        => Acquire(timeout, cancellationToken);

    async ValueTask<IDistributedSynchronizationHandle?> IDistributedSemaphore.TryAcquireAsync(TimeSpan timeout, CancellationToken cancellationToken)
        => await TryAcquireAsync(timeout, cancellationToken).ConfigureAwait(false);

    async ValueTask<IDistributedSynchronizationHandle> IDistributedSemaphore.AcquireAsync(TimeSpan? timeout, CancellationToken cancellationToken)
        => await AcquireAsync(timeout, cancellationToken).ConfigureAwait(false);
}
