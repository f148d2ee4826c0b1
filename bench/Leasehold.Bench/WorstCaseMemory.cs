using System.Globalization;
using Leasehold.Core;

namespace Leasehold.Bench;

/// <summary>
/// `--memory-worst [count]`: what the most expensive leases a client may ask for cost, for the quotas' worst
/// cases (docs/security.md): leases of 64 paths 32 levels deep (the most tree nodes one request can make), and
/// leases of paths with 2,048 characters together (Leasehold:Limits:MaxPathCharsPerLease) on shared nodes.
/// </summary>
internal static class WorstCaseMemory
{
    public static int Run(int count)
    {
        var inv = CultureInfo.InvariantCulture;
        var deep = string.Join("/", Enumerable.Range(0, 31).Select(_ => "s"));
        var (deepBytes, deepNodes) = Measure(count, i => [.. Enumerable.Range(0, 64).Select(j => BenchPaths.Parse($"/{i}-{j}/{deep}"))]);
        Console.WriteLine(string.Create(inv, $"64 paths 32 deep:      {deepBytes / count:N0} B per lease, {deepNodes / count:N0} tree nodes per lease, {deepBytes / deepNodes:N0} B per node"));
        // Eight paths of 255 characters on the same nodes for every lease: the text is the lease's own.
        var segment = new string('x', 254);
        var (wideBytes, wideNodes) = Measure(count, _ => [.. Enumerable.Range(0, 8).Select(j => BenchPaths.Parse($"/{j}{segment}"))]);
        Console.WriteLine(string.Create(inv, $"2,048 path characters: {wideBytes / count:N0} B per lease (tree nodes: {wideNodes:N0} in all, shared)"));
        return 0;
    }

    private static (long Bytes, long Nodes) Measure(int count, Func<int, ResourcePath[]> paths)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var engine = new LockEngine();
        for (var i = 0; i < count; i++)
        {
            var result = engine.Acquire(new AcquireLease { Paths = paths(i), Mode = LockMode.Shared, Token = (UInt128)(i + 1), Now = 1_000 });
            _ = result.Lease ?? throw new InvalidOperationException($"lease {i}: {result.Error} {result.Detail}");
        }
        var bytes = GC.GetTotalMemory(forceFullCollection: true) - before;
        var nodes = engine.TreeNodes;
        GC.KeepAlive(engine);
        return (bytes, nodes);
    }
}
