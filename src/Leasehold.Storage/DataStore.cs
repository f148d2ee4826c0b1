using System.Diagnostics;
using Leasehold.Core;

namespace Leasehold.Storage;

/// <summary>What start-up found and did, for the log and for operators.</summary>
public sealed record RecoveryReport(long SnapshotIndex, long RecordsReplayed, long TruncatedBytes, TimeSpan Elapsed, long NextIndex);

/// <summary>
/// One data directory: its lock, the log segments and the snapshots. <see cref="Open"/> recovers the
/// engine; afterwards the writer frames records (<see cref="NextIndex"/>) and the flusher writes them
/// (<see cref="Write"/>, <see cref="Sync"/>). Snapshots are written on a background thread.
/// </summary>
public sealed class DataStore : IDisposable
{
    private readonly string _dir;
    private readonly FileStream _lock;
    private readonly long _segmentBytes;
    private FileStream _segment;
    private long _segmentFirstIndex;
    private long _nextToWrite;

    private DataStore(string dir, FileStream lockFile, long segmentBytes, LockEngine engine, RecoveryReport report)
    {
        _dir = dir;
        _lock = lockFile;
        _segmentBytes = segmentBytes;
        Engine = engine;
        Report = report;
        NextIndex = report.NextIndex;
        _nextToWrite = report.NextIndex;
        _segment = null!;
    }

    public LockEngine Engine { get; }

    public RecoveryReport Report { get; }

    public string Directory => _dir;

    /// <summary>The index the next framed record gets. Only the writer thread touches it.</summary>
    public long NextIndex { get; set; }

    /// <summary>
    /// Locks the directory (a second server on it fails here), loads the newest snapshot, replays the log
    /// after it, cuts a torn last record, and opens the log for appending.
    /// </summary>
    public static DataStore Open(string dir, EngineLimits? limits = null, long segmentBytes = 64L << 20)
    {
        System.IO.Directory.CreateDirectory(dir);
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(Path.Combine(dir, LogFormat.LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"the data directory {dir} is in use by another Leasehold server ({ex.Message})", ex);
        }
        try
        {
            var clock = Stopwatch.StartNew();
            foreach (var tmp in System.IO.Directory.EnumerateFiles(dir, "*.tmp"))
            {
                File.Delete(tmp);
            }
            var (snapshotIndex, engine) = LoadSnapshot(dir, limits);
            long replayed = 0;
            var end = LogReader.Replay(dir, snapshotIndex, (_, command) =>
            {
                engine.Apply(command);
                replayed++;
            });
            engine.Outcomes.Clear();
            var next = Math.Max(end.NextIndex, snapshotIndex + 1);
            var report = new RecoveryReport(snapshotIndex, replayed, end.TruncatedBytes, clock.Elapsed, next);
            var store = new DataStore(dir, lockFile, segmentBytes, engine, report);
            // A last segment shorter than its header (a crash while creating it) is cut to nothing: write it again, header first.
            if (end.LastSegment is not null && end.NextIndex == next && end.LastSegmentLength >= LogFormat.SegmentHeaderSize)
            {
                store.Continue(end.LastSegment, end.LastSegmentLength, next);
            }
            else
            {
                store.StartSegment(next);
            }
            return store;
        }
        catch
        {
            lockFile.Dispose();
            throw;
        }
    }

    private static (long Index, LockEngine Engine) LoadSnapshot(string dir, EngineLimits? limits)
    {
        var newest = System.IO.Directory.EnumerateFiles(dir, "snapshot-*.snap")
            .Select(f => (Ok: LogFormat.TryParseIndex(Path.GetFileName(f), "snapshot-", ".snap", out var i), Index: i, File: f))
            .Where(s => s.Ok)
            .OrderByDescending(s => s.Index)
            .FirstOrDefault();
        if (newest.File is null)
        {
            return (0, new LockEngine(limits));
        }
        var (index, state) = SnapshotCodec.Read(newest.File, File.ReadAllBytes(newest.File));
        if (index != newest.Index)
        {
            throw new CorruptDataException(newest.File, 16, $"the snapshot says it covers record {index}, its name says {newest.Index}");
        }
        return (index, LockEngine.Restore(state, limits));
    }

