using System.Diagnostics;
using System.Globalization;
using Leasehold.Core;
using Leasehold.Storage;

namespace Leasehold.Bench;

/// <summary>
/// `--memory [count]`: holds <c>count</c> (default 1,000,000) exclusive leases on distinct paths
/// /m/{i / 1000}/{i} and prints the managed heap growth (GC.GetTotalMemory(true)) per lease, split into
/// the parsed paths and the engine's own structures (lease objects, tree nodes, indexes).
/// </summary>
internal static class MemoryMeasurement
{
    private const double MiB = 1024.0 * 1024.0;

    public static int Run(int count)
    {
        var baseline = GC.GetTotalMemory(forceFullCollection: true);

        var paths = new ResourcePath[count];
        for (var i = 0; i < count; i++)
        {
            paths[i] = BenchPaths.Parse(string.Create(CultureInfo.InvariantCulture, $"/m/{i / 1000}/{i}"));
        }
        var afterPaths = GC.GetTotalMemory(forceFullCollection: true);

        var engine = new LockEngine();
        var leaseIds = new long[count];
        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            // One command per lease, as the server builds one per request; the lease keeps its Paths array.
            var result = engine.Acquire(new AcquireLease
            {
                Paths = [paths[i]],
                Token = new UInt128((ulong)i * 0x9E37_79B9_7F4A_7C15, (ulong)i),
                Now = 1_000,
            });
            leaseIds[i] = result.Lease?.Id ?? throw new InvalidOperationException($"lease {i}: {result.Error} {result.Detail}");
        }
        stopwatch.Stop();
        var fillSeconds = stopwatch.Elapsed.TotalSeconds;
        var afterLeases = GC.GetTotalMemory(forceFullCollection: true);

        // The server captures and encodes a snapshot on its writer thread: requests wait meanwhile.
        stopwatch.Restart();
        var state = engine.Capture();
        var captureSeconds = stopwatch.Elapsed.TotalSeconds;
        var snapshot = SnapshotCodec.Encode(count, state);
        var snapshotSeconds = stopwatch.Elapsed.TotalSeconds;
        var snapshotBytes = snapshot.WrittenCount;
        snapshot = null;
        state = null;

        // The lease-id array is the benchmark's, not the engine's: take it out of the engine's share.
        var idArrayBytes = (long)count * sizeof(long);
        var pathBytes = afterPaths - baseline;
        var engineBytes = afterLeases - afterPaths - idArrayBytes;
        var totalBytes = pathBytes + engineBytes;

        var release = new ReleaseLease { Now = 1_000 };
        stopwatch.Restart();
        for (var i = 0; i < count; i++)
        {
            CommandFields.SetLeaseId(release, leaseIds[i]);
            var lease = engine.GetLease(leaseIds[i])!;
            var released = engine.Release(release with { Token = lease.Token });
            if (released.Error != ErrorCode.None)
            {
                throw new InvalidOperationException($"release {leaseIds[i]}: {released.Error}");
            }
        }
        stopwatch.Stop();
        var releaseSeconds = stopwatch.Elapsed.TotalSeconds;
        var afterRelease = GC.GetTotalMemory(forceFullCollection: true);

        var info = GC.GetGCMemoryInfo();
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"leases held:            {count:N0} (exclusive, one path each, depth 3, no owner, no ttl)"));
        Console.WriteLine(string.Create(inv, $"parsed paths:           {pathBytes / MiB,10:F1} MiB  {(double)pathBytes / count,7:F1} B/lease (ResourcePath, text, segments, array slot)"));
        Console.WriteLine(string.Create(inv, $"engine (leases, tree):  {engineBytes / MiB,10:F1} MiB  {(double)engineBytes / count,7:F1} B/lease"));
        Console.WriteLine(string.Create(inv, $"total:                  {totalBytes / MiB,10:F1} MiB  {(double)totalBytes / count,7:F1} B/lease"));
        Console.WriteLine(string.Create(inv, $"heap after releasing all (paths still referenced): {(afterRelease - baseline) / MiB:F1} MiB"));
        Console.WriteLine(string.Create(inv, $"snapshot: capture {captureSeconds * 1000:F0} ms + encode = {snapshotSeconds * 1000:F0} ms on the calling thread, {snapshotBytes / MiB:F1} MiB ({(double)snapshotBytes / count:F1} B/lease)"));
        Console.WriteLine(string.Create(inv, $"fill:    {fillSeconds:F2} s ({count / fillSeconds:N0} acquires/s, includes command allocation and GC)"));
        Console.WriteLine(string.Create(inv, $"release: {releaseSeconds:F2} s ({count / releaseSeconds:N0} releases/s, includes a copied command per release)"));
        Console.WriteLine(string.Create(inv, $"GC heap size after releasing all: {info.HeapSizeBytes / MiB:F1} MiB, GC mode {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}"));
        GC.KeepAlive(paths);
        GC.KeepAlive(engine);
        var target = 1L << 30;
        Console.WriteLine(totalBytes < target
            ? string.Create(inv, $"target 1M leases < 1 GiB: met ({totalBytes * 1_000_000.0 / count / MiB:F0} MiB per 1M)")
            : string.Create(inv, $"target 1M leases < 1 GiB: NOT met ({totalBytes * 1_000_000.0 / count / MiB:F0} MiB per 1M)"));
        return 0;
    }
}
