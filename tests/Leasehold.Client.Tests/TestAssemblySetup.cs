using System.Runtime.CompilerServices;

namespace Leasehold.Client.Tests;

/// <summary>
/// The test host blocks thread-pool threads for the whole run (VSTest's message loop polls its socket
/// synchronously, the xUnit adapter waits for the assembly), and the pool starts with one worker per
/// core. On a two-core machine that leaves the in-process server and the clients without a free worker
/// until the pool injects more, about one a second: long enough for a one-second lease to expire
/// unrenewed. Start with enough workers that the tests measure the client, not the pool's warm-up.
/// </summary>
internal static class TestAssemblySetup
{
    [ModuleInitializer]
    internal static void RaiseMinimumThreads()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        var wanted = Math.Max(16, Environment.ProcessorCount * 4);
        ThreadPool.SetMinThreads(Math.Max(workers, wanted), Math.Max(io, wanted));
    }
}
