using Leasehold.Core;

namespace Leasehold.Storage.Tests;

/// <summary>
/// A crash while the last batch was being written leaves a torn last record, perhaps followed by zeros
/// (a file length that got ahead of its data, or the segment's preallocated space). Recovery cuts it off, keeps
/// every whole record before it, and the log carries on from there. Zeros alone after the last whole record are
/// space never written: nothing is cut.
/// </summary>
public class TornTailTests : IDisposable
{
    private const int Records = 5;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public enum Cut
    {
        HeaderFirstByte,
        HeaderMiddle,
        HeaderLastByte,
        HeaderOnly,
        PayloadMiddle,
        LastByteMissing,
    }

    /// <summary>Logs <see cref="Records"/> acquires; returns the state after all but the last, and the last record's place.</summary>
    private (EngineState BeforeLast, int LastOffset, int LastLength) LogRecords()
    {
        using var d = new StoreDriver(_dir.Dir);
        SegmentBytes.LogAcquires(d, Records - 1);
        var before = d.Engine.Capture();
        SegmentBytes.LogAcquires(d, 1, firstNumber: Records);
        var last = SegmentBytes.Records(_dir.Segment(1))[^1];
        return (before, last.Offset, last.Length);
    }

    private static int CutPoint(Cut cut, int offset, int length) => cut switch
    {
        Cut.HeaderFirstByte => offset + 1,
        Cut.HeaderMiddle => offset + 8,
        Cut.HeaderLastByte => offset + LogFormat.RecordHeaderSize - 1,
        Cut.HeaderOnly => offset + LogFormat.RecordHeaderSize,
        Cut.PayloadMiddle => offset + LogFormat.RecordHeaderSize + ((length - LogFormat.RecordHeaderSize) / 2),
        Cut.LastByteMissing => offset + length - 1,
        _ => throw new ArgumentOutOfRangeException(nameof(cut)),
    };

    [Theory]
    [InlineData(Cut.HeaderFirstByte, 0)]
    [InlineData(Cut.HeaderMiddle, 0)]
    [InlineData(Cut.HeaderLastByte, 0)]
    [InlineData(Cut.HeaderOnly, 0)]
    [InlineData(Cut.PayloadMiddle, 0)]
    [InlineData(Cut.LastByteMissing, 0)]
    [InlineData(Cut.HeaderMiddle, 4)]
    [InlineData(Cut.HeaderOnly, 3)]
    [InlineData(Cut.PayloadMiddle, 5)]
    [InlineData(Cut.HeaderFirstByte, 4096)]
    [InlineData(Cut.HeaderOnly, 4096)]
    [InlineData(Cut.PayloadMiddle, 4096)]
    [InlineData(Cut.LastByteMissing, 4096)]
    public void TornLastRecordIsCutOffAndTheLogContinues(Cut cut, int zeros)
    {
        var (beforeLast, offset, length) = LogRecords();
        var segment = _dir.Segment(1);
        SegmentBytes.Cut(segment, CutPoint(cut, offset, length));
        SegmentBytes.AppendZeros(segment, zeros);
        // What is cut is counted up to the damage's last byte that is not zero (the zeros after it were never written).
        var damaged = File.ReadAllBytes(segment);
        var lastWritten = damaged.AsSpan().LastIndexOfAnyExcept((byte)0);
        Assert.True(lastWritten >= offset, "the damage left no byte of the torn record");

        using (var d = new StoreDriver(_dir.Dir))
        {
            Assert.Equal(lastWritten + 1 - offset, d.Store.Report.TruncatedBytes);
            Assert.True(d.Store.Report.TruncatedBytes > 0);
            Assert.Equal(offset, new FileInfo(segment).Length);
            Assert.Equal(Records, d.Store.NextIndex);
            Assert.Equal(Records - 1, d.Store.Report.RecordsReplayed);
            StateAssert.Equal(beforeLast, d.Engine.Capture());

            SegmentBytes.LogAcquires(d, 2, firstNumber: 100);
        }

        using var store = DataStore.Open(_dir.Dir);
        Assert.Equal(0, store.Report.TruncatedBytes);
        Assert.Equal(Records + 2, store.NextIndex);
        Assert.Equal(
            ["/r/1", "/r/2", "/r/3", "/r/4", "/r/100", "/r/101"],
            store.Engine.Capture().Leases.Select(l => l.Paths[0].Value));
        Assert.Equal(Records + 1, store.Engine.LastFence);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(LogFormat.RecordHeaderSize - 1)]
    [InlineData(LogFormat.RecordHeaderSize)]
    [InlineData(4096)]
    public void ZerosAfterTheLastWholeRecordAreSpaceNeverWritten(int zeros)
    {
        LogRecords();
        var segment = _dir.Segment(1);
        var whole = new FileInfo(segment).Length;
        SegmentBytes.AppendZeros(segment, zeros);

        using (var d = new StoreDriver(_dir.Dir))
        {
            Assert.Equal(0, d.Store.Report.TruncatedBytes);
            Assert.Null(d.Store.Report.TornSegment);
            Assert.Equal(whole + zeros, new FileInfo(segment).Length);
            Assert.Equal(Records + 1, d.Store.NextIndex);
            SegmentBytes.LogAcquires(d, 1, firstNumber: 100);
        }

        using var store = DataStore.Open(_dir.Dir);
        Assert.Equal(0, store.Report.TruncatedBytes);
        Assert.Equal(Records + 1, store.Engine.Leases.Count);
    }

