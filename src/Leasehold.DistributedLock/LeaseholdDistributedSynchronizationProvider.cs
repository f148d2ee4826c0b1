using Leasehold.Client;
using Medallion.Threading;

namespace Leasehold.DistributedLock;

/// <summary>
/// Makes Leasehold locks, reader-writer locks and semaphores by name, for code written against DistributedLock.Core's
/// providers: register it in place of another provider and nothing else changes.
/// </summary>
/// <example>
/// <code>
/// services.AddLeaseholdClient(o => o.Server = new Uri("leasehold://locks.internal:8766"));
/// services.AddSingleton(sp => new LeaseholdDistributedSynchronizationProvider(sp.GetRequiredService&lt;LeaseholdClient&gt;()));
/// services.AddSingleton&lt;IDistributedLockProvider&gt;(sp => sp.GetRequiredService&lt;LeaseholdDistributedSynchronizationProvider&gt;());
/// </code>
/// </example>
public sealed class LeaseholdDistributedSynchronizationProvider : IDistributedLockProvider, IDistributedUpgradeableReaderWriterLockProvider, IDistributedSemaphoreProvider
{
    private readonly LeaseholdClient _client;
    private readonly LeaseholdDistributedLockOptions _options;

    /// <summary>A provider whose locks are held on the server of <paramref name="client"/>, as <paramref name="options"/> say.</summary>
    public LeaseholdDistributedSynchronizationProvider(LeaseholdClient client, LeaseholdDistributedLockOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _options = options ?? new LeaseholdDistributedLockOptions();
        // A bad prefix is told now, not at the first lock.
        _ = _options.PathOf("locks", string.Empty);
    }

    /// <summary>A lock named <paramref name="name"/>.</summary>
    public LeaseholdDistributedLock CreateLock(string name) => new(name, _client, _options);

    /// <summary>A reader-writer lock named <paramref name="name"/> (upgradeable).</summary>
    public LeaseholdDistributedReaderWriterLock CreateReaderWriterLock(string name) => new(name, _client, _options);

    /// <summary>A semaphore named <paramref name="name"/> of <paramref name="maxCount"/> tickets.</summary>
    public LeaseholdDistributedSemaphore CreateSemaphore(string name, int maxCount) => new(name, maxCount, _client, _options);

    IDistributedLock IDistributedLockProvider.CreateLock(string name) => CreateLock(name);

    IDistributedReaderWriterLock IDistributedReaderWriterLockProvider.CreateReaderWriterLock(string name) => CreateReaderWriterLock(name);

    IDistributedUpgradeableReaderWriterLock IDistributedUpgradeableReaderWriterLockProvider.CreateUpgradeableReaderWriterLock(string name) => CreateReaderWriterLock(name);

    IDistributedSemaphore IDistributedSemaphoreProvider.CreateSemaphore(string name, int maxCount) => CreateSemaphore(name, maxCount);
}
