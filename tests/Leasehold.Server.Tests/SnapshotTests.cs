using System.Collections.Concurrent;
using System.Security.Cryptography;
using Leasehold.Core;
using Leasehold.Server.Engine;
using Leasehold.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Leasehold.Server.Tests;

/// <summary>
/// Snapshots are taken off the writer, from a replica that applies the written log: a snapshot taken while
/// writes go on must be exactly the writer's state at the record it was cut at, and a snapshot that cannot be
/// written is reported and tried again without losing anything acknowledged.
/// </summary>
public sealed class SnapshotTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "leasehold-snapshots-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_snapshot_taken_while_writes_go_on_is_exactly_the_writers_state_at_its_cut()
    {
        var states = new ConcurrentDictionary<long, byte[]>();
        var checkedSnapshots = new HashSet<long>();
        var writes = 0;
        var lines = new LineCollector();
        await using (var server = await TestServer.StartAsync(["--Leasehold:SnapshotEvery=150"], _dataDir, s => s.AddSingleton<ILoggerProvider>(lines)))
        {
            var host = server.App.Services.GetRequiredService<EngineHost>();
            var log = host.Store!;
            // Eight writers at once, so that batches hold several commands and cuts fall between them.
            const int Writers = 8;
            const int Rounds = 60;
            var random = new Random(13);
            var held = Enumerable.Range(0, Writers).Select(_ => new Queue<Lease>()).ToArray();
            for (var round = 0; round < Rounds && (checkedSnapshots.Count < 3 || round < 20); round++)
            {
                var seeds = Enumerable.Range(0, Writers).Select(_ => random.Next()).ToArray();
                await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
                {
                    var rng = new Random(seeds[writer]);
                    for (var step = 0; step < 12; step++)
                    {
                        await host.ExecuteAsync(w =>
                        {
                            Change(w, held[writer], writer, rng);
                            // The writer's state after this item, under the index of the last record it logged: a cut
                            // falls after a batch, whose last item leaves exactly the state the cut covers.
                            states[log.LastIndex] = Fingerprint(w.Engine);
                            return 0;
                        }).WaitAsync(TestServer.Timeout);
                        Interlocked.Increment(ref writes);
                    }
                })));
                // Whatever snapshot is on disk now was encoded off the writer while the writes above went on.
                foreach (var file in Directory.EnumerateFiles(_dataDir, "snapshot-*.snap"))
                {
                    byte[] bytes;
                    try
                    {
                        bytes = await File.ReadAllBytesAsync(file);
                    }
                    catch (FileNotFoundException)
                    {
                        continue; // Replaced by a newer one meanwhile.
                    }
                    var (index, restored) = SnapshotLoader.Load(file, bytes, null);
                    if (checkedSnapshots.Add(index))
                    {
                        Assert.True(states.TryGetValue(index, out var expected), $"no writer state recorded at record {index}, where a snapshot was cut");
                        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(Fingerprint(restored)));
                    }
                }
            }
            Assert.True(checkedSnapshots.Count >= 3, $"only {checkedSnapshots.Count} snapshots were seen during {writes} writes");
            Assert.True(log.SnapshotsWritten >= checkedSnapshots.Count);
            // The replica followed every record, so no snapshot came from the writer.
            Assert.True(log.Replica.Tracking);
            Assert.Empty(lines.Lines);
        }

        // What the directory recovers (the last snapshot and the log after it) is the writer's last state.
        using var store = DataStore.Open(_dataDir);
        Assert.True(store.Report.SnapshotIndex > 0);
        var last = store.NextIndex - 1;
        Assert.Equal(Convert.ToHexString(states[last]), Convert.ToHexString(Fingerprint(store.Engine)));
    }

    [Fact]
    public async Task A_snapshot_that_cannot_be_written_is_logged_and_retried_and_nothing_acknowledged_is_lost()
    {
        var lines = new LineCollector();
        Directory.CreateDirectory(_dataDir);
        // A directory where each early snapshot's temporary file would go: writing any of them fails on the real disk.
        const int Blocked = 400;
        for (var index = 1; index <= Blocked; index++)
        {
            Directory.CreateDirectory(Path.Combine(_dataDir, LogFormat.SnapshotName(index) + ".tmp"));
        }
        var acknowledged = new List<long>();
        byte[] finalState;
        await using (var server = await TestServer.StartAsync(["--Leasehold:SnapshotEvery=20"], _dataDir, s => s.AddSingleton<ILoggerProvider>(lines)))
        {
            var host = server.App.Services.GetRequiredService<EngineHost>();
            var log = host.Store!;
            var held = new Queue<Lease>();
            var rng = new Random(7);

            // Two failures in a row: the first, and the retry a second later.
            await WriteUntilAsync(() => lines.Failures >= 2);
            Assert.Equal(0, log.SnapshotsWritten);
            Assert.Contains(lines.Lines, l => l.Contains("Taking the snapshot of record", StringComparison.Ordinal) && l.Contains("(1 in a row)", StringComparison.Ordinal));
            Assert.Contains(lines.Lines, l => l.Contains("(2 in a row)", StringComparison.Ordinal));
            // Failing to write a file does not cost the replica its state: it is not seeded again.
            Assert.True(log.Replica.Tracking);

            // Once the disk takes files again, a later attempt succeeds.
            for (var index = 1; index <= Blocked; index++)
            {
                Directory.Delete(Path.Combine(_dataDir, LogFormat.SnapshotName(index) + ".tmp"));
            }
            await WriteUntilAsync(() => log.SnapshotsWritten >= 1);
            Assert.Single(Directory.EnumerateFiles(_dataDir, "snapshot-*.snap"));
            finalState = await host.ExecuteAsync(w => Fingerprint(w.Engine));

            async Task WriteUntilAsync(Func<bool> done)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                while (!done())
                {
                    // Snapshots are only tried between batches: keep writing, one acknowledged change at a time.
                    var id = await host.ExecuteAsync(w => Change(w, held, 0, rng)).WaitAsync(cts.Token);
                    if (id > 0)
                    {
                        acknowledged.Add(id);
                    }
                    await Task.Delay(20, cts.Token);
                }
            }
        }

        Assert.NotEmpty(acknowledged);
        using var store = DataStore.Open(_dataDir);
        Assert.True(store.Report.SnapshotIndex > 0);
        Assert.Equal(Convert.ToHexString(finalState), Convert.ToHexString(Fingerprint(store.Engine)));
        // Every grant acknowledged was kept: held now, or in the history as released.
        var known = store.Engine.Leases.Select(l => l.Id).Concat(store.Engine.History.Select(h => h.LeaseId)).ToHashSet();
        Assert.All(acknowledged, id => Assert.Contains(id, known));
    }

    [Fact]
    public async Task A_replica_that_lost_track_is_seeded_again_by_the_writer_and_its_snapshots_stay_exact()
    {
        var lines = new LineCollector();
        var states = new ConcurrentDictionary<long, byte[]>();
        await using (var server = await TestServer.StartAsync(["--Leasehold:SnapshotEvery=30"], _dataDir, s => s.AddSingleton<ILoggerProvider>(lines)))
        {
            var host = server.App.Services.GetRequiredService<EngineHost>();
            var log = host.Store!;
            var held = new Queue<Lease>();
            var rng = new Random(11);
            await WriteUntilAsync(() => log.Replica.Applied >= 5);

            // Records that do not follow the replica's: it must drop its state rather than go on from a wrong one.
            using var stray = new LogBuffer();
            var snapshotsBeforeStray = log.SnapshotsWritten;
            stray.Append(log.Replica.Applied + 1000, new Tick { Now = 1 });
            log.Replica.Apply(stray);
            await WriteUntilAsync(() => lines.Lines.Any(l => l.Contains("could not apply record", StringComparison.Ordinal)));
            // It stopped tracking; unless a snapshot due during the last write has seeded it again already (the replica
            // tracks again as it takes the seed, and the snapshot counts once written: wait, writing nothing, for that).
            await ServerTestBase.WaitUntilAsync(
                () => Task.FromResult(!log.Replica.Tracking || log.SnapshotsWritten > snapshotsBeforeStray),
                "the replica stops tracking after a stray record (or a snapshot seeds it again)");

            // The next snapshot is encoded on the writer and seeds the replica; the one after is the replica's again.
            var before = log.SnapshotsWritten;
            await WriteUntilAsync(() => log.SnapshotsWritten >= before + 2 && log.Replica.Tracking);
            var file = Directory.EnumerateFiles(_dataDir, "snapshot-*.snap").Order(StringComparer.Ordinal).Last();
            var (index, restored) = SnapshotLoader.Load(file, await File.ReadAllBytesAsync(file), null);
            Assert.Equal(Convert.ToHexString(states[index]), Convert.ToHexString(Fingerprint(restored)));

            async Task WriteUntilAsync(Func<bool> done)
            {
                using var cts = new CancellationTokenSource(TestServer.Timeout);
                while (!done())
                {
                    await host.ExecuteAsync(w =>
                    {
                        var id = Change(w, held, 0, rng);
                        states[log.LastIndex] = Fingerprint(w.Engine);
                        return id;
                    }).WaitAsync(cts.Token);
                    await Task.Yield();
                }
            }
        }
    }

    [Fact]
    public async Task The_replica_follows_megabytes_of_records_through_reused_chunks_and_snapshots_exactly_the_writers_state()
    {
        using var store = DataStore.Open(_dataDir);
        var writer = new LockEngine();
        var rng = new Random(5);
        var held = new Queue<Lease>();
        long index = 0;
        // A state that takes the replica a while to snapshot, so that the records below queue up behind it.
        for (var n = 0; n < 40_000; n++)
        {
            var before = writer.Changes;
            writer.Acquire(new AcquireLease { Now = 1_700_000_000_000, Paths = [ParsePath($"/base/{n / 100}/{n}")], Token = TokenHash.Of((UInt128)n + 1) });
            Assert.NotEqual(before, writer.Changes);
        }
        var (_, copy) = SnapshotLoader.Load("(copy)", SnapshotCodec.Encode(0, writer.Capture()).WrittenSpan, null);
        var finished = new ConcurrentQueue<Exception?>();
        var replica = new SnapshotReplica(store, copy, 0, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, (_, _, error) => finished.Enqueue(error));
        replica.Start();
        // Twice: about 5 MiB of records in batches of 40 queue up while the replica writes a snapshot, filling 1 MiB
        // chunks; the second time the chunks it gave back after the first are filled again.
        for (var round = 0; round < 2; round++)
        {
            replica.Snapshot(index);
            for (var batch = 0; batch < 400; batch++)
            {
                using var log = new LogBuffer();
                for (var n = 0; n < 40; n++)
                {
                    var before = writer.Changes;
                    var command = NextCommand(writer, held, rng);
                    if (writer.Changes != before)
                    {
                        log.Append(++index, command);
                    }
                }
                replica.Apply(log);
            }
            using var cts = new CancellationTokenSource(TestServer.Timeout);
            while (replica.Applied < index)
            {
                await Task.Delay(10, cts.Token);
            }
        }
        replica.Snapshot(index);

        await replica.CloseAsync().WaitAsync(TestServer.Timeout);
        Assert.Equal([null, null, null], finished);
        Assert.True(replica.ChunksReused > 0, "no chunk was reused");
        Assert.True(replica.Tracking);
        var file = Path.Combine(_dataDir, LogFormat.SnapshotName(index));
        var (at, restored) = SnapshotLoader.Load(file, await File.ReadAllBytesAsync(file), null);
        Assert.Equal(index, at);
        Assert.Equal(Convert.ToHexString(Fingerprint(writer)), Convert.ToHexString(Fingerprint(restored)));
    }

    /// <summary>A grant, renewal or release applied to <paramref name="engine"/> directly, as a writer would: the command applied.</summary>
    private static Command NextCommand(LockEngine engine, Queue<Lease> held, Random rng)
    {
        var now = 1_700_000_000_000 + rng.Next(1000);
        if (held.Count > 200 || (held.Count > 0 && rng.Next(3) == 0))
        {
            var lease = held.Dequeue();
            var release = new ReleaseLease { Now = now, LeaseId = lease.Id, Token = lease.Token };
            engine.Apply(release);
            return release;
        }
        var acquire = new AcquireLease
        {
            Now = now, Paths = [ParsePath($"/chunks/{rng.Next(1_000_000)}")], Token = TokenHash.Of((UInt128)rng.NextInt64() + 1), TtlMs = 600_000,
            Owner = new string('o', rng.Next(100, 250)),
        };
        if (engine.Acquire(acquire).Lease is { } granted)
        {
            held.Enqueue(granted);
        }
        return acquire;
    }

    /// <summary>One change by writer <paramref name="writer"/>: a grant (returning its id), a renewal or a release.</summary>
    private static long Change(Writer w, Queue<Lease> held, int writer, Random rng)
    {
        var roll = rng.Next(10);
        if (held.Count > 0 && (roll < 3 || held.Count > 30))
        {
            w.Release(held.Dequeue());
            return 0;
        }
        if (held.Count > 0 && roll < 5)
        {
            var lease = held.Peek();
            w.Run(new RenewLease { Now = w.Now, LeaseId = lease.Id, Token = lease.Token, TtlMs = 600_000 + rng.Next(1000) }, (e, c) => e.Renew(c));
            return 0;
        }
        var shared = roll == 9;
        var path = shared ? $"/snap/shared/{rng.Next(3)}" : $"/snap/w{writer}/{rng.Next(1_000_000)}";
        Assert.True(ResourcePath.TryParse(path, out var parsed, out _));
        var token = TokenHash.Of(((UInt128)(ulong)rng.NextInt64() << 64) | (ulong)rng.NextInt64());
        var result = w.Run(
            new AcquireLease
            {
                Now = w.Now, Paths = [parsed], Mode = shared ? LockMode.Shared : LockMode.Exclusive, Token = token,
                TtlMs = rng.Next(2) == 0 ? 0 : 600_000, Owner = $"writer-{writer}-" + new string('o', rng.Next(200)),
            },
            (e, c) => e.Acquire(c));
        if (result.Lease is { } granted)
        {
            held.Enqueue(granted);
            return granted.Id;
        }
        return 0;
    }

    private static ResourcePath ParsePath(string text)
    {
        Assert.True(ResourcePath.TryParse(text, out var path, out var error), error);
        return path;
    }

    /// <summary>The whole state as the snapshot format writes it, hashed: equal exactly when the states are.</summary>
    private static byte[] Fingerprint(LockEngine engine) => SHA256.HashData(SnapshotCodec.Encode(0, engine.Capture()).WrittenSpan);

    /// <summary>Collects formatted log lines.</summary>
    private sealed class LineCollector : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();
        private int _failures;

        public string[] Lines => [.. _lines];

        public int Failures => Volatile.Read(ref _failures);

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(LineCollector owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var line = formatter(state, exception);
                owner._lines.Enqueue(line);
                if (line.StartsWith("Taking the snapshot of record", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref owner._failures);
                }
            }
        }
    }
}
