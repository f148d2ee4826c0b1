using Leasehold.Storage;

namespace Leasehold.Server.Engine;

public sealed partial class EngineHost
{
    /// <summary>
    /// The flusher thread: takes every batch waiting, writes their records, syncs once for all of them
    /// (group commit), and only then answers them. Under the interval policy it answers after the write
    /// and syncs when the interval has passed, or when it runs out of work before that.
    /// </summary>
    private void FlushLoop()
    {
        var store = _store!;
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
                        SyncIdle(store, ref lastSync);
                        unsynced = false;
                    }
                    continue;
                }
                batches.Add(first);
                while (_flush.TryTake(out var more))
                {
                    batches.Add(more);
                }
                unsynced = Flush(store, batches, unsynced, ref lastSync);
                batches.Clear();
            }
            if (unsynced)
            {
                SyncIdle(store, ref lastSync);
            }
        }
        finally
        {
            _flusherDone.TrySetResult();
        }
    }

    /// <summary>Writes and answers one drain of batches; returns whether written records still await an fsync.</summary>
    private bool Flush(DataStore store, List<Batch> batches, bool unsynced, ref long lastSync)
    {
        try
        {
            var written = 0;
            foreach (var batch in batches)
            {
                if (batch.Log is not null)
                {
                    store.Write(batch.Log);
                    written += batch.Log.Records;
                }
                if (batch.Snapshot is { } snapshot)
                {
                    store.Sync();
                    store.CutAt(snapshot.Index);
                    _snapshotWrite = Task.Run(() => WriteSnapshot(store, snapshot.Index, snapshot.Bytes));
                }
            }
            unsynced |= written > 0;
            // A drain of queries only needs no fsync: drains go in order, so everything before it is synced.
            if (unsynced && (_durability.Policy == FlushPolicy.Fsync || _time.GetElapsedTime(lastSync) >= _durability.FsyncInterval))
            {
                Sync(store, ref lastSync);
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
            _storageFailure = ex;
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
    private void SyncIdle(DataStore store, ref long lastSync)
    {
        try
        {
            Sync(store, ref lastSync);
        }
        catch (Exception ex)
        {
            _storageFailure = ex;
            LogStorageFailed(ex);
        }
    }

    private void Sync(DataStore store, ref long lastSync)
    {
        store.Sync();
        Interlocked.Increment(ref _syncs);
        lastSync = _time.GetTimestamp();
    }
}
