using Leasehold.Core;

namespace Leasehold.Storage.Tests;

/// <summary>
/// A crash between the steps of taking a snapshot (cut, write, rename, delete) leaves either the old
/// snapshot with its segments or the new one with its own; both recover to the same state.
/// </summary>
public class InterruptedSnapshotTests : IDisposable
{
    private const long SmallSegments = 200;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void CrashAfterTheCutBeforeTheSnapshotRecovers()
    {
        EngineState live;
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 4);
            d.Store.Sync();
            d.Store.CutAt(4);
            live = d.Engine.Capture();
        }
        Assert.Equal([LogFormat.LockFile, LogFormat.ManifestFile, LogFormat.SegmentName(1), LogFormat.SegmentName(5)], _dir.FileNames());

        using (var d = new StoreDriver(_dir.Dir))
        {
            Assert.Equal(0, d.Store.Report.SnapshotIndex);
            Assert.Equal(5, d.Store.NextIndex);
            StateAssert.Equal(live, d.Engine.Capture());
            SegmentBytes.LogAcquires(d, 1, firstNumber: 5);
        }
        using var store = DataStore.Open(_dir.Dir);
        Assert.Equal(5, store.Engine.Leases.Count);
        Assert.Equal(0, store.Report.TruncatedBytes);
    }

    [Fact]
    public void CrashBeforeOldSegmentsWereDeletedRecoversFromTheSnapshot()
    {
        EngineState live;
        Dictionary<string, byte[]> old;
        using (var d = new StoreDriver(_dir.Dir, SmallSegments))
        {
            SegmentBytes.LogAcquires(d, 7);
            old = _dir.Segments().ToDictionary(s => s.Path, s => File.ReadAllBytes(s.Path));
            var index = d.Snapshot();
            Assert.Equal(7, index);
            SegmentBytes.LogAcquires(d, 3, firstNumber: 8);
            live = d.Engine.Capture();
        }
        // The deletions never reached the disk.
        foreach (var (path, bytes) in old)
        {
            File.WriteAllBytes(path, bytes);
        }
        Assert.True(_dir.Segments().Count >= 5);

        using (var store = DataStore.Open(_dir.Dir, segmentBytes: SmallSegments))
        {
            Assert.Equal(7, store.Report.SnapshotIndex);
            Assert.Equal(3, store.Report.RecordsReplayed);
            StateAssert.Equal(live, store.Engine.Capture());
        }

        // The next snapshot clears them away.
        using (var d = new StoreDriver(_dir.Dir, SmallSegments))
        {
            d.Snapshot();
        }
        Assert.Equal([LogFormat.LockFile, LogFormat.ManifestFile, LogFormat.SnapshotName(10), LogFormat.SegmentName(11)], _dir.FileNames());
    }

    [Fact]
    public void CrashBeforeTheRenameRecoversFromTheOldSnapshot()
    {
        EngineState live;
        using (var d = new StoreDriver(_dir.Dir, SmallSegments))
        {
            SegmentBytes.LogAcquires(d, 3);
            d.Snapshot();
            SegmentBytes.LogAcquires(d, 3, firstNumber: 4);
            d.Store.Sync();
            d.Store.CutAt(6);
            // Half a snapshot in its temporary file.
            var bytes = SnapshotCodec.Encode(6, d.Engine.Capture()).WrittenSpan;
            File.WriteAllBytes(_dir.Snapshot(6) + ".tmp", bytes[..(bytes.Length / 2)].ToArray());
            live = d.Engine.Capture();
        }

        using var store = DataStore.Open(_dir.Dir);
        Assert.Equal(3, store.Report.SnapshotIndex);
        Assert.Equal(3, store.Report.RecordsReplayed);
        StateAssert.Equal(live, store.Engine.Capture());
        Assert.DoesNotContain(_dir.FileNames(), n => n.EndsWith(".tmp", StringComparison.Ordinal));
    }
}
