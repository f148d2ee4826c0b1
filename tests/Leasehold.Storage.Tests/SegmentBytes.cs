using System.Buffers.Binary;
using Leasehold.Core;

namespace Leasehold.Storage.Tests;

/// <summary>Reads record boundaries out of a segment file's bytes, and damages files on purpose.</summary>
public static class SegmentBytes
{
    /// <summary>(offset, total length) of every whole record after the segment header.</summary>
    public static List<(int Offset, int Length)> Records(byte[] data)
    {
        var records = new List<(int, int)>();
        var offset = LogFormat.SegmentHeaderSize;
        while (offset + LogFormat.RecordHeaderSize <= data.Length)
        {
            var length = LogFormat.RecordHeaderSize + BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(offset));
            Assert.True(offset + length <= data.Length, "the segment ends inside a record");
            records.Add((offset, length));
            offset += length;
        }
        Assert.Equal(data.Length, offset);
        return records;
    }

    public static List<(int Offset, int Length)> Records(string path) => Records(File.ReadAllBytes(path));

    public static void FlipByte(string path, long offset)
    {
        var data = File.ReadAllBytes(path);
        data[offset] ^= 0x5A;
        File.WriteAllBytes(path, data);
    }

    public static void Cut(string path, long length)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
        file.SetLength(length);
    }

    public static void AppendZeros(string path, int count)
    {
        using var file = new FileStream(path, FileMode.Append, FileAccess.Write);
        file.Write(new byte[count]);
    }

    /// <summary>Logs <paramref name="count"/> granted exclusive acquires on /r/1, /r/2, ... (one record each).</summary>
    /// <summary>Logs <paramref name="count"/> acquires in a new directory and returns the records of its first segment.</summary>
    public static List<(int Offset, int Length)> LogAcquireRecords(TempDir dir, int count)
    {
        using (var d = new StoreDriver(dir.Dir))
        {
            LogAcquires(d, count);
        }
        var records = Records(dir.Segment(1));
        Assert.Equal(count, records.Count);
        return records;
    }

    public static void LogAcquires(StoreDriver driver, int count, int firstNumber = 1)
    {
        for (var i = firstNumber; i < firstNumber + count; i++)
        {
            Cmd.Granted(driver.Apply(new AcquireLease
            {
                Now = Cmd.T0 + i,
                Paths = Cmd.Ps($"/r/{i}"),
                Owner = $"owner-{i}",
                Principal = $"principal-{i}",
                TtlMs = 60_000,
                Token = TokenOf(i),
            }));
        }
    }

    /// <summary>The token of acquire number <paramref name="number"/>; its last byte is never zero (nor is the record's, the principal's last letter).</summary>
    public static UInt128 TokenOf(int number) => new(0xF000_0000_0000_0000UL + (ulong)number, (ulong)number * 1000);
}
