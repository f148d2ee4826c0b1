using System.Collections.Concurrent;
using Leasehold.Core;
using Leasehold.Storage;

namespace Leasehold.Server.Engine;

/// <summary>
/// A single server's data directory as the writer's log. The flusher thread takes every batch waiting, writes
/// their records, syncs once for all of them (group commit), and only then answers them. Under the interval
/// policy it answers after the write and syncs when the interval has passed, or when it runs out of work before
/// that. Snapshots are not taken on the writer: it only marks the batch after which one is due; the flusher
/// cuts the log there and a <see cref="SnapshotReplica"/>, which has applied every written record, encodes and
/// writes the state as of that record on its own thread.
/// <para>
/// The flusher starts with the server (<see cref="Start"/>, from <see cref="EngineHost.Start()"/>), not when the log is
/// made: until then batches wait in its queue, applied but unanswered.
/// </para>
/// </summary>
internal sealed partial class StoreLog : ICommitLog
{
    /// <summary>A state whose snapshot is at least this large (about 80,000 leases) is collected at start-up.</summary>
    private const int LargeState = 8 << 20;

    private readonly DataStore _store;
    private readonly DurabilityOptions _durability;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BlockingCollection<Batch> _flush = [];
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SnapshotReplica _replica;

    /// <summary>The logs of one drain's batches, written with one call (flusher thread only).</summary>
    private readonly List<LogBuffer> _toWrite = [];
    private long _syncs;

    // 1 once the flusher thread is started.
    private int _started;

    /// <summary>Whether the flusher has been started (for tests).</summary>
    internal bool Started => Volatile.Read(ref _started) == 1;

    // The flusher's: records written since the last fsync (the commands that fsync makes durable).
    private long _unsyncedRecords;

    // The flusher's: the store's failures to allocate a segment ahead that have been logged.
    private int _preallocationFailuresSaid;

    // The flusher's: events of batches answered before their fsync (interval policy), published once it is done.
    private readonly List<(Events.EventHub Hub, List<Events.PublishedEvent> Events)> _unpublished = [];
    private volatile Exception? _failure;

    // The writer's: records since the last cut.
    private long _sinceSnapshot;

    // Set by the writer when it marks a cut, cleared by the replica once that snapshot is written or failed; while
    // set, only the writer reads the fields below it, and while clear, only the writer writes them.
    private volatile bool _snapshotBusy;
    private long _lastSnapshot;
    private long _retryAt;
    private int _failures;
    private long _snapshotsWritten;

    /// <param name="store">The data directory, recovered.</param>
    /// <param name="engine">The engine <paramref name="store"/> recovered, before the writer changes it: the replica starts from a copy.</param>
    /// <param name="durability">When a batch counts as kept, and how often to snapshot.</param>
    /// <param name="time">The flusher's clock (fsync intervals, snapshot retries).</param>
    /// <param name="logger">Where storage and snapshot failures are reported.</param>
    public StoreLog(DataStore store, LockEngine engine, DurabilityOptions durability, TimeProvider time, ILogger logger)
    {
        _store = store;
        _durability = durability;
        _time = time;
        _logger = logger;
        _lastSnapshot = store.Report.SnapshotIndex;
        // The replica starts from a copy made through the snapshot format (the one way a state is restored anywhere
        // else), here, before the writer starts: start-up takes a few seconds longer per million leases, and the copy's
        // objects are allocated before any request is served rather than under load (GC pauses).
        var index = store.NextIndex - 1;
        var bytes = SnapshotCodec.Encode(index, engine.Capture());
        var (_, copy) = SnapshotLoader.Load("(start-up copy of the recovered state)", bytes.WrittenSpan, engine.Limits);
        _replica = new SnapshotReplica(store, copy, index, logger, SnapshotFinished);
        if (bytes.WrittenCount >= LargeState)
        {
            // Both states were just allocated and are young: the first collections under load would copy them from
            // generation to generation (a gen1 pause of 0.6 s was measured with a million leases). Two full
            // collections now, before any request, move them to the oldest generation for good.
            GC.Collect();
            GC.Collect();
        }
    }

