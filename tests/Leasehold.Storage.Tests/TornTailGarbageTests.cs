using System.Buffers.Binary;

namespace Leasehold.Storage.Tests;

/// <summary>
/// A crash can leave stale disk blocks after the last record, not only zeros or a cut record. Whatever those
/// bytes say, damage that no intact record follows is a torn tail: it is cut. Damage with an intact record
/// after it is a hole in acknowledged data and still stops start-up.
/// </summary>
public class TornTailGarbageTests : IDisposable
{
    private const int Records = 6;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Segment => _dir.Segment(1);

    private List<(int Offset, int Length)> LogRecords() => SegmentBytes.LogAcquireRecords(_dir, Records);

    private static void Append(string path, byte[] bytes)
    {
        using var file = new FileStream(path, FileMode.Append, FileAccess.Write);
        file.Write(bytes);
    }

    /// <param name="seed">The random bytes.</param>
    /// <param name="length">Their count.</param>
    /// <param name="firstWord">What their first four bytes (the next record's length field) read as.</param>
    [Theory]
    [InlineData(1, 4096, -1)]
    [InlineData(2, 4096, int.MinValue)]
    [InlineData(3, 100, -123_456)]
    [InlineData(4, 4096, 0)]
    [InlineData(5, 4096, int.MaxValue)]
    [InlineData(6, 4096, 40)]
    [InlineData(7, 20, 3)]
    [InlineData(8, 9, -7)]
    public void RandomBytesAfterTheLastRecordAreATornTail(int seed, int length, int firstWord)
    {
        LogRecords();
        var whole = new FileInfo(Segment).Length;
        var garbage = new byte[length];
        new Random(seed).NextBytes(garbage);
        BinaryPrimitives.WriteInt32LittleEndian(garbage, firstWord);
        Append(Segment, garbage);

        using (var d = new StoreDriver(_dir.Dir))
        {
            Assert.Equal(length, d.Store.Report.TruncatedBytes);
            Assert.Equal(whole, new FileInfo(Segment).Length);
            Assert.Equal(Records + 1, d.Store.NextIndex);
            Assert.Equal(Records, d.Engine.Leases.Count);
            SegmentBytes.LogAcquires(d, 1, firstNumber: 100);
        }
        using var store = DataStore.Open(_dir.Dir);
        Assert.Equal(0, store.Report.TruncatedBytes);
        Assert.Equal(Records + 1, store.Engine.Leases.Count);
    }

    [Fact]
    public void StaleOlderRecordsAfterTheLastRecordAreATornTail()
    {
        // Blocks of the log's own past (a deleted segment's records, intact but numbered before the tail) came back
        // after the last record: they cannot be acknowledged records that belong after it.
        var records = LogRecords();
        var data = File.ReadAllBytes(Segment);
        var stale = new byte[7];
        new Random(9).NextBytes(stale);
        BinaryPrimitives.WriteInt32LittleEndian(stale, 20);
        Append(Segment, [.. stale, .. data.AsSpan(records[0].Offset, records[1].Offset + records[1].Length - records[0].Offset)]);
        var damaged = new FileInfo(Segment).Length;

        using var store = DataStore.Open(_dir.Dir);
        Assert.Equal(damaged - data.Length, store.Report.TruncatedBytes);
        Assert.Equal(data.Length, new FileInfo(Segment).Length);
        Assert.Equal(Records + 1, store.NextIndex);
    }

    [Fact]
    public void ShortenedLengthOfTheLastRecordIsATornTail()
    {
        var records = LogRecords();
        var (offset, length) = records[^1];
        var bytes = File.ReadAllBytes(Segment);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), length - LogFormat.RecordHeaderSize - 10);
        File.WriteAllBytes(Segment, bytes);

        using var store = DataStore.Open(_dir.Dir);
        Assert.Equal(length, store.Report.TruncatedBytes);
        Assert.Equal(offset, new FileInfo(Segment).Length);
        Assert.Equal(Records, store.NextIndex);
    }

    /// <summary>
    /// Garbage over two whole records (a lost block), whose length field reads as past the end of the file, with
    /// intact records after it: those later records were acknowledged, so nothing may be cut. (Zeros there refuse too,
    /// as a loss only the operator may accept: PreallocatedSegmentTests.)
    /// </summary>
    [Theory]
    [InlineData(0x7F)]
    [InlineData(0xFF)]
    [InlineData(0x00)]
    public void GarbageOverSeveralRecordsWithIntactRecordsAfterItIsRefused(byte fill)
    {
        var records = LogRecords();
        var bytes = File.ReadAllBytes(Segment);
        var from = records[2].Offset;
        var to = records[3].Offset + records[3].Length;
        bytes.AsSpan(from, to - from).Fill(fill);
        File.WriteAllBytes(Segment, bytes);

        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir));
        Assert.Equal(Segment, ex.File);
        Assert.Equal(from, ex.Offset);
        Assert.Equal(bytes, File.ReadAllBytes(Segment));
    }

    [Fact]
    public void RandomBytesBeforeTheLastRecordAreRefused()
    {
        var records = LogRecords();
        var bytes = File.ReadAllBytes(Segment);
        var (offset, length) = records[^2];
        var garbage = new byte[length];
        new Random(10).NextBytes(garbage);
        BinaryPrimitives.WriteInt32LittleEndian(garbage, -5);
        garbage.CopyTo(bytes, offset);
        File.WriteAllBytes(Segment, bytes);

        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir));
        Assert.Equal(offset, ex.Offset);
        Assert.Contains("impossible record length -5", ex.Message, StringComparison.Ordinal);
    }
}
