using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;
using Leasehold.Core;
using Leasehold.Server.Engine;
using Leasehold.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Leasehold.Bench;

/// <summary>
/// `--snapshot-pause [leases] [seconds] [fsync|interval] [snapshotEvery] [clients]`: how long requests wait
/// while the server snapshots a large state. Builds a data directory holding <c>leases</c> (default 1,000,000)
/// held leases (logged as the server logs them, then a snapshot, so that opening it is quick), opens it as the
/// server does (<see cref="DataStore.Open"/>, then the real <see cref="EngineHost"/>: writer, flusher, snapshots)
/// and runs <c>clients</c> (16) closed loops of acquire + release on paths of their own through
/// <see cref="EngineHost.ExecuteAsync{T}"/>, for 2 s of warm-up and <c>seconds</c> (20) measured. Every request's
/// wait (sent to answered, durable under the policy) is recorded. Run once with snapshots every
/// <c>snapshotEvery</c> records (100,000, the server's default) and once with none (0), the difference is
/// what snapshots cost requests. Snapshots are seen from outside, as new <c>snapshot-*.snap</c> files, so the
/// measurement runs unchanged against any version of the host.
/// </summary>
internal static class SnapshotPauseMeasurement
{
    private const long HourMs = 3_600_000;

    public static int Run(string[] args)
    {
        var inv = CultureInfo.InvariantCulture;
        var leases = args.Length > 0 ? int.Parse(args[0], inv) : 1_000_000;
        var seconds = args.Length > 1 ? double.Parse(args[1], inv) : 20;
        var policy = args.Length > 2 && args[2] == "interval" ? FlushPolicy.Interval : FlushPolicy.Fsync;
        var snapshotEvery = args.Length > 3 ? long.Parse(args[3], inv) : 100_000;
        var clients = args.Length > 4 ? int.Parse(args[4], inv) : 16;
        var dir = Directory.CreateTempSubdirectory("leasehold-snapshot-pause-");
        try
        {
            var clock = Stopwatch.StartNew();
            Fill(dir.FullName, leases);
            Console.WriteLine(string.Create(inv, $"{leases:N0} leases held, logged and snapshotted in {clock.Elapsed.TotalSeconds:F1} s"));
            Console.WriteLine(string.Create(inv, $"GC: {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}, concurrent {System.Runtime.GCSettings.LatencyMode}; policy {policy}; snapshot every {(snapshotEvery == 0 ? "never" : snapshotEvery.ToString("N0", inv))} records; {clients} clients; {Environment.ProcessorCount} cores"));
            return Measure(dir.FullName, leases, TimeSpan.FromSeconds(seconds), policy, snapshotEvery, clients).GetAwaiter().GetResult();
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Holds <paramref name="leases"/> leases on /m/{i / 1000}/{i} (half with a ttl of an hour), logged, then snapshotted.</summary>
    private static void Fill(string dir, int leases)
    {
        using var store = DataStore.Open(dir);
        var engine = store.Engine;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var batch = new LogBuffer();
        for (var i = 0; i < leases; i++)
        {
            var acquire = new AcquireLease
            {
                Now = now,
                Paths = [BenchPaths.Parse(string.Create(CultureInfo.InvariantCulture, $"/m/{i / 1000}/{i}"))],
                Token = new UInt128((ulong)i * 0x9E37_79B9_7F4A_7C15, (ulong)i),
                TtlMs = i % 2 == 0 ? HourMs : 0,
            };
            _ = engine.Acquire(acquire).Lease ?? throw new InvalidOperationException($"acquire {i} not granted");
            batch.Append(store.NextIndex++, acquire);
            if (batch.Records == 10_000)
            {
                store.Write(batch);
                batch.Dispose();
                batch = new LogBuffer();
            }
        }
        if (batch.Records > 0)
        {
            store.Write(batch);
        }
        batch.Dispose();
        store.Sync();
        var index = store.NextIndex - 1;
        store.CutAt(index);
        store.WriteSnapshot(index, SnapshotCodec.Encode(index, engine.Capture()).WrittenSpan);
    }

    private static async Task<int> Measure(string dir, int leases, TimeSpan measured, FlushPolicy policy, long snapshotEvery, int clients)
    {
        var inv = CultureInfo.InvariantCulture;
        var warmup = TimeSpan.FromSeconds(2);
        var opened = Stopwatch.StartNew();
        var store = DataStore.Open(dir);
        var durability = new DurabilityOptions { Policy = policy, SnapshotEvery = snapshotEvery == 0 ? long.MaxValue : snapshotEvery };
        var host = new EngineHost(store.Engine, store, durability, TimeProvider.System, NullLogger<EngineHost>.Instance);
        // As the server does when it starts: the flusher runs from here on.
        host.Start();
        var held = await host.ExecuteAsync(w => w.Engine.Leases.Count).ConfigureAwait(false);
        Console.WriteLine(string.Create(inv, $"opened (snapshot load + host start) in {opened.Elapsed.TotalSeconds:F2} s, {held:N0} leases"));

        using var gcPauses = new GcPauses();
        var snapshots = new List<(double At, string Name)>();
        var known = new HashSet<string>(Directory.EnumerateFiles(dir, "snapshot-*.snap").Select(Path.GetFileName)!);
        var clock = Stopwatch.StartNew();
        gcPauses.Origin = DateTime.UtcNow;
        var end = warmup + measured;
        using var stop = new CancellationTokenSource();
        var writing = new List<(double From, double To)>();
        var watcher = Task.Run(async () =>
        {
            // New snapshot files, as they appear, and the spans during which a snapshot's temporary file exists (from
            // the moment the file is created to its rename: with snapshots off the writer, capture, encoding and
            // writing all fall inside; a writer that captures and encodes itself pauses before the file exists).
            // Polled every 2 ms.
            double? since = null;
            while (!stop.IsCancellationRequested)
            {
                var now = clock.Elapsed.TotalMilliseconds;
                var tmp = false;
                foreach (var name in Directory.EnumerateFiles(dir, "snapshot-*").Select(Path.GetFileName))
                {
                    if (name!.EndsWith(".tmp", StringComparison.Ordinal))
                    {
                        tmp = true;
                    }
                    else if (known.Add(name))
                    {
                        lock (snapshots)
                        {
                            snapshots.Add((now, name));
                        }
                    }
                }
                if (tmp && since is null)
                {
                    since = now;
                }
                else if (!tmp && since is { } from)
                {
                    lock (writing)
                    {
                        writing.Add((from, now));
                    }
                    since = null;
                }
                await Task.Delay(2).ConfigureAwait(false);
            }
        });
        var gcPauseBefore = TimeSpan.Zero;
        var gcBefore = new int[3];
        var marker = Task.Run(async () =>
        {
            // Marks the measured window's start for the GC counters.
            await Task.Delay(warmup).ConfigureAwait(false);
            gcPauseBefore = GC.GetTotalPauseDuration();
            for (var g = 0; g < 3; g++)
            {
                gcBefore[g] = GC.CollectionCount(g);
            }
        });
        var results = await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var waits = new List<(double At, double Ms)>(1 << 16);
            var path = BenchPaths.Parse(string.Create(CultureInfo.InvariantCulture, $"/load/c{c}"));
            var token = new UInt128(0xC11E_0000, (ulong)c);
            while (clock.Elapsed < end)
            {
                var start = clock.Elapsed;
                var lease = await host.ExecuteAsync(w => w.Run(new AcquireLease { Now = w.Now, Paths = [path], Token = token }, (e, cmd) => e.Acquire(cmd)).Lease!).ConfigureAwait(false);
                var middle = clock.Elapsed;
                await host.ExecuteAsync(w => w.Release(lease)).ConfigureAwait(false);
                var done = clock.Elapsed;
                if (start >= warmup && done <= end)
                {
                    waits.Add((start.TotalMilliseconds, (middle - start).TotalMilliseconds));
                    waits.Add((middle.TotalMilliseconds, (done - middle).TotalMilliseconds));
                }
            }
            return waits;
        }))).ConfigureAwait(false);
        await marker.ConfigureAwait(false);
        var gcPause = GC.GetTotalPauseDuration() - gcPauseBefore;
        var gcs = Enumerable.Range(0, 3).Select(g => GC.CollectionCount(g) - gcBefore[g]).ToArray();
        // Let a snapshot in progress finish, so it is counted.
        using (var settle = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            await Task.Delay(TimeSpan.FromSeconds(3), settle.Token).ConfigureAwait(false);
        }
        await stop.CancelAsync().ConfigureAwait(false);
        await watcher.ConfigureAwait(false);
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        await host.DisposeAsync().ConfigureAwait(false);

        var all = results.SelectMany(r => r).ToList();
        var sorted = all.Select(w => w.Ms).Order().ToArray();
        double Pct(double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        var inWindow = snapshots.Where(s => s.At >= warmup.TotalMilliseconds && s.At <= end.TotalMilliseconds + 3000).ToList();
        Console.WriteLine(string.Create(inv,
            $"requests: {sorted.Length:N0} in {measured.TotalSeconds:F0} s = {sorted.Length / measured.TotalSeconds:N0}/s; wait p50 {Pct(0.50):F2} ms, p99 {Pct(0.99):F2} ms, p99.9 {Pct(0.999):F2} ms, max {sorted[^1]:F2} ms; over 10 ms: {sorted.Count(ms => ms > 10):N0}"));
        Console.WriteLine(string.Create(inv,
            $"snapshots finished in the window: {inWindow.Count} ({string.Join(", ", inWindow.Select(s => $"{s.Name} at {(s.At - warmup.TotalMilliseconds) / 1000:F2} s"))})"));
        Console.WriteLine(string.Create(inv,
            $"GC in the window: {gcs[0]} gen0, {gcs[1]} gen1, {gcs[2]} gen2 collections, {gcPause.TotalMilliseconds:F0} ms paused in all; heap after (full GC) {heap / (1024.0 * 1024.0):F0} MiB"));
        // Requests whose wait overlapped a span in which a snapshot file was being written.
        var during = all.Where(w => writing.Any(x => w.At <= x.To && w.At + w.Ms >= x.From)).Select(w => w.Ms).Order().ToArray();
        if (during.Length > 0)
        {
            double During(double p) => during[Math.Min(during.Length - 1, (int)Math.Ceiling(p * during.Length) - 1)];
            Console.WriteLine(string.Create(inv,
                $"while a snapshot file was being written ({writing.Count} spans, {writing.Sum(x => x.To - x.From) / 1000:F2} s in all): {during.Length:N0} requests, wait p50 {During(0.50):F2} ms, p99 {During(0.99):F2} ms, max {during[^1]:F2} ms"));
        }
        var pauses = gcPauses.Taken().Where(p => p.At >= warmup.TotalMilliseconds && p.At <= end.TotalMilliseconds).ToList();
        Console.WriteLine(string.Create(inv,
            $"GC pauses in the window (runtime events): {pauses.Count}, longest {string.Join(", ", pauses.OrderByDescending(p => p.Ms).Take(5).Select(p => $"{p.Ms:F1} ms (gen{p.Gen} {GcPauses.TypeName(p.Type)}) at {(p.At - warmup.TotalMilliseconds) / 1000:F2} s"))}"));
        foreach (var (at, ms) in all.OrderByDescending(w => w.Ms).DistinctBy(w => Math.Round(w.Ms, 1)).Take(5))
        {
            var nearest = snapshots.Count == 0 ? "" : string.Create(inv, $"; nearest snapshot finished {(snapshots.MinBy(s => Math.Abs(s.At - at)).At - at) / 1000:+0.00;-0.00} s away");
            Console.WriteLine(string.Create(inv, $"  slow: {ms:F2} ms, sent at {(at - warmup.TotalMilliseconds) / 1000:F2} s{nearest}"));
        }
        Console.WriteLine(string.Create(inv,
            $"SUMMARY\t{leases}\t{policy}\t{snapshotEvery}\t{clients}\t{sorted.Length / measured.TotalSeconds:F0}\t{Pct(0.50):F2}\t{Pct(0.99):F2}\t{Pct(0.999):F2}\t{sorted[^1]:F2}\t{inWindow.Count}"));
        return 0;
    }

    /// <summary>Every pause of the runtime for a GC (suspension begun to threads restarted), from the runtime's own events.</summary>
    private sealed class GcPauses : EventListener
    {
        private readonly List<(double At, double Ms, int Gen, int Type)> _pauses = [];
        private DateTime _suspended;
        private int _gen = -1;
        private int _type;

        public DateTime Origin { get; set; } = DateTime.UtcNow;

        public List<(double At, double Ms, int Gen, int Type)> Taken()
        {
            lock (_pauses)
            {
                return [.. _pauses];
            }
        }

        public static string TypeName(int type) => type switch { 0 => "blocking", 1 => "background", 2 => "foreground during a background GC", _ => "?" };

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Informational, (EventKeywords)1);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            switch (e.EventName)
            {
                case "GCSuspendEEBegin_V1":
                    _suspended = e.TimeStamp;
                    break;
                case "GCStart_V2":
                    _gen = Convert.ToInt32(e.Payload![1], CultureInfo.InvariantCulture);
                    _type = Convert.ToInt32(e.Payload![3], CultureInfo.InvariantCulture);
                    break;
                case "GCRestartEEEnd_V1" when _suspended != default:
                    lock (_pauses)
                    {
                        _pauses.Add(((_suspended - Origin).TotalMilliseconds, (e.TimeStamp - _suspended).TotalMilliseconds, _gen, _type));
                    }
                    _suspended = default;
                    break;
            }
        }
    }
}