    /// <summary>
    /// Starts the flusher, which writes, syncs and answers the batches handed over (those waiting already first), and the
    /// snapshot replica's thread. Only the first call starts them; <see cref="Close"/> starts them too, so a log closed
    /// before it started still answers what it holds and ends.
    /// </summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _replica.Start();
            // fsync blocks for milliseconds: on a thread of its own it never starves the request thread pool.
            new Thread(FlushLoop) { IsBackground = true, Name = "leasehold-flusher" }.Start();
        }
    }

    /// <summary>Where write and fsync times are recorded; set before the first batch, then only read (flusher).</summary>
    public Metrics.LeaseholdMetrics? Metrics { get; set; }

    /// <summary>Snapshots written since start (for tests and metrics).</summary>
    public long SnapshotsWritten => Interlocked.Read(ref _snapshotsWritten);

    /// <summary>The index of the last record logged (writer thread; for tests).</summary>
    internal long LastIndex => _store.NextIndex - 1;

    /// <summary>The replica snapshots are taken from (for tests and the benchmark).</summary>
    internal SnapshotReplica Replica => _replica;

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

    public void Close()
    {
        _flush.CompleteAdding();
        Start();
    }

    public Task Closed => _done.Task;

    /// <summary>
    /// On the writer, after a pass: when enough records were logged since the last snapshot (or a failed one is
    /// due again) and none is being taken, marks <paramref name="batch"/> as the point to take one at. Nothing is
    /// captured here: the replica holds the same state once it has applied the batch. Only if the replica lost
    /// track is this one snapshot encoded from <paramref name="engine"/> here, pausing the writer, to seed it again.
    /// </summary>
    public void MaybeSnapshot(Batch batch, LockEngine engine)
    {
        if (_snapshotBusy || _failure is not null)
        {
            return;
        }
        var retryAt = _retryAt;
        if (_sinceSnapshot < _durability.SnapshotEvery && (retryAt == 0 || _time.GetTimestamp() < retryAt))
        {
            return;
        }
        // The state after the batch's last record: everything before it is in this batch or an earlier one.
        var index = _store.NextIndex - 1;
        if (index <= _lastSnapshot)
        {
            return;
        }
        _sinceSnapshot = 0;
        _retryAt = 0;
        if (_replica.Tracking)
        {
            _snapshotBusy = true;
            batch.Snapshot = (index, null);
            return;
        }
        try
        {
            var seed = SnapshotCodec.Encode(index, engine.Capture());
            _snapshotBusy = true;
            batch.Snapshot = (index, seed);
        }
        catch (Exception ex)
        {
            // A bug in capturing or encoding: the log still holds everything, so serve on and try again later.
            Failed(ex, index);
        }
    }

    /// <summary>The replica's report on the snapshot of <paramref name="index"/> (its thread): written, or why not.</summary>
    private void SnapshotFinished(long index, long bytes, Exception? error)
    {
        if (error is null)
        {
            _lastSnapshot = index;
            _failures = 0;
            Interlocked.Increment(ref _snapshotsWritten);
            LogSnapshotWritten(index, bytes);
        }
        else
        {
            Failed(error, index);
        }
        _snapshotBusy = false;
    }

    /// <summary>
    /// A snapshot failed: the log still holds every record, so nothing acknowledged is lost; the writer tries
    /// again after 1 s, doubling up to a minute while failures go on.
    /// </summary>
    private void Failed(Exception error, long index)
    {
        _failures++;
        var delay = TimeSpan.FromSeconds(Math.Min(60, 1 << Math.Min(_failures - 1, 6)));
        _retryAt = _time.GetTimestamp() + (long)(delay.TotalSeconds * _time.TimestampFrequency);
        LogSnapshotFailed(error, index, _failures, (long)delay.TotalSeconds);
    }

    /// <summary>Waits for the flusher and any snapshot being written, then closes the data directory.</summary>
    public async ValueTask DisposeAsync()
    {
        await _done.Task.ConfigureAwait(false);
        _flush.Dispose();
        await _replica.CloseAsync().ConfigureAwait(false);
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

    /// <summary>Writes the records gathered from a drain's batches, all at once, then gives them to the replica.</summary>
    private void WriteGathered()
    {
        if (_toWrite.Count == 0)
        {
            return;
        }
        _store.Write(_toWrite);
        foreach (var log in _toWrite)
        {
            // Written: the replica applies what recovery would read back.
            _replica.Apply(log);
        }
        _toWrite.Clear();
    }

    /// <summary>Writes and answers one drain of batches; returns whether written records still await an fsync.</summary>
    private bool Flush(List<Batch> batches, bool unsynced, ref long lastSync)
    {
        try
        {
            var written = 0;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            foreach (var batch in batches)
            {
                if (batch.Log is { Records: > 0 } log)
                {
                    _toWrite.Add(log);
                    written += log.Records;
                }
                if (batch.Snapshot is { } snapshot)
                {
                    // Every record up to the cut is durable before the snapshot that replaces them is written.
                    WriteGathered();
                    _store.Sync();
                    _store.CutAt(snapshot.Index);
                    if (snapshot.Seed is { } seed)
                    {
                        _replica.Seed(snapshot.Index, seed);
                    }
                    else
                    {
                        _replica.Snapshot(snapshot.Index);
                    }
                }
            }
            WriteGathered();
            if (written > 0)
            {
                Metrics?.LogWritten(started);
            }
            if (_store.PreallocationFailures != _preallocationFailuresSaid)
            {
                // At start-up's segment (said with the first flush) or a new one: every fsync now costs more.
                _preallocationFailuresSaid = _store.PreallocationFailures;
                LogPreallocationFailed(_store.LastPreallocationFailure);
            }
            _unsyncedRecords += written;
            unsynced |= written > 0;
            // A drain of queries only needs no fsync: drains go in order, so everything before it is synced.
            if (unsynced && (_durability.Policy == FlushPolicy.Fsync || _time.GetElapsedTime(lastSync) >= _durability.FsyncInterval))
            {
                Sync(ref lastSync);
                unsynced = false;
            }
            foreach (var batch in batches)
            {
                if (unsynced && batch.Events is { } events && batch.Hub is { } hub)
                {
                    // Interval policy: answered now, but its events wait for the fsync that covers them, so that no event a
                    // stream sent can be lost in a crash and its revision reused for another (docs/events.md).
                    _unpublished.Add((hub, events));
                    batch.Events = null;
                }
                batch.Complete();
            }
            return unsynced;
        }
        catch (Exception ex)
        {
            // The engine is now ahead of the disk: refuse every further change rather than acknowledge what is not kept.
            _failure = ex;
            LogStorageFailed(ex);
            _toWrite.Clear();
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
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        _store.Sync();
        Metrics?.LogSynced(started, _unsyncedRecords);
        _unsyncedRecords = 0;
        Interlocked.Increment(ref _syncs);
        lastSync = _time.GetTimestamp();
        PublishSynced();
    }

    /// <summary>After an fsync: the events it made durable, in revision order (the interval policy's; the others have none waiting).</summary>
    private void PublishSynced()
    {
        foreach (var (hub, events) in _unpublished)
        {
            try
            {
                hub.Publish(events);
            }
            catch (Exception ex)
            {
                // A bug in publishing is not the log's failure: the records are durable.
                LogPublishFailed(ex);
            }
        }
        _unpublished.Clear();
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Writing the log failed; the server refuses every change from now on. Restart it once the disk is fixed")]
    private partial void LogStorageFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Log segment space not allocated ahead: {Failure}. Every fsync also commits the file's growth (slower); check the disk's free space")]
    private partial void LogPreallocationFailed(string? failure);

    [LoggerMessage(Level = LogLevel.Error, Message = "Publishing events after an fsync failed")]
    private partial void LogPublishFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot of record {Index} written ({Bytes} bytes)")]
    private partial void LogSnapshotWritten(long index, long bytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Taking the snapshot of record {Index} failed ({Failures} in a row); the log keeps every record, and the next snapshot is tried in {DelaySeconds} s")]
    private partial void LogSnapshotFailed(Exception ex, long index, int failures, long delaySeconds);
}
