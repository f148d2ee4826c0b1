using System.Buffers.Binary;
using Leasehold.Core;

namespace Leasehold.Storage;

/// <summary>
/// Where the log ends after recovery: the segment to keep appending to and the next record index. Reading
/// changes no file: <see cref="DataStore"/> cuts the torn tail and moves unusable segments aside once it has
/// decided to start.
/// </summary>
public sealed record LogEnd(string? LastSegment, long LastSegmentLength, long NextIndex, long TruncatedBytes)
{
    /// <summary>The format version of <see cref="LastSegment"/>: appending to it is only right when it is the current one.</summary>
    public int LastSegmentVersion { get; init; } = LogFormat.Version;

    /// <summary>The segment whose torn tail is to be cut at <see cref="TornOffset"/>, or null.</summary>
    public string? TornSegment { get; init; }

    public long TornOffset { get; init; }

    /// <summary>What is cut from <see cref="TornSegment"/> holds intact records (a loss accepted): it is to be kept aside.</summary>
    public bool KeepCut { get; init; }

    /// <summary>Segments after a hole that cannot be replayed (only when loss is accepted).</summary>
    public IReadOnlyList<string> Unusable { get; init; } = [];

    /// <summary>What the hole lost, one sentence each (only when loss is accepted).</summary>
    public IReadOnlyList<string> Lost { get; init; } = [];
}