    [Fact]
    public void CutAtARecordBoundaryTruncatesNothing()
    {
        var (beforeLast, offset, _) = LogRecords();
        SegmentBytes.Cut(_dir.Segment(1), offset);

        using var store = DataStore.Open(_dir.Dir);
        Assert.Equal(0, store.Report.TruncatedBytes);
        StateAssert.Equal(beforeLast, store.Engine.Capture());
    }

    [Fact]
    public void TornBatchOfSeveralRecordsIsCutAtItsFirstTornRecord()
    {
        int batchStart;
        using (var d = new StoreDriver(_dir.Dir))
        {
            SegmentBytes.LogAcquires(d, 2);
            batchStart = (int)new FileInfo(_dir.Segment(1)).Length;
            d.AutoFlush = false;
            SegmentBytes.LogAcquires(d, 3, firstNumber: 3);
            d.Flush();
        }
        var records = SegmentBytes.Records(_dir.Segment(1));
        Assert.Equal(batchStart, records[2].Offset);
        // The batch reached the disk only up to the middle of its second record.
        SegmentBytes.Cut(_dir.Segment(1), records[3].Offset + 20);

        using var store = DataStore.Open(_dir.Dir);
        Assert.Equal(4, store.NextIndex);
        Assert.Equal(records[3].Offset, new FileInfo(_dir.Segment(1)).Length);
    }

    /// <summary>
    /// A crash while the first segment of a new directory was being created leaves it shorter than its header,
    /// and no manifest yet: the manifest is written once the header is durable.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(LogFormat.SegmentHeaderSize - 1)]
    public void TornSegmentHeaderIsRewrittenAndTheLogContinues(int keep)
    {
        using (DataStore.Open(_dir.Dir))
        {
        }
        SegmentBytes.Cut(_dir.Segment(1), keep);
        File.Delete(_dir.File(LogFormat.ManifestFile));

        using (var d = new StoreDriver(_dir.Dir))
        {
            Assert.Equal(keep, d.Store.Report.TruncatedBytes);
            Assert.Equal(1, d.Store.NextIndex);
            SegmentBytes.LogAcquires(d, 2);
        }

        using var store = DataStore.Open(_dir.Dir);
        Assert.Equal(3, store.NextIndex);
        Assert.Equal(2, store.Engine.Leases.Count);
        Assert.Equal(Convert.FromHexString(GoldenLogTests.SegmentHeaderHex), File.ReadAllBytes(_dir.Segment(1))[..LogFormat.SegmentHeaderSize]);
    }

    /// <summary>
    /// A crash while a rolled segment was being created leaves it shorter than its header, and the manifest as
    /// it was before the roll (which lists the segment only once its header is durable).
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(LogFormat.SegmentHeaderSize - 1)]
    public void TornHeaderOfANewlyRolledSegmentIsRewritten(int keep)
    {
        var manifest = _dir.File(LogFormat.ManifestFile);
        byte[]? beforeLastRoll = null;
        using (var d = new StoreDriver(_dir.Dir, segmentBytes: 200))
        {
            for (var i = 1; i <= 8; i++)
            {
                var before = File.ReadAllBytes(manifest);
                var count = _dir.Segments().Count;
                SegmentBytes.LogAcquires(d, 1, firstNumber: i);
                beforeLastRoll = _dir.Segments().Count > count ? before : beforeLastRoll;
            }
        }
        var segments = _dir.Segments();
        Assert.True(segments.Count >= 3, $"{segments.Count} segments");
        var (lastFirst, lastPath) = segments[^1];
        SegmentBytes.Cut(lastPath, keep);
        File.WriteAllBytes(manifest, beforeLastRoll!);

        using (var d = new StoreDriver(_dir.Dir, segmentBytes: 200))
        {
            Assert.Equal(lastFirst, d.Store.NextIndex);
            SegmentBytes.LogAcquires(d, 4, firstNumber: 100);
        }

        using var store = DataStore.Open(_dir.Dir, segmentBytes: 200);
        Assert.Equal(lastFirst + 4, store.NextIndex);
        Assert.Equal((int)lastFirst - 1 + 4, store.Engine.Leases.Count);
    }
}
