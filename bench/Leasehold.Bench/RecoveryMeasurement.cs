using System.Diagnostics;
using System.Globalization;
using Leasehold.Core;
using Leasehold.Storage;

namespace Leasehold.Bench;

/// <summary>
/// `--recovery [records]`: how long a server takes to come back up. Builds a temporary data directory
/// holding <c>records</c> (default 1,000,000) log records the way the server writes them: each command is
/// applied to the store's engine and, when it changed the engine (<see cref="LockEngine.Changes"/>),
/// framed into a <see cref="LogBuffer"/> as record <see cref="DataStore.NextIndex"/>; every 1,000 records
/// the batch is written and fsynced. No snapshot is taken while building. Then the store is closed and
/// <see cref="DataStore.Open"/> (which replays the whole log) is timed three times; then a snapshot of the
/// final state is written, as the server does (sync, cut the log, write the snapshot), and Open is timed
/// three more times on that fast path (load the snapshot, replay nothing).
/// </summary>
/// <remarks>
/// The mix, per 8 acquires on distinct paths /r/{i / 1000}/{i}: 4 with a ttl (one hour), 2 without, 2 in
/// one of 8 sessions with an owner; every other acquire, the lease acquired 100 acquires earlier is
/// released (so about half of all leases end); every 4th acquire, the lease acquired 50 acquires earlier
/// is renewed if still held; every 10,000 acquires each session gets a keep-alive. Time advances 1 ms per
/// acquire, so nothing expires while building (no Tick records). That is about 57 % acquires, 29 %
/// releases, 14 % renews.
/// </remarks>
internal static class RecoveryMeasurement
{
    private const int BatchRecords = 1000;
    private const int Sessions = 8;
    private const long HourMs = 3_600_000;
    private const long Start = 1_700_000_000_000;
    private const int Runs = 3;

