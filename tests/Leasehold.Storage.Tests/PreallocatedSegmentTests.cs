using System.Buffers.Binary;

namespace Leasehold.Storage.Tests;

/// <summary>
/// The server preallocates each log segment to its size limit, so that the fsync after an append commits no new
/// file size. The space after the last record reads as zeros: recovery ends the log there and cuts nothing, records
/// go on right after the last one, a segment rolled over is cut back to its last record, and a torn record in that
/// space is cut as in a segment that grows, its space allocated again.
/// </summary>
public class PreallocatedSegmentTests : IDisposable
{
    private const long Limit = 64 << 10;

    /// <summary>Where the file system cannot allocate (anywhere but Linux), a segment grows as it is written.</summary>
    private static readonly bool Allocates = OperatingSystem.IsLinux();

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Where the records of a segment end: after the header, record by record up to the first length that is zero.</summary>
    private static int DataEnd(byte[] data)
    {
        var offset = LogFormat.SegmentHeaderSize;
        while (offset + LogFormat.RecordHeaderSize <= data.Length && BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(offset)) is > 0 and var length)
        {
            offset += LogFormat.RecordHeaderSize + length;
        }
        return offset;
    }

    private static int Count(byte[] data) => SegmentBytes.Records(data.AsSpan(0, DataEnd(data)).ToArray()).Count;

    private void AssertPreallocatedWithRecords(string segment, int records)
    {
        var data = File.ReadAllBytes(segment);
        Assert.Equal(Allocates ? Limit : DataEnd(data), data.Length);
        Assert.Equal(records, Count(data));
        Assert.True(data.AsSpan(DataEnd(data)).IndexOfAnyExcept((byte)0) < 0, "bytes after the last record");
    }

    [Fact]
    public void ASegmentTakesItsWholeSizeAndTheLogGoesOnAfterItsLastRecord()
    {
        using (var d = new StoreDriver(_dir.Dir, Limit, preallocate: true))
        {
            Assert.Equal(Allocates ? Limit : LogFormat.SegmentHeaderSize, new FileInfo(_dir.Segment(1)).Length);
            SegmentBytes.LogAcquires(d, 3);
        }
        AssertPreallocatedWithRecords(_dir.Segment(1), 3);

        using (var d = new StoreDriver(_dir.Dir, Limit, preallocate: true))
        {
            Assert.Equal(0, d.Store.Report.TruncatedBytes);
            Assert.Null(d.Store.Report.TornSegment);
            Assert.Equal(4, d.Store.NextIndex);
            Assert.Equal(3, d.Engine.Leases.Count);
            SegmentBytes.LogAcquires(d, 2, firstNumber: 100);
        }
        AssertPreallocatedWithRecords(_dir.Segment(1), 5);

        using var store = DataStore.Open(_dir.Dir, segmentBytes: Limit, preallocate: true);
        Assert.Equal(0, store.Report.TruncatedBytes);
        Assert.Equal(6, store.NextIndex);
        Assert.Equal(["/r/1", "/r/2", "/r/3", "/r/100", "/r/101"], store.Engine.Capture().Leases.Select(l => l.Paths[0].Value));
    }

    [Fact]
    public void ASegmentEndedBeforeItIsFullIsCutBackToItsLastRecord()
    {
        using (var d = new StoreDriver(_dir.Dir, Limit, preallocate: true))
        {
            SegmentBytes.LogAcquires(d, 3);
            // What the flusher does where a snapshot is due: the records so far stay in this segment, later ones go to a new one.
            d.Store.Sync();
            d.Store.CutAt(d.Store.NextIndex - 1);
            SegmentBytes.LogAcquires(d, 2, firstNumber: 100);
        }
        Assert.Equal([1L, 4L], _dir.Segments().Select(s => s.FirstIndex));
        // SegmentBytes.Records reads to the file's end: no space is left after the last record.
        Assert.Equal(3, SegmentBytes.Records(_dir.Segment(1)).Count);
        AssertPreallocatedWithRecords(_dir.Segment(4), 2);

        using var store = DataStore.Open(_dir.Dir, segmentBytes: Limit, preallocate: true);
        Assert.Equal(0, store.Report.TruncatedBytes);
        Assert.Equal(6, store.NextIndex);
        Assert.Equal(5, store.Engine.Leases.Count);
    }

    [Fact]
    public void SegmentsRolledOverBySizeHoldEveryRecordOnce()
    {
        const long Small = 4096;
        const int Records = 100;
        using (var d = new StoreDriver(_dir.Dir, Small, preallocate: true))
        {
            SegmentBytes.LogAcquires(d, Records);
        }
        var segments = _dir.Segments();
        Assert.True(segments.Count >= 3, $"only {segments.Count} segments");
        // Each segment rolled over once full, not before: several records each.
        var counts = segments.SkipLast(1).Select(s => SegmentBytes.Records(s.Path).Count).ToList();
        Assert.All(counts, count => Assert.True(count > 10, $"a segment of {count} records"));
        var last = File.ReadAllBytes(segments[^1].Path);
        Assert.Equal(Allocates ? Small : DataEnd(last), last.Length);
        Assert.Equal(Records, counts.Sum() + Count(last));

        using var store = DataStore.Open(_dir.Dir, segmentBytes: Small, preallocate: true);
        Assert.Equal(0, store.Report.TruncatedBytes);
        Assert.Equal(Records + 1, store.NextIndex);
        Assert.Equal(Records, store.Engine.Leases.Count);
    }

    [Fact]
    public void ATornRecordInThePreallocatedSpaceIsCutAndTheSpaceAllocatedAgain()
    {
        using (var d = new StoreDriver(_dir.Dir, Limit, preallocate: true))
        {
            SegmentBytes.LogAcquires(d, 5);
        }
        var segment = _dir.Segment(1);
        var data = File.ReadAllBytes(segment);
        var end = DataEnd(data);
        var (lastOffset, lastLength) = SegmentBytes.Records(data.AsSpan(0, end).ToArray())[^1];
        // Half of a record written after the last one when the crash came: a header with a length, half its payload.
        var torn = data.AsSpan(lastOffset, lastLength / 2).ToArray();
        torn[^1] = 0x7F;
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write))
        {
            file.Position = end;
            file.Write(torn);
        }

        using (var d = new StoreDriver(_dir.Dir, Limit, preallocate: true))
        {
            Assert.Equal(segment, d.Store.Report.TornSegment);
            Assert.Equal(end, d.Store.Report.TornOffset);
            Assert.Equal(torn.Length, d.Store.Report.TruncatedBytes);
            Assert.Equal(6, d.Store.NextIndex);
            AssertPreallocatedWithRecords(segment, 5);
            SegmentBytes.LogAcquires(d, 1, firstNumber: 100);
        }

        using var store = DataStore.Open(_dir.Dir, segmentBytes: Limit, preallocate: true);
        Assert.Equal(0, store.Report.TruncatedBytes);
        Assert.Equal(["/r/1", "/r/2", "/r/3", "/r/4", "/r/5", "/r/100"], store.Engine.Capture().Leases.Select(l => l.Paths[0].Value));
    }

    [Fact]
    public void ASegmentWrittenWithoutPreallocationIsAllocatedWhenTheLogGoesOnInIt()
    {
        using (var d = new StoreDriver(_dir.Dir, Limit))
        {
            SegmentBytes.LogAcquires(d, 3);
        }
        Assert.True(new FileInfo(_dir.Segment(1)).Length < Limit);

        using (var d = new StoreDriver(_dir.Dir, Limit, preallocate: true))
        {
            Assert.Equal(0, d.Store.Report.TruncatedBytes);
            AssertPreallocatedWithRecords(_dir.Segment(1), 3);
            SegmentBytes.LogAcquires(d, 1, firstNumber: 100);
        }

        // And read back by a store that does not preallocate (a server of the version before).
        using var store = DataStore.Open(_dir.Dir, segmentBytes: Limit);
        Assert.Equal(0, store.Report.TruncatedBytes);
        Assert.Equal(5, store.NextIndex);
        Assert.Equal(4, store.Engine.Leases.Count);
    }

    [Fact]
    public void ZerosAfterTheLastRecordOfASegmentThatIsNotTheLastLoseNothing()
    {
        using (var d = new StoreDriver(_dir.Dir, 600))
        {
            SegmentBytes.LogAcquires(d, 12);
        }
        var segments = _dir.Segments();
        Assert.True(segments.Count >= 2, $"only {segments.Count} segments");
        // A preallocated segment left uncut: the next segment still starts at the next record, so nothing is missing.
        SegmentBytes.AppendZeros(segments[0].Path, 8192);

        using var store = DataStore.Open(_dir.Dir, segmentBytes: 600);
        Assert.Equal(0, store.Report.TruncatedBytes);
        Assert.Equal(13, store.NextIndex);
        Assert.Equal(12, store.Engine.Leases.Count);
    }

    [Fact]
    public void ZerosWhereRecordsShouldBeWithRecordsAfterThemRefuseUnlessTheLossIsAccepted()
    {
        using (var d = new StoreDriver(_dir.Dir, Limit, preallocate: true))
        {
            SegmentBytes.LogAcquires(d, 6);
        }
        var segment = _dir.Segment(1);
        var data = File.ReadAllBytes(segment);
        var written = DataEnd(data);
        var records = SegmentBytes.Records(data.AsSpan(0, written).ToArray());
        // A copy of a running server's directory: it read the stretch of records 3 and 4 before they were written, and
        // the blocks after it once records 5 and 6 were.
        var (from, _) = records[2];
        var (to, _) = records[4];
        data.AsSpan(from, to - from).Clear();
        File.WriteAllBytes(segment, data);
        var before = File.ReadAllBytes(segment);

        var refused = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir, segmentBytes: Limit, preallocate: true));
        Assert.True(refused.LossAcceptable);
        Assert.Contains($"{LogFormat.SegmentName(1)} at offset {from}: zeros where record 3 should be", refused.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(segment));

        using (var d = new StoreDriver(_dir.Dir, Limit, preallocate: true, acceptDataLoss: true))
        {
            Assert.Contains(d.Store.Report.Lost, l => l.Contains("records from 3 on are lost", StringComparison.Ordinal));
            Assert.Equal(from, d.Store.Report.TornOffset);
            // What was cut (the zeros and records 5 and 6) is kept aside, not deleted.
            Assert.Equal(before.AsSpan(from, written - from).ToArray(), File.ReadAllBytes(segment + LogFormat.LostSuffix));
            Assert.Equal(3, d.Store.NextIndex);
            AssertPreallocatedWithRecords(segment, 2);
            SegmentBytes.LogAcquires(d, 1, firstNumber: 100);
        }

        using var store = DataStore.Open(_dir.Dir, segmentBytes: Limit, preallocate: true);
        Assert.Empty(store.Report.Lost);
        Assert.Equal(["/r/1", "/r/2", "/r/100"], store.Engine.Capture().Leases.Select(l => l.Paths[0].Value));
    }

    [Fact]
    public void ASegmentEndingInZerosBeforeAGapRefusesUnlessTheLossIsAccepted()
    {
        using (var d = new StoreDriver(_dir.Dir, Limit, preallocate: true))
        {
            SegmentBytes.LogAcquires(d, 3);
            d.Store.Sync();
            d.Store.CutAt(d.Store.NextIndex - 1);
            SegmentBytes.LogAcquires(d, 2, firstNumber: 100);
        }
        // The first segment as a copy read it before its last record was written: zeros where record 3 is.
        var first = _dir.Segment(1);
        var data = File.ReadAllBytes(first);
        var (at, _) = SegmentBytes.Records(data)[^1];
        data.AsSpan(at).Clear();
        File.WriteAllBytes(first, data);

        var refused = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir, segmentBytes: Limit, preallocate: true));
        Assert.True(refused.LossAcceptable);
        Assert.Contains($"{LogFormat.SegmentName(1)} at offset {at}: only zeros after record 2, and the next segment starts at record 4", refused.Message, StringComparison.Ordinal);

        using var store = DataStore.Open(_dir.Dir, segmentBytes: Limit, preallocate: true, acceptDataLoss: true);
        Assert.Contains(store.Report.Lost, l => l.Contains("records from 3 on are lost", StringComparison.Ordinal));
        Assert.Equal(3, store.NextIndex);
        Assert.Equal(["/r/1", "/r/2"], store.Engine.Capture().Leases.Select(l => l.Paths[0].Value));
        Assert.True(File.Exists(_dir.Segment(4) + LogFormat.LostSuffix));
    }

    [Fact]
    public void ATornRecordBeforeZerosToAPageEndWithRecordsAfterIsALossToAccept()
    {
        using (var d = new StoreDriver(_dir.Dir, Limit, preallocate: true))
        {
            SegmentBytes.LogAcquires(d, 80);
        }
        var segment = _dir.Segment(1);
        var data = File.ReadAllBytes(segment);
        var records = SegmentBytes.Records(data.AsSpan(0, DataEnd(data)).ToArray());
        Assert.True(DataEnd(data) > 8192 + 200, "the records do not reach a third page");
        // A copy that read the second page while the server was writing a record in it (its header and the start of its
        // payload were there, the rest of the page not yet), and the third page once records were written there.
        var torn = records.FindIndex(r => r.Offset > 4096 + 100);
        var (tornAt, _) = records[torn];
        data.AsSpan(tornAt + LogFormat.RecordHeaderSize + 4, 8192 - (tornAt + LogFormat.RecordHeaderSize + 4)).Clear();
        File.WriteAllBytes(segment, data);

        var refused = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir, segmentBytes: Limit, preallocate: true));
        Assert.True(refused.LossAcceptable);
        Assert.Equal(tornAt, refused.Offset);

        using var store = DataStore.Open(_dir.Dir, segmentBytes: Limit, preallocate: true, acceptDataLoss: true);
        Assert.Equal(torn + 1, store.NextIndex);
        Assert.Equal(torn, store.Engine.Leases.Count);
    }

    [Theory]
    [InlineData(0x7F)]
    [InlineData(0xFF)]
    public void OtherDamageWithRecordsAfterItRefusesEvenWithTheLossAccepted(byte fill)
    {
        using (var d = new StoreDriver(_dir.Dir, Limit, preallocate: true))
        {
            SegmentBytes.LogAcquires(d, 6);
        }
        var segment = _dir.Segment(1);
        var data = File.ReadAllBytes(segment);
        var records = SegmentBytes.Records(data.AsSpan(0, DataEnd(data)).ToArray());
        data.AsSpan(records[2].Offset, records[4].Offset - records[2].Offset).Fill(fill);
        File.WriteAllBytes(segment, data);

        var refused = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir, segmentBytes: Limit, preallocate: true, acceptDataLoss: true));
        Assert.False(refused.LossAcceptable);
        Assert.Equal(records[2].Offset, refused.Offset);
        Assert.Equal(data, File.ReadAllBytes(segment));
    }

    [Fact]
    public void ASegmentThatCannotBeAllocatedGrowsAsItIsWritten()
    {
        // Larger than any file the file system can hold (as a disk too full to allocate would refuse): the server goes on
        // with a segment that grows, rather than failing its start or its writes.
        const long TooLarge = 1L << 50;
        using (var d = new StoreDriver(_dir.Dir, TooLarge, preallocate: true))
        {
            SegmentBytes.LogAcquires(d, 3);
            // Counted and said, for the server to report: every fsync costs more without it. (Refused as too large a
            // file, EFBIG, rather than a full disk's ENOSPC: the same path.) Elsewhere nothing is tried, so nothing fails.
            Assert.Equal(Allocates ? 1 : 0, d.Store.PreallocationFailures);
            if (Allocates)
            {
                Assert.Matches(@"^allocating 1125899906842624 bytes for wal-0*1\.log failed \(errno \d+\)", d.Store.LastPreallocationFailure);
            }
        }
        Assert.Equal(3, SegmentBytes.Records(_dir.Segment(1)).Count);

        using var store = DataStore.Open(_dir.Dir, segmentBytes: TooLarge, preallocate: true);
        Assert.Equal(0, store.Report.TruncatedBytes);
        Assert.Equal(4, store.NextIndex);
        // Continuing the segment tries again.
        Assert.Equal(Allocates ? 1 : 0, store.PreallocationFailures);
    }

    [Fact]
    public void AnAllocatedSegmentCountsNoFailure()
    {
        using (var d = new StoreDriver(_dir.Dir, Limit, preallocate: true))
        {
            SegmentBytes.LogAcquires(d, 3);
            Assert.Equal(0, d.Store.PreallocationFailures);
            Assert.Null(d.Store.LastPreallocationFailure);
        }
        // Allocated indeed (where the platform can): not merely nothing tried.
        AssertPreallocatedWithRecords(_dir.Segment(1), 3);
    }
}
