using Leasehold.Core;

namespace Leasehold.Storage.Tests;

/// <summary>The store refuses batches and cuts that would leave a gap or an overlap in the record numbers.</summary>
public class WriteOrderTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void BatchThatDoesNotContinueTheLogIsRefused()
    {
        using var store = DataStore.Open(_dir.Dir);
        using var batch = new LogBuffer();
        batch.Append(2, new Tick { Now = 1 });

        Assert.Throws<InvalidOperationException>(() => store.Write(batch));
        Assert.Equal(LogFormat.SegmentHeaderSize, new FileInfo(_dir.Segment(1)).Length);
    }

    [Fact]
    public void EmptyBatchWritesNothing()
    {
        using var store = DataStore.Open(_dir.Dir);
        using var batch = new LogBuffer();
        store.Write(batch);
        store.Sync();
        Assert.Equal(LogFormat.SegmentHeaderSize, new FileInfo(_dir.Segment(1)).Length);
    }

    [Fact]
    public void CutBeforeEverythingIsWrittenIsRefused()
    {
        using var d = new StoreDriver(_dir.Dir) { AutoFlush = false };
        SegmentBytes.LogAcquires(d, 2);
        Assert.Throws<InvalidOperationException>(() => d.Store.CutAt(2));
        d.Flush();
        d.Store.CutAt(2);
        Assert.Throws<InvalidOperationException>(() => d.Store.CutAt(1));
    }

    [Fact]
    public void OneBatchOfManyRecordsReopens()
    {
        using (var d = new StoreDriver(_dir.Dir) { AutoFlush = false })
        {
            SegmentBytes.LogAcquires(d, 500);
            d.Flush();
        }
        using var store = DataStore.Open(_dir.Dir);
        Assert.Equal(501, store.NextIndex);
        Assert.Equal(500, store.Engine.LastFence);
    }
}
