namespace Leasehold.Storage.Tests;

/// <summary>
/// A deleted or emptied log segment, or a deleted snapshot, must not start as a server that has forgotten
/// its leases: the manifest says what the directory holds, and start-up refuses, naming what is missing.
/// </summary>
public class MissingDataTests : IDisposable
{
    private const long SmallSegments = 200;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static CorruptDataException AssertRefusedNaming(string dir, string fileName, long segmentBytes = 64L << 20)
    {
        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(dir, segmentBytes: segmentBytes));
        Assert.Contains(fileName, ex.Message, StringComparison.Ordinal);
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);
        return ex;
    }

    [Fact]
    public void DeletedOnlySegmentIsRefused()
    {
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 3);
        }
        File.Delete(_dir.Segment(1));

        AssertRefusedNaming(_dir.Dir, LogFormat.SegmentName(1));
        Assert.False(File.Exists(_dir.Segment(1)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(LogFormat.SegmentHeaderSize - 1)]
    public void EmptiedSegmentIsRefused(int keep)
    {
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 3);
        }
        SegmentBytes.Cut(_dir.Segment(1), keep);

        AssertRefusedNaming(_dir.Dir, LogFormat.SegmentName(1));
        Assert.Equal(keep, new FileInfo(_dir.Segment(1)).Length);
    }

    [Fact]
    public void DeletedSegmentAfterASnapshotIsRefused()
    {
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 5);
            Assert.Equal(5, d.Snapshot());
            SegmentBytes.LogAcquires(d, 3, firstNumber: 6);
        }
        File.Delete(_dir.Segment(6));

        AssertRefusedNaming(_dir.Dir, LogFormat.SegmentName(6));
    }

    [Fact]
    public void DeletedEmptySegmentRightAfterASnapshotIsRefused()
    {
        // The segment the snapshot's cut started holds no record yet: it is still listed, and its loss is still a loss
        // (the next records would have gone into it).
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 5);
            d.Snapshot();
        }
        File.Delete(_dir.Segment(6));

        AssertRefusedNaming(_dir.Dir, LogFormat.SegmentName(6));
    }

    [Fact]
    public void DeletedLastSegmentOfSeveralIsRefused()
    {
        using (var d = new StoreDriver(_dir.Dir, SmallSegments))
        {
            SegmentBytes.LogAcquires(d, 14);
        }
        var segments = _dir.Segments();
        Assert.True(segments.Count >= 3, $"{segments.Count} segments");
        File.Delete(segments[^1].Path);

        AssertRefusedNaming(_dir.Dir, Path.GetFileName(segments[^1].Path), SmallSegments);
    }

    [Fact]
    public void DeletedSnapshotTheManifestNamesIsRefused()
    {
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 5);
            d.Snapshot();
            SegmentBytes.LogAcquires(d, 2, firstNumber: 6);
        }
        File.Delete(_dir.Snapshot(5));

        AssertRefusedNaming(_dir.Dir, LogFormat.SnapshotName(5));
    }

    [Fact]
    public void AcceptingTheLossStartsFromTheSnapshotAndRewritesTheManifest()
    {
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 5);
            d.Snapshot();
            SegmentBytes.LogAcquires(d, 3, firstNumber: 6);
        }
        File.Delete(_dir.Segment(6));

        using (var store = DataStore.Open(_dir.Dir, acceptDataLoss: true))
        {
            Assert.Equal(5, store.Engine.Leases.Count);
            Assert.Equal(6, store.NextIndex);
            Assert.Contains(store.Report.Lost, l => l.Contains(LogFormat.SegmentName(6) + " is missing", StringComparison.Ordinal));
        }

        // The manifest now describes what is there: an ordinary start works, and loses nothing more.
        using (var d = new StoreDriver(_dir.Dir))
        {
            Assert.Empty(d.Store.Report.Lost);
            Assert.Equal(5, d.Engine.Leases.Count);
            SegmentBytes.LogAcquires(d, 1, firstNumber: 100);
        }
        using var reopened = DataStore.Open(_dir.Dir);
        Assert.Equal(6, reopened.Engine.Leases.Count);
    }

    [Fact]
    public void AcceptingTheLossOfAMiddleSegmentKeepsTheRecordsBeforeItAndMovesTheRestAside()
    {
        using (var d = new StoreDriver(_dir.Dir, SmallSegments))
        {
            SegmentBytes.LogAcquires(d, 14);
        }
        var segments = _dir.Segments();
        Assert.True(segments.Count >= 4, $"{segments.Count} segments");
        File.Delete(segments[1].Path);

        using (var store = DataStore.Open(_dir.Dir, segmentBytes: SmallSegments, acceptDataLoss: true))
        {
            Assert.Equal(segments[1].FirstIndex, store.NextIndex);
            Assert.Equal(segments[1].FirstIndex - 1, store.Engine.Leases.Count);
            Assert.Contains(store.Report.Lost, l => l.Contains(Path.GetFileName(segments[1].Path) + " is missing", StringComparison.Ordinal));
            foreach (var (_, path) in segments.Skip(2))
            {
                Assert.False(File.Exists(path), path);
                Assert.True(File.Exists(path + LogFormat.LostSuffix), path);
            }
        }
        using var reopened = DataStore.Open(_dir.Dir, segmentBytes: SmallSegments);
        Assert.Empty(reopened.Report.Lost);
        Assert.Equal(segments[1].FirstIndex, reopened.NextIndex);
    }

    [Fact]
    public void AcceptingTheLossOfAnEmptiedSegmentStartsEmpty()
    {
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 3);
        }
        SegmentBytes.Cut(_dir.Segment(1), 0);

        using (var store = DataStore.Open(_dir.Dir, acceptDataLoss: true))
        {
            Assert.Empty(store.Engine.Leases);
            Assert.Equal(1, store.NextIndex);
            Assert.Contains(store.Report.Lost, l => l.Contains(LogFormat.SegmentName(1), StringComparison.Ordinal));
        }
        using var reopened = DataStore.Open(_dir.Dir);
        Assert.Empty(reopened.Report.Lost);
    }

    [Fact]
    public void NothingIsChangedOnDiskWhenStartUpRefuses()
    {
        using (var d = new StoreDriver(_dir.Dir, SmallSegments))
        {
            SegmentBytes.LogAcquires(d, 14);
        }
        var segments = _dir.Segments();
        File.Delete(segments[^1].Path);
        // A torn tail on what is now the last segment would be cut by a start that goes on (zeros alone would not be:
        // they are space never written).
        File.AppendAllBytes(segments[^2].Path, Enumerable.Repeat((byte)0xA5, 100).ToArray());
        var before = _dir.FileNames().ToDictionary(n => n, n => File.ReadAllBytes(_dir.File(n)));

        Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir, segmentBytes: SmallSegments));

        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), _dir.FileNames());
        foreach (var (name, bytes) in before)
        {
            Assert.Equal(bytes, File.ReadAllBytes(_dir.File(name)));
        }
    }

    [Fact]
    public void ADirectoryWithoutAManifestIsAcceptedAndGetsOne()
    {
        // As a version without manifests left it.
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 5);
            d.Snapshot();
            SegmentBytes.LogAcquires(d, 2, firstNumber: 6);
        }
        File.Delete(_dir.File(LogFormat.ManifestFile));

        using (var store = DataStore.Open(_dir.Dir))
        {
            Assert.Equal(7, store.Engine.Leases.Count);
            Assert.Contains(store.Report.Notes, n => n.Contains("no manifest", StringComparison.Ordinal));
        }
        Assert.True(File.Exists(_dir.File(LogFormat.ManifestFile)));

        // From now on the directory knows what it holds.
        File.Delete(_dir.Segment(6));
        AssertRefusedNaming(_dir.Dir, LogFormat.SegmentName(6));
    }

    [Fact]
    public void ManifestListsTheSnapshotTheSegmentsAndTheRecordsKnownWritten()
    {
        using (var d = new StoreDriver(_dir.Dir, SmallSegments))
        {
            var fresh = Manifest.Read(_dir.Dir)!;
            Assert.Equal((0L, 0L), (fresh.SnapshotIndex, fresh.Through));
            Assert.Equal([1L], fresh.Segments);
            SegmentBytes.LogAcquires(d, 7);
            var rolled = Manifest.Read(_dir.Dir)!;
            Assert.Equal(_dir.Segments().Select(s => s.FirstIndex), rolled.Segments);
            Assert.Equal(_dir.Segments()[^1].FirstIndex - 1, rolled.Through);
            Assert.Equal(7, d.Snapshot());
            var snapped = Manifest.Read(_dir.Dir)!;
            Assert.Equal(7, snapped.SnapshotIndex);
            Assert.Equal(7, snapped.Through);
            Assert.Equal([8L], snapped.Segments);
        }
    }

    [Fact]
    public void DamagedManifestIsRefused()
    {
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 2);
        }
        SegmentBytes.FlipByte(_dir.File(LogFormat.ManifestFile), 25);

        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir));
        Assert.Contains(LogFormat.ManifestFile, ex.Message, StringComparison.Ordinal);
        Assert.True(ex.LossAcceptable);

        using var store = DataStore.Open(_dir.Dir, acceptDataLoss: true);
        Assert.Equal(2, store.Engine.Leases.Count);
        Assert.Contains(store.Report.Lost, l => l.Contains(LogFormat.ManifestFile, StringComparison.Ordinal));
    }
}
