using System.Buffers.Binary;

namespace Leasehold.Storage.Tests;

/// <summary>
/// Damage to a record that other intact records follow cannot be a torn write: recovery refuses to start
/// (rather than silently dropping acknowledged commands), names the file and the record's offset, and
/// leaves the file as it was.
/// </summary>
public class CorruptRecordTests : IDisposable
{
    private const int Records = 6;

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Segment => _dir.Segment(1);

    private List<(int Offset, int Length)> LogRecords() => SegmentBytes.LogAcquireRecords(_dir, Records);

    private CorruptDataException AssertRefusedUnchanged(long offset)
    {
        var before = File.ReadAllBytes(Segment);
        var ex = Assert.Throws<CorruptDataException>(() => DataStore.Open(_dir.Dir));
        Assert.Equal(Segment, ex.File);
        Assert.Equal(offset, ex.Offset);
        Assert.Contains(LogFormat.SegmentName(1), ex.Message, StringComparison.Ordinal);
        Assert.Contains($"offset {offset}", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Segment));
        return ex;
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(2, 0)]
    [InlineData(2, 1)]
    [InlineData(3, -1)]
    [InlineData(Records - 2, -1)]
    public void FlippedPayloadByteInTheMiddleIsCorruption(int record, int where)
    {
        var records = LogRecords();
        var (offset, length) = records[record];
        var at = where switch
        {
            0 => offset + LogFormat.RecordHeaderSize, // first payload byte (the tag)
            1 => offset + LogFormat.RecordHeaderSize + ((length - LogFormat.RecordHeaderSize) / 2),
            _ => offset + length - 1, // last payload byte
        };
        SegmentBytes.FlipByte(Segment, at);

        var ex = AssertRefusedUnchanged(offset);
        Assert.Contains("checksum", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4)] // checksum field
    [InlineData(8)] // index field
    [InlineData(15)]
    public void FlippedHeaderByteInTheMiddleIsCorruption(int headerByte)
    {
        var records = LogRecords();
        SegmentBytes.FlipByte(Segment, records[1].Offset + headerByte);
        AssertRefusedUnchanged(records[1].Offset);
    }

    public enum BadLength
    {
        Zero,
        Negative,
        OneShorter,
        OneLonger,
        PastTheFileEnd,
        OverTheMaximum,
        Huge,
    }

    [Theory]
    [InlineData(1, BadLength.Zero)]
    [InlineData(1, BadLength.Negative)]
    [InlineData(1, BadLength.OneShorter)]
    [InlineData(1, BadLength.OneLonger)]
    [InlineData(1, BadLength.PastTheFileEnd)]
    [InlineData(1, BadLength.OverTheMaximum)]
    [InlineData(1, BadLength.Huge)]
    [InlineData(Records - 2, BadLength.Zero)]
    [InlineData(Records - 2, BadLength.OneShorter)]
    [InlineData(Records - 2, BadLength.OneLonger)]
    [InlineData(Records - 2, BadLength.PastTheFileEnd)]
    [InlineData(Records - 2, BadLength.Huge)]
    public void CorruptedLengthFieldInTheMiddleIsCorruptionNotTruncation(int record, BadLength bad)
    {
        var records = LogRecords();
        var (offset, length) = records[record];
        var payload = length - LogFormat.RecordHeaderSize;
        var value = bad switch
        {
            BadLength.Zero => 0,
            BadLength.Negative => -payload,
            BadLength.OneShorter => payload - 1,
            BadLength.OneLonger => payload + 1,
            BadLength.PastTheFileEnd => (int)new FileInfo(Segment).Length,
            BadLength.OverTheMaximum => LogFormat.MaxPayload + 1,
            _ => int.MaxValue,
        };
        var bytes = File.ReadAllBytes(Segment);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), value);
        File.WriteAllBytes(Segment, bytes);

        AssertRefusedUnchanged(offset);
    }

    [Fact]
    public void WrongRecordIndexInTheMiddleIsCorruption()
    {
        var records = LogRecords();
        // Swap records 2 and 3 (both intact, but out of order).
        var bytes = File.ReadAllBytes(Segment);
        var a = bytes.AsSpan(records[2].Offset, records[2].Length).ToArray();
        var b = bytes.AsSpan(records[3].Offset, records[3].Length).ToArray();
        b.CopyTo(bytes, records[2].Offset);
        a.CopyTo(bytes, records[2].Offset + b.Length);
        File.WriteAllBytes(Segment, bytes);

        var ex = AssertRefusedUnchanged(records[2].Offset);
        Assert.Contains("record index 4, expected 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadSegmentMagicIsCorruption()
    {
        LogRecords();
        SegmentBytes.FlipByte(Segment, 0);
        var ex = AssertRefusedUnchanged(0);
        Assert.Contains("magic", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownSegmentVersionIsCorruption()
    {
        LogRecords();
        var bytes = File.ReadAllBytes(Segment);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), 4);
        File.WriteAllBytes(Segment, bytes);
        var ex = AssertRefusedUnchanged(8);
        Assert.Contains("version 4", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RecordWhoseChecksumMatchesButDoesNotDecodeIsCorruption()
    {
        var records = LogRecords();
        var bytes = File.ReadAllBytes(Segment);
        var (offset, length) = records[1];
        bytes[offset + LogFormat.RecordHeaderSize] = 200; // no such tag
        var crc = Crc32C.Compute(bytes.AsSpan(offset + 8, length - 8));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset + 4), crc);
        File.WriteAllBytes(Segment, bytes);

        var ex = AssertRefusedUnchanged(offset);
        Assert.Contains("unknown command tag 200", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// With nothing after it, a damaged last record cannot be told from a torn write, so it is cut off like
    /// one. It was never acknowledged unless it was synced, and a synced record is not torn.
    /// </summary>
    [Theory]
    [InlineData(LogFormat.RecordHeaderSize)] // the tag
    [InlineData(LogFormat.RecordHeaderSize + 20)] // inside the payload
    [InlineData(-1)] // the last payload byte
    [InlineData(4)] // the checksum
    [InlineData(8)] // the index
    [InlineData(1)] // the length, made longer than the file
    public void FlippedByteInTheLastRecordWithNothingAfterItIsTreatedAsTorn(int where)
    {
        var records = LogRecords();
        var (offset, length) = records[^1];
        SegmentBytes.FlipByte(Segment, where < 0 ? offset + length - 1 : offset + where);

        using var store = DataStore.Open(_dir.Dir);
        Assert.Equal(length, store.Report.TruncatedBytes);
        Assert.Equal(offset, new FileInfo(Segment).Length);
        Assert.Equal(Records, store.NextIndex);
    }
}
