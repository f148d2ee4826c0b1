using Leasehold.Core;
using Microsoft.Win32.SafeHandles;

namespace Leasehold.Storage;

/// <summary>What start-up found and did, for the log and for operators.</summary>
public sealed record RecoveryReport(long SnapshotIndex, long RecordsReplayed, long TruncatedBytes, TimeSpan Elapsed, long NextIndex)
{
    /// <summary>The segment whose torn tail was cut at <see cref="TornOffset"/>, or null.</summary>
    public string? TornSegment { get; init; }

    public long TornOffset { get; init; }

    /// <summary>What is gone, one sentence each; only ever filled when the operator accepted data loss.</summary>
    public IReadOnlyList<string> Lost { get; init; } = [];

    /// <summary>Other changes start-up made that an operator should hear of: a manifest created, file modes tightened.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>
    /// The latest time (Unix ms) the recovered data records: of the commands replayed and of the snapshot's
    /// leases, waiters and history. The server's clock never starts before it, so a wall clock that went
    /// back while the server was down cannot make a recovered deadline later than its full ttl.
    /// </summary>
    public long LatestTime { get; init; }
}

/// <summary>
/// One data directory: its lock, manifest, log segments and snapshots. <see cref="Open"/> recovers the
/// engine; afterwards the writer frames records (<see cref="NextIndex"/>) and the flusher writes them
/// (<see cref="Write(LogBuffer)"/>, <see cref="Sync"/>). Snapshots are written on a background thread.
/// </summary>
public sealed partial class DataStore : IDisposable
{
    private readonly string _dir;
    private readonly FileStream _lock;
    private readonly long _segmentBytes;
    private readonly bool _preallocate;
    private FileStream _segment;
    private SafeFileHandle _segmentHandle = null!;
    private readonly List<ReadOnlyMemory<byte>> _gather = [];
    private long _segmentFirstIndex;
    private long _nextToWrite;