/// <summary>
/// Reads the log segments of a data directory in order and hands each command after a snapshot's index
/// to a callback. A torn tail of the last segment (damage that no intact record follows) is reported for
/// cutting; damage anywhere else throws <see cref="CorruptDataException"/>, since skipping it could drop
/// an acknowledged command.
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
    /// <param name="acceptLoss">
    /// A missing stretch of the log (a deleted or emptied segment, or zeros where records should be with records or a
    /// segment after them, as in a copy taken while the server wrote) ends the replay there instead of throwing: the
    /// segments after it are listed in <see cref="LogEnd.Unusable"/>. Any other damage inside a segment still throws.
    /// </param>
    public static LogEnd Replay(string dir, long afterIndex, Action<long, Command> apply, bool acceptLoss = false)
    {
        var segments = Segments(dir);
        var expected = afterIndex + 1;
        var start = 0;
        // Skip segments whose every record is in the snapshot: those followed by a segment starting at or before `expected`.
        while (start + 1 < segments.Count && segments[start + 1].FirstIndex <= expected)
        {
            start++;
        }
        string? last = null, torn = null;
        var keepCut = false;
        long lastLength = 0, truncated = 0, tornAt = 0;
        var lastVersion = LogFormat.Version;
        var lost = new List<string>();
        var usable = segments.Count;
        // The segment before ended where only zeros followed (unwritten space), at this offset; -1: it ended at its end.
        long zerosAt = -1;
        for (var s = start; s < segments.Count; s++)
        {
            var (first, path) = segments[s];
            var isLast = s == segments.Count - 1;
            if (zerosAt >= 0 && first != expected)
            {
                // The segment before ends in zeros where records should be (the next does not start after its last
                // record): a copy that read its end before the server wrote it, or a disk that lost writes.
                var zeros = $"{Path.GetFileName(last)} at offset {zerosAt}: only zeros after record {expected - 1}, and the next segment starts at record {first} (a copy taken while the server wrote, or lost writes)";
                if (!acceptLoss)
                {
                    throw CorruptDataException.MissingData(last!, zerosAt, zeros);
                }
                lost.Add($"{zeros}; records from {expected} on are lost");
                usable = s;
                break;
            }
            string? hole = null;
            if (first > expected && s == start)
            {
                hole = $"the log starts at record {first} but record {expected} is needed (a segment is missing)";
            }
            else if (s > start && first != expected)
            {
                hole = $"the segment starts at record {first}, expected {expected} (a segment is missing or overlaps)";
            }
            else if (!isLast && new FileInfo(path).Length < LogFormat.SegmentHeaderSize)
            {
                hole = "the segment header is incomplete (the segment was emptied)";
            }
            if (hole is not null)
            {
                if (!acceptLoss)
                {
                    throw CorruptDataException.MissingData(path, $"{Path.GetFileName(path)} at offset 0: {hole}");
                }
                lost.Add($"{Path.GetFileName(path)} at offset 0: {hole}; records from {expected} on are lost");
                usable = s;
                break;
            }
            var lostBefore = lost.Count;
            var (length, next, cut, version, endsInZeros) = ReadSegment(path, first, isLast, afterIndex, apply, acceptLoss, lost);
            if (cut > 0)
            {
                (torn, tornAt) = (path, length);
                // Records after zeros, cut with the loss accepted: kept aside, never deleted.
                keepCut = lost.Count > lostBefore;
            }
            zerosAt = endsInZeros ? length : -1;
            expected = next;
            last = path;
            lastLength = length;
            lastVersion = version;
            truncated += cut;
        }
        return new LogEnd(last, lastLength, expected, truncated)
        {
            TornSegment = torn,
            TornOffset = tornAt,
            KeepCut = keepCut,
            Unusable = [.. segments.Skip(usable).Select(s => s.Path)],
            Lost = lost,
            LastSegmentVersion = lastVersion,
        };
    }

    private static (long ValidLength, long NextIndex, long Truncated, int Version, bool EndsInZeros) ReadSegment(
        string path, long first, bool isLast, long afterIndex, Action<long, Command> apply, bool acceptLoss, List<string> lost)
    {
        var data = File.ReadAllBytes(path);
        if (data.Length < LogFormat.SegmentHeaderSize)
        {
            if (isLast)
            {
                // Cut while the segment was being created: nothing in it was ever acknowledged.
                return (0, first, data.Length, LogFormat.Version, false);
            }
            throw new CorruptDataException(path, 0, "the segment header is incomplete");
        }
        if (!data.AsSpan(0, 8).SequenceEqual(LogFormat.SegmentMagic))
        {
            throw new CorruptDataException(path, 0, "not a Leasehold log segment (bad magic)");
        }
        var version = BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(8));
        if (version is < LogFormat.OldestVersion or > LogFormat.Version)
        {
            throw new CorruptDataException(path, 8, $"log format version {version}; this server reads versions {LogFormat.OldestVersion} to {LogFormat.Version}");
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
                // Nothing but zeros to the end: the segment's preallocated space, never written. The segment ends here
                // and nothing is cut (the next segment, if any, must still start at the next index).
                var rest = data.AsSpan((int)offset);
                var lastWritten = rest.LastIndexOfAnyExcept((byte)0);
                if (lastWritten < 0)
                {
                    return (offset, index, 0, version, true);
                }
                // Torn: nothing after the damage is an intact record of this log's future, whatever the bytes are
                // (a crash can leave zeros or stale disk blocks past the last record a write finished). What is cut
                // is counted up to the last byte that is not zero: the zeros after it were never written.
                var next = FirstRecordAfter(data, offset, offset + lastWritten + 1, index);
                if (isLast && next < 0)
                {
                    return (offset, index, lastWritten + 1, version, false);
                }
                if (next >= 0 && UnwrittenStretch(data.AsSpan((int)offset, (int)(next - offset)), offset))
                {
                    // Zeros where records should be, and records after them: a copy of the data directory that read this
                    // stretch before the server wrote it and a later one after (a backup of a running server), or a disk
                    // that lost writes. Only the operator can tell: with the loss accepted, the log ends here, and what is
                    // cut is kept aside (DataStore).
                    var zeros = $"{Path.GetFileName(path)} at offset {offset}: zeros where record {index} should be, and records after them (a copy taken while the server wrote, or lost writes)";
                    if (!acceptLoss)
                    {
                        throw CorruptDataException.MissingData(path, offset, zeros);
                    }
                    lost.Add($"{zeros}; records from {index} on are lost (the bytes cut are kept aside)");
                    return (offset, index, lastWritten + 1, version, true);
                }
                throw new CorruptDataException(path, offset, problem);
            }
            if (index > afterIndex)
            {
                Command command;
                try
                {
                    command = CommandCodec.Read(data.AsSpan((int)offset + LogFormat.RecordHeaderSize, payloadLength), version);
                }
                catch (FormatException ex)
                {
                    throw new CorruptDataException(path, offset, "the record's checksum matches but it does not decode: " + ex.Message);
                }
                apply(index, version < 2 ? ClearTokens.Hash(command) : command);
            }
            offset += LogFormat.RecordHeaderSize + payloadLength;
            index++;
        }
        return (offset, index, 0, version, false);
    }

    /// <summary>
    /// Decodes the framed records of one written batch (<see cref="LogBuffer.Written"/>), numbered from
    /// <paramref name="firstIndex"/>, with the same checks and the same decoding as <see cref="Replay"/>: what a
    /// caller applies is exactly what recovery would apply from the segment. Any damage throws
    /// <see cref="CorruptDataException"/> naming <paramref name="source"/>.
    /// </summary>
    /// <returns>The number of records read.</returns>
    public static int ReadRecords(ReadOnlySpan<byte> records, long firstIndex, string source, Action<long, Command> apply)
    {
        var offset = 0;
        var index = firstIndex;
        while (offset < records.Length)
        {
            if (CheckRecord(records, offset, index, out var payloadLength) is { } problem)
            {
                throw new CorruptDataException(source, offset, problem);
            }
            Command command;
            try
            {
                command = CommandCodec.Read(records.Slice(offset + LogFormat.RecordHeaderSize, payloadLength));
            }
            catch (FormatException ex)
            {
                throw new CorruptDataException(source, offset, "the record's checksum matches but it does not decode: " + ex.Message);
            }
            apply(index, command);
            offset += LogFormat.RecordHeaderSize + payloadLength;
            index++;
        }
        return (int)(index - firstIndex);
    }

    private static string? CheckRecord(ReadOnlySpan<byte> data, long offset, long index, out int payloadLength)
    {
        payloadLength = -1;
        if (data.Length - offset < LogFormat.RecordHeaderSize)
        {
            return "the record header is incomplete";
        }
        var record = data[(int)offset..];
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
    /// Where is the first intact record (a valid length, a matching checksum; -1: none) numbered <paramref name="index"/>
    /// or later, starting after <paramref name="offset"/> and before <paramref name="end"/> (past the last byte that is
    /// not zero)? If there is one, the damage is not a torn tail but a hole in the middle, and cutting there would drop
    /// acknowledged records. Intact records numbered before it are stale blocks of the log's own past, not records that
    /// belong after the damage.
    /// </summary>
    private static long FirstRecordAfter(byte[] data, long offset, long end, long index)
    {
        var rest = end - offset;
        for (var at = (int)offset + 1; at < end && at <= data.Length - LogFormat.RecordHeaderSize; at++)
        {
            var record = data.AsSpan(at);
            var length = BinaryPrimitives.ReadInt32LittleEndian(record);
            if (length <= 0 || length > LogFormat.MaxPayload || length > record.Length - LogFormat.RecordHeaderSize)
            {
                continue;
            }
            // Every record takes more than its header, so no record after the damage can be numbered past this.
            var stored = BinaryPrimitives.ReadInt64LittleEndian(record[8..]);
            if (stored < index || stored - index > rest / LogFormat.RecordHeaderSize)
            {
                continue;
            }
            if (Crc32C.Compute(record.Slice(8, 8 + length)) == BinaryPrimitives.ReadUInt32LittleEndian(record[4..]))
            {
                return at;
            }
        }
        return -1;
    }

    /// <summary>
    /// Does the damaged stretch <paramref name="damage"/> (at <paramref name="offset"/> of its file) look like space never
    /// written rather than bytes gone bad: zeros where a record header should be, or a record header's worth of zeros
    /// ending at a 4 KiB boundary (a page read before the server wrote it, or a page a disk lost)?
    /// </summary>
    private static bool UnwrittenStretch(ReadOnlySpan<byte> damage, long offset)
    {
        const int Page = 4096;
        if (damage.Length >= LogFormat.RecordHeaderSize && damage[..LogFormat.RecordHeaderSize].IndexOfAnyExcept((byte)0) < 0)
        {
            return true;
        }
        for (var end = (int)(((offset / Page) + 1) * Page - offset); end <= damage.Length; end += Page)
        {
            if (end >= LogFormat.RecordHeaderSize && damage[(end - LogFormat.RecordHeaderSize)..end].IndexOfAnyExcept((byte)0) < 0)
            {
                return true;
            }
        }
        return false;
    }
}