    private void Continue(string path, long length, long nextIndex)
    {
        _segment = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
        _segment.Position = length;
        _segmentFirstIndex = LogFormat.TryParseIndex(Path.GetFileName(path), "wal-", ".log", out var first) ? first : nextIndex;
        _nextToWrite = nextIndex;
    }

    private void StartSegment(long firstIndex)
    {
        var path = Path.Combine(_dir, LogFormat.SegmentName(firstIndex));
        var segment = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
        Span<byte> header = stackalloc byte[LogFormat.SegmentHeaderSize];
        LogFormat.SegmentMagic.CopyTo(header);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(header[8..], LogFormat.Version);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(header[12..], 0);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(header[16..], firstIndex);
        segment.Write(header);
        segment.Flush(flushToDisk: true);
        NativeFile.SyncDirectory(_dir);
        var previous = _segment;
        _segment = segment;
        _segmentFirstIndex = firstIndex;
        _nextToWrite = firstIndex;
        if (previous is not null)
        {
            previous.Flush(flushToDisk: true);
            previous.Dispose();
        }
    }

    /// <summary>Appends a batch of framed records (flusher thread). Rolls to a new segment past the size limit.</summary>
    public void Write(LogBuffer batch)
    {
        if (batch.Records == 0)
        {
            return;
        }
        if (batch.FirstIndex != _nextToWrite)
        {
            throw new InvalidOperationException($"log batch starts at {batch.FirstIndex}, the log is at {_nextToWrite}");
        }
        if (_segment.Length >= _segmentBytes)
        {
            StartSegment(_nextToWrite);
        }
        _segment.Write(batch.Written);
        _nextToWrite += batch.Records;
    }

    /// <summary>Makes everything written so far durable.</summary>
    public void Sync() => _segment.Flush(flushToDisk: true);

    /// <summary>
    /// Called by the flusher once every record up to <paramref name="index"/> is written: later records go to
    /// a new segment, so that the snapshot of <paramref name="index"/> can replace every older one.
    /// </summary>
    public void CutAt(long index)
    {
        if (_nextToWrite != index + 1)
        {
            throw new InvalidOperationException($"cut at {index} while the log is at {_nextToWrite}");
        }
        if (_segmentFirstIndex != index + 1)
        {
            StartSegment(index + 1);
        }
    }

    /// <summary>
    /// Writes a snapshot file atomically (temporary file, fsync, rename, directory fsync), then deletes the
    /// segments and snapshots it makes unnecessary. Safe to run beside the flusher: it touches only files
    /// before the segment that <see cref="CutAt"/> started.
    /// </summary>
    public void WriteSnapshot(long index, ReadOnlySpan<byte> bytes)
    {
        var final = Path.Combine(_dir, LogFormat.SnapshotName(index));
        var tmp = final + ".tmp";
        using (var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }
        File.Move(tmp, final, overwrite: true);
        NativeFile.SyncDirectory(_dir);
        foreach (var (first, path) in LogReader.Segments(_dir))
        {
            if (first <= index && HasSuccessorAtOrBefore(first, index + 1))
            {
                File.Delete(path);
            }
        }
        foreach (var old in System.IO.Directory.EnumerateFiles(_dir, "snapshot-*.snap"))
        {
            if (LogFormat.TryParseIndex(Path.GetFileName(old), "snapshot-", ".snap", out var i) && i < index)
            {
                File.Delete(old);
            }
        }
        NativeFile.SyncDirectory(_dir);
    }

    /// <summary>True when another segment starts after <paramref name="first"/> and no later than <paramref name="limit"/>, so every record of the segment at <paramref name="first"/> is below it.</summary>
    private bool HasSuccessorAtOrBefore(long first, long limit)
        => LogReader.Segments(_dir).Any(s => s.FirstIndex > first && s.FirstIndex <= limit);

    public void Dispose()
    {
        if (_segment is not null)
        {
            _segment.Flush(flushToDisk: true);
            _segment.Dispose();
        }
        _lock.Dispose();
    }
}
