using System.Buffers.Binary;
using Leasehold.Core;

namespace Leasehold.Storage.Tests;

/// <summary>Snapshots replace the log before them; recovery loads the newest and replays what follows it.</summary>
public class SnapshotTests : IDisposable
{
    private const long SmallSegments = 200;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void WriteSnapshotDeletesOlderSegmentsAndSnapshots()
    {
        using var d = new StoreDriver(_dir.Dir, SmallSegments);
        SegmentBytes.LogAcquires(d, 7);
        Assert.True(_dir.Segments().Count >= 3);

        var first = d.Snapshot();

        Assert.Equal(7, first);
        Assert.Equal([LogFormat.LockFile, LogFormat.ManifestFile, LogFormat.SnapshotName(7), LogFormat.SegmentName(8)], _dir.FileNames());

        SegmentBytes.LogAcquires(d, 7, firstNumber: 8);
        var segmentsBefore = _dir.Segments();
        Assert.True(segmentsBefore.Count >= 3);
        var second = d.Snapshot();

        Assert.Equal(14, second);
        Assert.Equal([LogFormat.LockFile, LogFormat.ManifestFile, LogFormat.SnapshotName(14), LogFormat.SegmentName(15)], _dir.FileNames());
    }

    [Fact]
    public void SnapshotInsideASegmentKeepsThatSegmentAndReplaysItsTail()
    {
        EngineState live;
        using (var d = new StoreDriver(_dir.Dir, SmallSegments))
        {
            SegmentBytes.LogAcquires(d, 3);
            var bytes = SnapshotCodec.Encode(3, d.Engine.Capture());
            SegmentBytes.LogAcquires(d, 2, firstNumber: 4);
            Assert.Equal([1L, 3, 5], _dir.Segments().Select(s => s.FirstIndex));

            // Without a cut first, the snapshot of record 3 cannot replace the segment holding records 3 and 4.
            d.Store.WriteSnapshot(3, bytes.WrittenSpan);

            Assert.Equal([3L, 5], _dir.Segments().Select(s => s.FirstIndex));
            live = d.Engine.Capture();
        }

        using var store = DataStore.Open(_dir.Dir, segmentBytes: SmallSegments);
        Assert.Equal(3, store.Report.SnapshotIndex);
        Assert.Equal(2, store.Report.RecordsReplayed);
        StateAssert.Equal(live, store.Engine.Capture());
    }

    [Fact]
    public void OpenLoadsTheSnapshotAndReplaysTheRest()
    {
        EngineState live;
        long snapshot;
        using (var d = new StoreDriver(_dir.Dir, SmallSegments))
        {
            SegmentBytes.LogAcquires(d, 6);
            var w = Cmd.Queued(d.Apply(new AcquireLease { Now = Cmd.T0 + 50, Paths = Cmd.Ps("/r/1"), WaitMs = 10_000, Token = 77 }));
            snapshot = d.Snapshot();
            SegmentBytes.LogAcquires(d, 5, firstNumber: 20);
            d.Apply(new ReleaseLease { Now = Cmd.T0 + 60, LeaseId = 1, Token = SegmentBytes.TokenOf(1) });
            Assert.Contains(d.Engine.Leases, l => l.Token == w.Token);
            live = d.Engine.Capture();
        }

        using var store = DataStore.Open(_dir.Dir, segmentBytes: SmallSegments);

        Assert.Equal(7, snapshot);
        Assert.Equal(snapshot, store.Report.SnapshotIndex);
        Assert.Equal(6, store.Report.RecordsReplayed);
        Assert.Equal(14, store.NextIndex);
        StateAssert.Equal(live, store.Engine.Capture());
    }

