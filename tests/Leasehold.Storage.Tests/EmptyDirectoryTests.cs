namespace Leasehold.Storage.Tests;

/// <summary>Opening a data directory that holds nothing yet.</summary>
public class EmptyDirectoryTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void GivesAFreshEngineAndCreatesOneSegmentAndTheLockFile()
    {
        using (var store = DataStore.Open(_dir.Dir))
        {
            Assert.Equal(1, store.NextIndex);
            Assert.Empty(store.Engine.Leases);
            Assert.Empty(store.Engine.Sessions);
            Assert.Equal(0, store.Engine.QueueLength);
            Assert.Equal(0, store.Engine.LastFence);
            Assert.Equal(new RecoveryReport(0, 0, 0, store.Report.Elapsed, 1), store.Report);
            Assert.Equal(_dir.Dir, store.Directory);
            Assert.Equal([LogFormat.LockFile, LogFormat.ManifestFile, LogFormat.SegmentName(1)], _dir.FileNames());
            Assert.Equal(LogFormat.SegmentHeaderSize, new FileInfo(_dir.Segment(1)).Length);
        }

        // Opening again finds the same empty log and adds no segment.
        using (var store = DataStore.Open(_dir.Dir))
        {
            Assert.Equal(1, store.NextIndex);
            Assert.Equal([LogFormat.LockFile, LogFormat.ManifestFile, LogFormat.SegmentName(1)], _dir.FileNames());
        }
    }

    [Fact]
    public void CreatesAMissingDirectory()
    {
        var nested = Path.Combine(_dir.Dir, "not", "yet");
        using var store = DataStore.Open(nested);
        Assert.True(File.Exists(Path.Combine(nested, LogFormat.LockFile)));
        Assert.True(File.Exists(Path.Combine(nested, LogFormat.SegmentName(1))));
    }

    [Fact]
    public void LeftoverTemporaryFilesAreRemoved()
    {
        File.WriteAllBytes(_dir.File(LogFormat.SnapshotName(5) + ".tmp"), [1, 2, 3]);
        using var store = DataStore.Open(_dir.Dir);
        Assert.Equal(0, store.Report.SnapshotIndex);
        Assert.Equal([LogFormat.LockFile, LogFormat.ManifestFile, LogFormat.SegmentName(1)], _dir.FileNames());
    }
}
