using System.Runtime.CompilerServices;

namespace Leasehold.DistributedLock.Tests;

/// <summary>
/// The test host blocks thread-pool threads for the whole run and the pool starts with one worker per core; on a
/// two-core machine the in-process server, its clients and the family's synchronous calls (which block a thread while
/// they wait) would queue behind the pool's warm-up. Start with enough workers that the tests measure the locks.
/// </summary>
internal static class TestAssemblySetup
{
    [ModuleInitializer]
    internal static void RaiseMinimumThreads()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        var wanted = Math.Max(32, Environment.ProcessorCount * 8);
        ThreadPool.SetMinThreads(Math.Max(workers, wanted), Math.Max(io, wanted));
    }
}
