namespace Leasehold.Storage.Tests;

/// <summary>Only one store may have a data directory open at a time.</summary>
public class DirectoryLockTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void SecondOpenFailsWhileTheFirstIsOpenAndSucceedsAfterDispose()
    {
        var first = DataStore.Open(_dir.Dir);
        try
        {
            var ex = Assert.Throws<IOException>(() => DataStore.Open(_dir.Dir));
            Assert.Contains("in use", ex.Message, StringComparison.Ordinal);
            Assert.Contains(_dir.Dir, ex.Message, StringComparison.Ordinal);
            // The failed attempt changed nothing.
            Assert.Equal([LogFormat.LockFile, LogFormat.ManifestFile, LogFormat.SegmentName(1)], _dir.FileNames());
        }
        finally
        {
            first.Dispose();
        }

        using var second = DataStore.Open(_dir.Dir);
        Assert.Equal(1, second.NextIndex);
    }

    [Fact]
    public void FailedRecoveryReleasesTheLock()
    {
        using (var driver = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(driver, 3);
        }
        var record = SegmentBytes.Records(_dir.Segment(1))[0];
        SegmentBytes.FlipByte(_dir.Segment(1), record.Offset + record.Length - 1);

        Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir));
        // Not "in use": the first attempt let go of the lock file when it failed.
        Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir));
    }
}