    [Fact]
    public void SnapshotWithNothingAfterItOpens()
    {
        EngineState live;
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 3);
            d.Snapshot();
            live = d.Engine.Capture();
        }
        using (var d = new StoreDriver(_dir.Dir))
        {
            Assert.Equal(3, d.Store.Report.SnapshotIndex);
            Assert.Equal(0, d.Store.Report.RecordsReplayed);
            Assert.Equal(4, d.Store.NextIndex);
            StateAssert.Equal(live, d.Engine.Capture());
            SegmentBytes.LogAcquires(d, 1, firstNumber: 4);
        }
        using var store = DataStore.Open(_dir.Dir);
        Assert.Equal(4, store.Engine.LastFence);
    }

    [Fact]
    public void SnapshotOfAnEmptyLogOpens()
    {
        using (var d = new StoreDriver(_dir.Dir))
        {
            Assert.Equal(0, d.Snapshot());
            SegmentBytes.LogAcquires(d, 2);
        }
        using var store = DataStore.Open(_dir.Dir);
        Assert.Equal(0, store.Report.SnapshotIndex);
        Assert.Equal(2, store.Report.RecordsReplayed);
        Assert.Equal(2, store.Engine.LastFence);
    }

    [Fact]
    public void SnapshotWhoseLogWasAlreadyCutOpens()
    {
        // The snapshot is taken at a moment when the current segment already starts right after it.
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 2);
            d.Snapshot();
            d.Snapshot();
            SegmentBytes.LogAcquires(d, 2, firstNumber: 3);
        }
        Assert.Equal([LogFormat.LockFile, LogFormat.ManifestFile, LogFormat.SnapshotName(2), LogFormat.SegmentName(3)], _dir.FileNames());
        using var store = DataStore.Open(_dir.Dir);
        Assert.Equal(4, store.Engine.LastFence);
        Assert.Equal(2, store.Report.RecordsReplayed);
    }

    public static TheoryData<string, int> Damage => new()
    {
        { "magic", 0 },
        { "version", 8 },
        { "index", 16 },
        { "counters", 30 },
        { "middle", -2 },
        { "checksum", -1 },
    };

    [Theory]
    [MemberData(nameof(Damage))]
    public void DamagedSnapshotIsCorruptionNamingItAndNeverFallsBack(string what, int where)
    {
        byte[] older;
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 3);
            d.Snapshot();
            older = File.ReadAllBytes(_dir.Snapshot(3));
            SegmentBytes.LogAcquires(d, 3, firstNumber: 4);
            d.Snapshot();
        }
        // An older snapshot that could still be read is there too: recovery must not quietly use it.
        File.WriteAllBytes(_dir.Snapshot(3), older);
        var newest = _dir.Snapshot(6);
        var length = new FileInfo(newest).Length;
        SegmentBytes.FlipByte(newest, where switch
        {
            -1 => length - 1,
            -2 => length / 2,
            _ => where,
        });
        var before = File.ReadAllBytes(newest);

        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir));

        Assert.Equal(newest, ex.File);
        Assert.Contains(LogFormat.SnapshotName(6), ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(newest));
        Assert.True(File.Exists(_dir.Snapshot(3)), what);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(20)]
    [InlineData(-1)]
    public void TruncatedSnapshotIsCorruption(int keep)
    {
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 3);
            d.Snapshot();
        }
        var path = _dir.Snapshot(3);
        SegmentBytes.Cut(path, keep < 0 ? new FileInfo(path).Length - 1 : keep);

        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir));
        Assert.Equal(path, ex.File);
    }

    [Fact]
    public void SnapshotWhoseNameDisagreesWithItsIndexIsCorruption()
    {
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 3);
            d.Snapshot();
        }
        File.Move(_dir.Snapshot(3), _dir.Snapshot(2));

        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir));
        Assert.Equal(_dir.Snapshot(2), ex.File);
        Assert.Contains("covers record 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SnapshotWithAValidChecksumButBadContentsIsCorruption()
    {
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 1);
            d.Snapshot();
        }
        var path = _dir.Snapshot(1);
        var data = File.ReadAllBytes(path);
        // The session count (right after the 24-byte header and four counters) becomes absurd; the checksum is fixed up.
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(24 + 32), 1_000_000);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(data.Length - 4), Crc32C.Compute(data.AsSpan(0, data.Length - 4)));
        File.WriteAllBytes(path, data);

        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir));
        Assert.Equal(path, ex.File);
        Assert.Contains("do not parse", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SnapshotIsAtomicAndLeavesNoTemporaryFile()
    {
        using var d = new StoreDriver(_dir.Dir);
        SegmentBytes.LogAcquires(d, 2);
        d.Snapshot();
        Assert.DoesNotContain(_dir.FileNames(), n => n.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void AStreamedSnapshotIsTheBufferedOneByteForByteAcrossChunks()
    {
        var engine = new LockEngine();
        // Enough leases that the stream's 1 MiB chunks are crossed several times.
        for (var i = 0; i < 30_000; i++)
        {
            var granted = engine.Acquire(new AcquireLease
            {
                Now = Cmd.T0 + i, Paths = Cmd.Ps($"/stream/{i / 100}/lease-{i}"), Token = (UInt128)i + 1, TtlMs = i % 2 == 0 ? 60_000 : 0, Owner = $"owner-{i % 7}",
            });
            Assert.NotNull(granted.Lease);
        }
        var buffered = SnapshotCodec.Encode(42, engine.Capture());
        Assert.True(buffered.WrittenCount > 3 << 20, $"only {buffered.WrittenCount} bytes");

        using var stream = new MemoryStream();
        var written = SnapshotCodec.EncodeTo(stream, 42, engine.Capture());

        Assert.Equal(buffered.WrittenCount, written);
        Assert.True(buffered.WrittenSpan.SequenceEqual(stream.ToArray()), "the streamed bytes differ from the buffered ones");
    }

    [Fact]
    public void AStreamedSnapshotIsWrittenAndOpenedLikeAnyOther()
    {
        EngineState live;
        using (var d = new StoreDriver(_dir.Dir, SmallSegments))
        {
            SegmentBytes.LogAcquires(d, 5);
            d.Store.Sync();
            d.Store.CutAt(5);
            live = d.Engine.Capture();
            d.Store.WriteSnapshot(5, file => SnapshotCodec.EncodeTo(file, 5, d.Engine.Capture()));
            Assert.Equal([LogFormat.LockFile, LogFormat.ManifestFile, LogFormat.SnapshotName(5), LogFormat.SegmentName(6)], _dir.FileNames());
        }

        using var store = DataStore.Open(_dir.Dir, segmentBytes: SmallSegments);
        Assert.Equal(5, store.Report.SnapshotIndex);
        Assert.Equal(0, store.Report.RecordsReplayed);
        StateAssert.Equal(live, store.Engine.Capture());
    }

    [Fact]
    public void RecordsReadFromABatchAreCheckedAsRecoveryChecksThem()
    {
        using var batch = new LogBuffer();
        batch.Append(10, new Tick { Now = Cmd.T0 });
        batch.Append(11, new Tick { Now = Cmd.T0 + 1 });
        var read = new List<(long, long)>();

        Assert.Equal(2, LogReader.ReadRecords(batch.Written, 10, "batch", (index, command) => read.Add((index, command.Now))));
        Assert.Equal([(10L, Cmd.T0), (11L, Cmd.T0 + 1)], read);

        // Numbered from elsewhere than expected, or damaged: never applied quietly.
        var misplaced = Assert.Throws<CorruptDataException>(() => LogReader.ReadRecords(batch.Written, 9, "batch", (_, _) => { }));
        Assert.Contains("record index 10, expected 9", misplaced.Message, StringComparison.Ordinal);
        var damaged = batch.Written.ToArray();
        damaged[^1] ^= 0x40;
        var failed = Assert.Throws<CorruptDataException>(() => LogReader.ReadRecords(damaged, 10, "batch", (_, _) => { }));
        Assert.Contains("checksum", failed.Message, StringComparison.Ordinal);
    }
}