    private DataStore(string dir, FileStream lockFile, long segmentBytes, bool preallocate, LockEngine engine, RecoveryReport report)
    {
        _dir = dir;
        _lock = lockFile;
        _segmentBytes = segmentBytes;
        _preallocate = preallocate;
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

    private void Continue(string path, long length, long nextIndex)
    {
        _segment = PrivateFiles.Create(path, FileMode.Open, FileAccess.Write, FileShare.Read, bufferSize: 1);
        _segmentHandle = _segment.SafeFileHandle;
        _segment.Position = length;
        // What recovery read may still be only in the page cache (a process crash under `interval`): made durable
        // before the manifest says the log reaches it. A segment written before preallocation, or cut back to its last
        // record, gets its rest allocated again.
        SyncAndPreallocate(_segment);
        _segmentFirstIndex = LogFormat.TryParseIndex(Path.GetFileName(path), "wal-", ".log", out var first) ? first : nextIndex;
        _nextToWrite = nextIndex;
    }

    private void StartSegment(long firstIndex)
    {
        // The previous segment is durable before the next one exists, so that a crash never leaves a torn
        // segment that is not the last, and the manifest below may say the log reaches firstIndex - 1.
        // A preallocated segment is cut back to its last record first: only the last segment may end in unwritten space.
        var previous = _segment;
        if (previous is not null && previous.Length > previous.Position)
        {
            previous.SetLength(previous.Position);
        }
        previous?.Flush(flushToDisk: true);
        var path = Path.Combine(_dir, LogFormat.SegmentName(firstIndex));
        var segment = PrivateFiles.Create(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 1);
        Span<byte> header = stackalloc byte[LogFormat.SegmentHeaderSize];
        LogFormat.SegmentMagic.CopyTo(header);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(header[8..], LogFormat.Version);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(header[12..], 0);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(header[16..], firstIndex);
        segment.Write(header);
        // A power cut never leaves a segment of zeros whose header is missing (recovery would take it for a damaged
        // segment, not one cut while being created).
        SyncAndPreallocate(segment);
        NativeFile.SyncDirectory(_dir);
        _segment = segment;
        _segmentHandle = segment.SafeFileHandle;
        _segmentFirstIndex = firstIndex;
        _nextToWrite = firstIndex;
        previous?.Dispose();
        // Listed only once its header is durable: a listed segment shorter than a header was emptied, not torn.
        RecordSegment(firstIndex);
    }

    /// <summary>
    /// Syncs what is written to <paramref name="segment"/>, then allocates its rest (<see cref="Preallocate"/>) and syncs
    /// the new length: the length is never durable before the bytes it follows.
    /// </summary>
    private void SyncAndPreallocate(FileStream segment)
    {
        segment.Flush(flushToDisk: true);
        if (Preallocate(segment))
        {
            segment.Flush(flushToDisk: true);
        }
    }

    /// <summary>
    /// Allocates the segment's space up to its size limit and extends the file to it (reading as zeros), so that
    /// the fsync after each append does not also have to commit a new file size: a write and fsync took 30 % less time
    /// (docs/performance.md). Where the file system cannot, the segment grows as it is written. Returns whether the
    /// file's length changed.
    /// </summary>
    private bool Preallocate(FileStream segment)
    {
        if (!_preallocate || segment.Length >= _segmentBytes)
        {
            return false;
        }
        var error = NativeFile.Preallocate(segment.SafeFileHandle, _segmentBytes);
        if (error > 0)
        {
            PreallocationFailures++;
            LastPreallocationFailure = $"allocating {_segmentBytes} bytes for {Path.GetFileName(segment.Name)} failed (errno {error}); it grows as it is written";
        }
        return error == 0;
    }

    /// <summary>
    /// How many times a segment's space could not be allocated ahead (<see cref="Preallocate"/>), which costs every fsync
    /// more; <see cref="LastPreallocationFailure"/> says why the last time. Written by whoever creates a segment (the opening thread, then the one that writes the log).
    /// </summary>
    public int PreallocationFailures { get; private set; }

    /// <summary>The last failure counted by <see cref="PreallocationFailures"/>, or null.</summary>
    public string? LastPreallocationFailure { get; private set; }

    /// <summary>Appends a batch of framed records (flusher thread). Rolls to a new segment past the size limit.</summary>
    public void Write(LogBuffer batch) => Write([batch]);

    /// <summary>
    /// Appends batches of framed records, in order (flusher thread), with one gathered write for all of those that go
    /// to the same segment: a flush of many small batches costs one write, not one each. Rolls to a new segment past
    /// the size limit, checked before each batch as if they were written one by one. A batch that does not continue the
    /// ones before it is refused before anything of the call is written.
    /// </summary>
    public void Write(IReadOnlyList<LogBuffer> batches)
    {
        var expected = _nextToWrite;
        foreach (var batch in batches)
        {
            if (batch.Records == 0)
            {
                continue;
            }
            if (batch.FirstIndex != expected)
            {
                throw new InvalidOperationException($"log batch starts at {batch.FirstIndex}, the log is at {expected}");
            }
            expected += batch.Records;
        }
        try
        {
            // The records gathered for one write, and where in the current segment they go.
            var position = 0L;
            var length = 0L;
            var records = 0;
            foreach (var batch in batches)
            {
                if (batch.Records == 0)
                {
                    continue;
                }
                if (_gather.Count > 0 && position + length >= _segmentBytes)
                {
                    // The segment reaches its limit before this batch: what is gathered goes out, then a new segment.
                    WriteGathered(position, length, records);
                }
                if (_gather.Count == 0)
                {
                    if (_segment.Position >= _segmentBytes)
                    {
                        StartSegment(_nextToWrite);
                    }
                    (position, length, records) = (_segment.Position, 0, 0);
                }
                _gather.Add(batch.WrittenMemory);
                length += batch.Length;
                records += batch.Records;
            }
            if (_gather.Count > 0)
            {
                WriteGathered(position, length, records);
            }
        }
        finally
        {
            // No reference to the batches' pooled arrays outlives the call.
            _gather.Clear();
        }
    }

    private void WriteGathered(long position, long length, int records)
    {
        RandomAccess.Write(_segmentHandle, _gather, position);
        _segment.Position = position + length;
        _nextToWrite += records;
        _gather.Clear();
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