    public static int Run(long records)
    {
        var inv = CultureInfo.InvariantCulture;
        var dir = Directory.CreateTempSubdirectory("leasehold-recovery-");
        try
        {
            var clock = Stopwatch.StartNew();
            var (held, sessions, mix) = Build(dir.FullName, records);
            var buildSeconds = clock.Elapsed.TotalSeconds;
            var logBytes = Directory.EnumerateFiles(dir.FullName, "*.log").Sum(f => new FileInfo(f).Length);
            Console.WriteLine(string.Create(inv, $"log: {records:N0} records in {Directory.EnumerateFiles(dir.FullName, "*.log").Count()} segment(s), {logBytes / (1024.0 * 1024.0):F1} MiB ({(double)logBytes / records:F1} B/record); {mix}"));
            Console.WriteLine(string.Create(inv, $"built in {buildSeconds:F1} s (apply + frame + write + fsync every {BatchRecords:N0} records); state at the end: {held:N0} leases held, {sessions} sessions"));
            Console.WriteLine(string.Create(inv, $"GC: {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}; the log is in the page cache (just written), so this is replay, not disk reads"));

            for (var run = 1; run <= Runs; run++)
            {
                TimeOpen(dir.FullName, $"replay   #{run}", records, held);
            }

            clock.Restart();
            var (index, snapshotBytes) = WriteSnapshot(dir.FullName);
            Console.WriteLine(string.Create(inv, $"snapshot of record {index:N0}: {snapshotBytes / (1024.0 * 1024.0):F1} MiB, opened + captured + encoded + written in {clock.Elapsed.TotalSeconds:F2} s"));
            for (var run = 1; run <= Runs; run++)
            {
                TimeOpen(dir.FullName, $"snapshot #{run}", 0, held);
            }
            return 0;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static (int Held, int Sessions, string Mix) Build(string dir, long records)
    {
        using var store = DataStore.Open(dir);
        var engine = store.Engine;
        var batch = new LogBuffer();
        long acquires = 0, releases = 0, renews = 0, keepAlives = 0, other = 0;

        void Log(Command command, long changesBefore)
        {
            if (engine.Changes == changesBefore)
            {
                return;
            }
            batch.Append(store.NextIndex++, command);
            if (batch.Records == BatchRecords)
            {
                store.Write(batch);
                store.Sync();
                batch.Dispose();
                batch = new LogBuffer();
            }
        }

        bool Done() => store.NextIndex - 1 >= records;

        var sessionIds = new long[Sessions];
        var sessionTokens = new UInt128[Sessions];
        for (var s = 0; s < Sessions && !Done(); s++)
        {
            sessionTokens[s] = new UInt128(0x5E55_1011, (ulong)s);
            var open = new OpenSession { Now = Start, TtlMs = HourMs, Owner = $"worker-{s}", Token = sessionTokens[s] };
            var before = engine.Changes;
            sessionIds[s] = engine.Open(open).Value?.Id ?? throw new InvalidOperationException("session not opened");
            Log(open, before);
            other++;
        }

        var leaseIds = new List<long>();
        var leaseTokens = new List<UInt128>();
        for (long i = 0; !Done(); i++)
        {
            var now = Start + i;
            var token = new UInt128((ulong)i * 0x9E37_79B9_7F4A_7C15, (ulong)i);
            var kind = i % 8;
            var acquire = new AcquireLease
            {
                Now = now,
                Paths = [BenchPaths.Parse(string.Create(CultureInfo.InvariantCulture, $"/r/{i / 1000}/{i}"))],
                Token = token,
                TtlMs = kind < 4 ? HourMs : 0,
                SessionId = kind >= 6 ? sessionIds[i % Sessions] : 0,
                Owner = kind >= 6 ? $"worker-{i % Sessions}" : null,
            };
            var before = engine.Changes;
            var lease = engine.Acquire(acquire).Lease ?? throw new InvalidOperationException($"acquire {i} not granted");
            Log(acquire, before);
            acquires++;
            leaseIds.Add(lease.Id);
            leaseTokens.Add(token);

            if (i % 2 == 1 && i >= 100 && !Done())
            {
                var victim = (int)(i - 100);
                var release = new ReleaseLease { Now = now, LeaseId = leaseIds[victim], Token = leaseTokens[victim] };
                before = engine.Changes;
                if (engine.Release(release).Error != ErrorCode.None)
                {
                    throw new InvalidOperationException($"release of lease {leaseIds[victim]} failed");
                }
                Log(release, before);
                releases++;
            }
            if (i % 4 == 0 && i >= 50 && !Done())
            {
                var target = (int)(i - 50);
                if (engine.GetLease(leaseIds[target]) is not null)
                {
                    var renew = new RenewLease { Now = now, LeaseId = leaseIds[target], Token = leaseTokens[target], TtlMs = HourMs };
                    before = engine.Changes;
                    engine.Renew(renew);
                    Log(renew, before);
                    renews++;
                }
            }
            if (i % 10_000 == 9_999)
            {
                for (var s = 0; s < Sessions && !Done(); s++)
                {
                    var keepAlive = new KeepAliveSession { Now = now, SessionId = sessionIds[s], Token = sessionTokens[s] };
                    before = engine.Changes;
                    engine.KeepAlive(keepAlive);
                    Log(keepAlive, before);
                    keepAlives++;
                }
            }
        }
        if (batch.Records > 0)
        {
            store.Write(batch);
            store.Sync();
        }
        batch.Dispose();
        var total = (double)(store.NextIndex - 1);
        var mix = string.Create(CultureInfo.InvariantCulture,
            $"{acquires / total:P0} acquires, {releases / total:P0} releases, {renews / total:P0} renews, {keepAlives + other:N0} session records");
        return (engine.Leases.Count, engine.Sessions.Count, mix);
    }

    private static void TimeOpen(string dir, string label, long expectReplayed, int expectHeld)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var gcBefore = GC.CollectionCount(0) + GC.CollectionCount(1) + GC.CollectionCount(2);
        var clock = Stopwatch.StartNew();
        RecoveryReport report;
        int held;
        using (var store = DataStore.Open(dir))
        {
            clock.Stop();
            report = store.Report;
            held = store.Engine.Leases.Count;
        }
        var gcs = GC.CollectionCount(0) + GC.CollectionCount(1) + GC.CollectionCount(2) - gcBefore;
        if (report.RecordsReplayed != expectReplayed || held != expectHeld)
        {
            throw new InvalidOperationException($"{label}: replayed {report.RecordsReplayed} (expected {expectReplayed}), {held} leases held (expected {expectHeld})");
        }
        var seconds = clock.Elapsed.TotalSeconds;
        var rate = report.RecordsReplayed > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{report.RecordsReplayed / seconds:N0} records/s")
            : "no records to replay";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"open {label}: {seconds * 1000,8:F0} ms  ({report.RecordsReplayed:N0} records replayed after snapshot {report.SnapshotIndex:N0}, {rate}; {held:N0} leases; {gcs} GCs; load average {LoadAverage()})"));
    }

    /// <summary>What the server does every SnapshotEvery records: sync, cut the log, encode the state, write it.</summary>
    private static (long Index, long Bytes) WriteSnapshot(string dir)
    {
        using var store = DataStore.Open(dir);
        var index = store.NextIndex - 1;
        var bytes = SnapshotCodec.Encode(index, store.Engine.Capture());
        store.Sync();
        store.CutAt(index);
        store.WriteSnapshot(index, bytes.WrittenSpan);
        return (index, bytes.WrittenCount);
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }
}
