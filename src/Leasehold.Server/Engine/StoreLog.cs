using System.Collections.Concurrent;
using Leasehold.Core;
using Leasehold.Storage;

namespace Leasehold.Server.Engine;

/// <summary>
/// A single server's data directory as the writer's log. The flusher thread takes every batch waiting, writes
/// their records, syncs once for all of them (group commit), and only then answers them. Under the interval
/// policy it answers after the write and syncs when the interval has passed, or when it runs out of work before
/// that. Snapshots are captured by the writer between commands and written here after the batch they follow.
/// </summary>
internal sealed partial class StoreLog : ICommitLog
{
    private readonly DataStore _store;
    private readonly DurabilityOptions _durability;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BlockingCollection<Batch> _flush = [];
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _syncs;
    private long _sinceSnapshot;
    private volatile Task? _snapshotWrite;
    private volatile Exception? _failure;

    public StoreLog(DataStore store, DurabilityOptions durability, TimeProvider time, ILogger logger)
    {
        _store = store;
        _durability = durability;
        _time = time;
        _logger = logger;
        // fsync blocks for milliseconds: on a thread of its own it never starves the request thread pool.
        new Thread(FlushLoop) { IsBackground = true, Name = "leasehold-flusher" }.Start();
    }

    public bool Logs => true;

    public long TakeIndex()
    {
        _sinceSnapshot++;
        return _store.NextIndex++;
    }

    public Exception? Failure => _failure;

    public FlushPolicy Policy => _durability.Policy;

    public long Syncs => Interlocked.Read(ref _syncs);

    public void Submit(Batch batch) => _flush.Add(batch);

    public void Close() => _flush.CompleteAdding();

    public Task Closed => _done.Task;

    /// <summary>
    /// On the writer, after a pass: captures a snapshot of <paramref name="engine"/> when enough records were
    /// logged since the last one and none is being written; it is written once <paramref name="batch"/> is.
    /// </summary>
    public void MaybeSnapshot(Batch batch, LockEngine engine)
    {
        if (_sinceSnapshot < _durability.SnapshotEvery || _snapshotWrite is { IsCompleted: false })
        {
            return;
        }
        // Captured here, between commands, so it is exactly the state after record NextIndex - 1.
        var index = _store.NextIndex - 1;
        _sinceSnapshot = 0;
        try
        {
            batch.Snapshot = (index, SnapshotCodec.Encode(index, engine.Capture()));
        }
        catch (Exception ex)
        {
            // A bug in capturing or encoding: the log still holds everything, so serve on and try again later.
            LogSnapshotFailed(ex, index);
        }
    }

    /// <summary>Waits for the flusher and any snapshot being written, then closes the data directory.</summary>
    public async ValueTask DisposeAsync()
    {
        await _done.Task.ConfigureAwait(false);
        _flush.Dispose();
        if (_snapshotWrite is { } snapshot)
        {
            await snapshot.ConfigureAwait(false);
        }
        _store.Dispose();
    }

    private void FlushLoop()
    {
        var batches = new List<Batch>();
        var unsynced = false;
        var lastSync = _time.GetTimestamp();
        try
        {
            while (!_flush.IsCompleted)
            {
                var timeout = unsynced
                    ? Math.Max(0, (int)(_durability.FsyncInterval - _time.GetElapsedTime(lastSync)).TotalMilliseconds)
                    : Timeout.Infinite;
                if (!_flush.TryTake(out var first, timeout))
                {
                    if (unsynced)
                    {
                        SyncIdle(ref lastSync);
                        unsynced = false;
                    }
                    continue;
                }
                batches.Add(first);
                while (_flush.TryTake(out var more))
                {
                    batches.Add(more);
                }
                unsynced = Flush(batches, unsynced, ref lastSync);
                batches.Clear();
            }
            if (unsynced)
            {
                SyncIdle(ref lastSync);
            }
        }
        finally
        {
            _done.TrySetResult();
        }
    }

    /// <summary>Writes and answers one drain of batches; returns whether written records still await an fsync.</summary>
    private bool Flush(List<Batch> batches, bool unsynced, ref long lastSync)
    {
        try
        {
            var written = 0;
            foreach (var batch in batches)
            {
                if (batch.Log is not null)
                {
                    _store.Write(batch.Log);
                    written += batch.Log.Records;
                }
                if (batch.Snapshot is { } snapshot)
                {
                    _store.Sync();
                    _store.CutAt(snapshot.Index);
                    _snapshotWrite = Task.Run(() => WriteSnapshot(snapshot.Index, snapshot.Bytes));
                }
            }
            unsynced |= written > 0;
            // A drain of queries only needs no fsync: drains go in order, so everything before it is synced.
            if (unsynced && (_durability.Policy == FlushPolicy.Fsync || _time.GetElapsedTime(lastSync) >= _durability.FsyncInterval))
            {
                Sync(ref lastSync);
                unsynced = false;
            }
            foreach (var batch in batches)
            {
                batch.Complete();
            }
            return unsynced;
        }
        catch (Exception ex)
        {
            // The engine is now ahead of the disk: refuse every further change rather than acknowledge what is not kept.
            _failure = ex;
            LogStorageFailed(ex);
            foreach (var batch in batches)
            {
                batch.Fail(ex);
            }
            return false;
        }
    }

    /// <summary>
    /// The interval policy's sync when no batch is waiting: a failure is the log's failure like any other
    /// (every later change is refused), never an exception that ends the flusher and, with it, the process.
    /// </summary>
    private void SyncIdle(ref long lastSync)
    {
        try
        {
            Sync(ref lastSync);
        }
        catch (Exception ex)
        {
            _failure = ex;
            LogStorageFailed(ex);
        }
    }

    private void Sync(ref long lastSync)
    {
        _store.Sync();
        Interlocked.Increment(ref _syncs);
        lastSync = _time.GetTimestamp();
    }

    private void WriteSnapshot(long index, System.Buffers.ArrayBufferWriter<byte> bytes)
    {
        try
        {
            _store.WriteSnapshot(index, bytes.WrittenSpan);
            LogSnapshotWritten(index, bytes.WrittenCount);
        }
        catch (Exception ex)
        {
            // The log still holds everything; the next snapshot tries again.
            LogSnapshotFailed(ex, index);
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Writing the log failed; the server refuses every change from now on. Restart it once the disk is fixed")]
    private partial void LogStorageFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot of record {Index} written ({Bytes} bytes)")]
    private partial void LogSnapshotWritten(long index, int bytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing the snapshot of record {Index} failed")]
    private partial void LogSnapshotFailed(Exception ex, long index);
}
