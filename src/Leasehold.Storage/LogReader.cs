using System.Buffers.Binary;
using Leasehold.Core;

namespace Leasehold.Storage;

/// <summary>Where the log ends after recovery: the segment to keep appending to and the next record index.</summary>
public sealed record LogEnd(string? LastSegment, long LastSegmentLength, long NextIndex, long TruncatedBytes);

/// <summary>
/// Reads the log segments of a data directory in order and hands each command after a snapshot's index
/// to a callback. A torn last record (a write cut short by a crash) is cut off; damage anywhere else
/// throws <see cref="CorruptDataException"/>, since skipping it could drop an acknowledged command.
/// </summary>
public static class LogReader
{
    public static IReadOnlyList<(long FirstIndex, string Path)> Segments(string dir)
    {
        var found = new List<(long, string)>();
        foreach (var file in Directory.EnumerateFiles(dir, "wal-*.log"))
        {
            if (LogFormat.TryParseIndex(Path.GetFileName(file), "wal-", ".log", out var first))
            {
                found.Add((first, file));
            }
        }
        found.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return found;
    }

    /// <param name="dir">The data directory.</param>
    /// <param name="afterIndex">Commands up to this index are in the snapshot already (0: none).</param>
    /// <param name="apply">Called with each later command, in order.</param>
    public static LogEnd Replay(string dir, long afterIndex, Action<long, Command> apply)
    {
        var segments = Segments(dir);
        var expected = afterIndex + 1;
        var start = 0;
        // Skip segments whose every record is in the snapshot: those followed by a segment starting at or before `expected`.
        while (start + 1 < segments.Count && segments[start + 1].FirstIndex <= expected)
        {
            start++;
        }
        if (segments.Count > 0 && segments[start].FirstIndex > expected)
        {
            throw new CorruptDataException(segments[start].Path, 0,
                $"the log starts at record {segments[start].FirstIndex} but record {expected} is needed (a segment is missing)");
        }
        string? last = null;
        long lastLength = 0, truncated = 0;
        for (var s = start; s < segments.Count; s++)
        {
            var (first, path) = segments[s];
            var isLast = s == segments.Count - 1;
            if (s > start && first != expected)
            {
                throw new CorruptDataException(path, 0, $"the segment starts at record {first}, expected {expected} (a segment is missing or overlaps)");
            }
            var (length, next, cut) = ReadSegment(path, first, isLast, afterIndex, apply);
            expected = next;
            last = path;
            lastLength = length;
            truncated += cut;
        }
        return new LogEnd(last, lastLength, expected, truncated);
    }

    private static (long ValidLength, long NextIndex, long Truncated) ReadSegment(string path, long first, bool isLast, long afterIndex, Action<long, Command> apply)
    {
        var data = File.ReadAllBytes(path);
        if (data.Length < LogFormat.SegmentHeaderSize)
        {
            if (isLast)
            {
                // Cut while the segment was being created: nothing in it was ever acknowledged.
                Truncate(path, 0);
                return (0, first, data.Length);
            }
            throw new CorruptDataException(path, 0, "the segment header is incomplete");
        }
        if (!data.AsSpan(0, 8).SequenceEqual(LogFormat.SegmentMagic))
        {
            throw new CorruptDataException(path, 0, "not a Leasehold log segment (bad magic)");
        }
        var version = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(8));
        if (version != LogFormat.Version)
        {
            throw new CorruptDataException(path, 8, $"log format version {version}; this server reads version {LogFormat.Version}");
        }
        if (BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(16)) != first)
        {
            throw new CorruptDataException(path, 16, "the header's first index does not match the file name");
        }
        var offset = (long)LogFormat.SegmentHeaderSize;
        var index = first;
        while (offset < data.Length)
        {
            var problem = CheckRecord(data, offset, index, out var payloadLength);
            if (problem is not null)
            {
                var end = offset + LogFormat.RecordHeaderSize + Math.Max(0, payloadLength);
                // Torn: the bad record runs to the end of the file, or only zeros follow it (a file length that got
                // ahead of its data during a crash may zero-fill the rest of a partly written batch).
                if (isLast && (end >= data.Length || IsZeros(data, end)) && !HasRecordAfter(data, offset, index + 1))
                {
                    Truncate(path, offset);
                    return (offset, index, data.Length - offset);
                }
                throw new CorruptDataException(path, offset, problem);
            }
            if (index > afterIndex)
            {
                Command command;
                try
                {
                    command = CommandCodec.Read(data.AsSpan((int)offset + LogFormat.RecordHeaderSize, payloadLength));
                }
                catch (FormatException ex)
                {
                    throw new CorruptDataException(path, offset, "the record's checksum matches but it does not decode: " + ex.Message);
                }
                apply(index, command);
            }
            offset += LogFormat.RecordHeaderSize + payloadLength;
            index++;
        }
        return (offset, index, 0);
    }

    private static string? CheckRecord(byte[] data, long offset, long index, out int payloadLength)
    {
        payloadLength = -1;
        if (data.Length - offset < LogFormat.RecordHeaderSize)
        {
            return "the record header is incomplete";
        }
        var record = data.AsSpan((int)offset);
        payloadLength = BinaryPrimitives.ReadInt32LittleEndian(record);
        if (payloadLength <= 0 || payloadLength > LogFormat.MaxPayload)
        {
            return $"impossible record length {payloadLength}";
        }
        if (record.Length < LogFormat.RecordHeaderSize + payloadLength)
        {
            return "the record is incomplete";
        }
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(record[4..]);
        if (Crc32C.Compute(record.Slice(8, 8 + payloadLength)) != crc)
        {
            return "the record's checksum does not match";
        }
        var stored = BinaryPrimitives.ReadInt64LittleEndian(record[8..]);
        return stored == index ? null : $"record index {stored}, expected {index}";
    }

    /// <summary>
    /// Is there an intact record numbered <paramref name="next"/> after <paramref name="offset"/>? If so the
    /// damage is not a torn tail but a hole in the middle, and cutting there would drop acknowledged records.
    /// </summary>
    private static bool HasRecordAfter(byte[] data, long offset, long next)
    {
        Span<byte> pattern = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(pattern, next);
        var from = (int)offset + 1;
        while (from < data.Length)
        {
            var hit = data.AsSpan(from).IndexOf(pattern);
            if (hit < 0)
            {
                return false;
            }
            var start = from + hit - 8;
            if (start > offset && CheckRecord(data, start, next, out _) is null)
            {
                return true;
            }
            from += hit + 1;
        }
        return false;
    }

    private static bool IsZeros(byte[] data, long offset) => data.AsSpan((int)offset).IndexOfAnyExcept((byte)0) < 0;

    private static void Truncate(string path, long length)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None);
        file.SetLength(length);
        file.Flush(flushToDisk: true);
    }
}
