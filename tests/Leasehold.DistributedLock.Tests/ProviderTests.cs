using Leasehold.Client;
using Medallion.Threading;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.DistributedLock.Tests;

/// <summary>The provider in place of another one, as code written against DistributedLock.Core's providers sees it.</summary>
public sealed class ProviderTests : LockTestBase
{
    protected override Transport Transport => Transport.Native;

    [Fact]
    public async Task Registered_as_the_providers_it_serves_code_written_against_the_family()
    {
        var services = new ServiceCollection();
        services.AddLeaseholdClient(o => o.Server = Server.NativeAddress);
        services.AddSingleton(sp => new LeaseholdDistributedSynchronizationProvider(sp.GetRequiredService<LeaseholdClient>()));
        services.AddSingleton<IDistributedLockProvider>(sp => sp.GetRequiredService<LeaseholdDistributedSynchronizationProvider>());
        services.AddSingleton<IDistributedUpgradeableReaderWriterLockProvider>(sp => sp.GetRequiredService<LeaseholdDistributedSynchronizationProvider>());
        services.AddSingleton<IDistributedSemaphoreProvider>(sp => sp.GetRequiredService<LeaseholdDistributedSynchronizationProvider>());
        await using var provider = services.BuildServiceProvider();

        var locks = provider.GetRequiredService<IDistributedLockProvider>();
        await using (var handle = await locks.AcquireLockAsync("from-di", TimeSpan.FromSeconds(5)))
        {
            Assert.Null(await locks.TryAcquireLockAsync("from-di"));
        }
        await using (var all = await locks.AcquireAllLocksAsync(["one", "two"], TimeSpan.FromSeconds(5)))
        {
            Assert.Null(await locks.TryAcquireLockAsync("two"));
        }
        var rw = provider.GetRequiredService<IDistributedUpgradeableReaderWriterLockProvider>();
        await using (var upgradeable = await rw.AcquireUpgradeableReadLockAsync("from-di"))
        {
            await upgradeable.UpgradeToWriteLockAsync(TimeSpan.FromSeconds(5));
            Assert.Null(await rw.TryAcquireReadLockAsync("from-di"));
        }
        var semaphores = provider.GetRequiredService<IDistributedSemaphoreProvider>();
        await using var ticket = await semaphores.AcquireSemaphoreAsync("from-di", 1, TimeSpan.FromSeconds(5));
        Assert.Null(await semaphores.TryAcquireSemaphoreAsync("from-di", 1));
    }
}
