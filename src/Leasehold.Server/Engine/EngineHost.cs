using System.Collections.Concurrent;
using System.Threading.Channels;
using Leasehold.Core;
using Leasehold.Storage;

namespace Leasehold.Server.Engine;

/// <summary>
/// The one writer. Requests become work items on a channel; a single loop applies them to the engine in
/// arrival order, a batch at a time, appending every state-changing command to the batch's log buffer.
/// The flusher writes each batch and syncs once for all batches waiting (group commit); only then are
/// the batch's requests and the waiters it granted answered. No other thread touches engine state.
/// </summary>
public sealed partial class EngineHost : IAsyncDisposable
{
    private const int MaxBatch = 4096;

    /// <summary>
    /// The longest the expiry timer is ever set for. A .NET timer cannot be set beyond 2^32-2 ms (49.7 days),
    /// while a lease may live 366 days: a farther deadline is reached through intermediate wake-ups, each a
    /// tick that finds nothing due and sets the timer again.
    /// </summary>
    internal static readonly TimeSpan MaxTimerDelay = TimeSpan.FromHours(1);

    private readonly LockEngine _engine;
    private readonly DataStore? _store;
    private readonly DurabilityOptions _durability;
    private readonly TimeProvider _time;
    private readonly EngineClock _clock;
    private readonly ILogger<EngineHost> _logger;
    private readonly Writer _writer;
    private readonly Channel<WorkItem> _work = Channel.CreateUnbounded<WorkItem>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly BlockingCollection<Batch> _flush = [];

    // Touched only by the writer loop.
    private readonly Dictionary<long, PendingAcquire> _waiting = [];
    private readonly ITimer _timer;
    private readonly Task _loop;
    private readonly TaskCompletionSource _flusherDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Batch? _batch;
    private long _armedFor = long.MaxValue;
    private long _sinceSnapshot;
    private long _syncs;

    private volatile Task? _snapshotWrite;
    private volatile Exception? _storageFailure;
    private volatile Exception? _writerFailure;

    /// <param name="engine">The engine (recovered from <paramref name="store"/> when there is one).</param>
    /// <param name="store">The data directory, or null to keep nothing (memory mode).</param>
    /// <param name="durability">When a command counts as kept, and how often to snapshot.</param>
    /// <param name="time">The clock that stamps commands and drives expiry.</param>
    /// <param name="logger">Where storage failures are reported.</param>
    public EngineHost(LockEngine engine, DataStore? store, DurabilityOptions durability, TimeProvider time, ILogger<EngineHost> logger)
    {
        _engine = engine;
        _store = store;
        _durability = durability;
        _time = time;
        _clock = new EngineClock(time, store?.Report.LatestTime ?? 0);
        _logger = logger;
        _writer = new Writer(this, engine);
        _timer = time.CreateTimer(_ => Post(new TickItem(this)), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (store is not null)
        {
            // The first command after a restart, ahead of any request: drop the dead queue, restart ttl clocks.
            Post(new FuncItem<int>(w => w.Run(new Recover { Now = w.Now, SessionGraceMs = durability.SessionGraceMs }, (e, c) => e.Recover(c))));
        }
        _loop = Task.Run(RunAsync);
        if (store is null)
        {
            _flusherDone.SetResult();
        }
        else
        {
            // fsync blocks for milliseconds: on a thread of its own it never starves the request thread pool.
            new Thread(FlushLoop) { IsBackground = true, Name = "leasehold-flusher" }.Start();
        }
    }

    /// <summary>Commands appended to the log since start (for tests and metrics).</summary>
    public long LoggedCommands { get; private set; }

    /// <summary>The holding quotas checked before a command that could add a lease, waiter or session; null: none.</summary>
    public Limits.Quotas? Quotas { get; init; }

    /// <summary>Syncs of the log since start (written by the flusher, read anywhere).</summary>
    public long Syncs => Interlocked.Read(ref _syncs);

    public FlushPolicy Policy => _store is null ? FlushPolicy.Memory : _durability.Policy;

    /// <summary>Why the writer loop died (a bug), or null while it runs. Liveness and readiness report it.</summary>
    public Exception? WriterFailure => _writerFailure;

    /// <summary>Why the log could not be written, or null while it can. Readiness reports it.</summary>
    public Exception? StorageFailure => _storageFailure;

    /// <summary>Raised once, on the writer thread, if the writer loop dies; the host stops the process.</summary>
    public event Action<Exception>? WriterDied;

    /// <summary>Runs <paramref name="work"/> on the writer and returns its result once it is durable.</summary>
    public Task<T> ExecuteAsync<T>(Func<Writer, T> work)
    {
        var item = new FuncItem<T>(work);
        Post(item);
        return item.Completion.Task;
    }

    /// <summary>Answers every waiting request with shutting-down; used when the server stops.</summary>
    public Task<int> DropWaitersAsync()
        => ExecuteAsync(w => w.Run(new DropWaiters { Now = w.Now }, (e, _) => e.DropAllWaiters()));

    private void Post(WorkItem item)
    {
        if (!_work.Writer.TryWrite(item))
        {
            item.Fail(new ObjectDisposedException(nameof(EngineHost)));
        }
    }

    /// <summary>Called by <see cref="Writer.Run{TCommand, TResult}"/> on the writer thread.</summary>
    internal void Record(Command command)
    {
        LoggedCommands++;
        if (_store is not null)
        {
            _batch!.Log!.Append(_store.NextIndex++, command);
            _sinceSnapshot++;
        }
    }

    private async Task RunAsync()
    {
        try
        {
            await WriteLoopAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Not one request's failure (those are caught per item) but the loop's own: nothing would ever
            // be applied or answered again. Say so loudly, answer everything queued, and let the host stop.
            _writerFailure = ex;
            LogWriterDied(ex);
            _work.Writer.TryComplete(ex);
            _batch?.Fail(ex);
            while (_work.Reader.TryRead(out var item))
            {
                item.Fail(ex);
            }
            // Waiters too: nothing would ever grant or fail them now.
            foreach (var pending in _waiting.Values)
            {
                pending.Completion.TrySetException(ex);
            }
            _waiting.Clear();
            WriterDied?.Invoke(ex);
        }
        finally
        {
            _flush.CompleteAdding();
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _work.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var batch = _batch = new Batch { Log = _store is null ? null : new LogBuffer() };
            while (batch.Items.Count < MaxBatch && reader.TryRead(out var item))
            {
                if (_storageFailure is { } failure)
                {
                    item.Fail(new IOException("the log could not be written; the server no longer changes state", failure));
                    continue;
                }
                _writer.Now = _clock.Now;
                try
                {
                    CatchUp(batch);
                    item.Run(_writer);
                    batch.Items.Add(item);
                    CollectOutcomes(batch);
                }
                catch (Limits.QuotaExceededException ex)
                {
                    // Refused before its command was applied: nothing to undo, and no bug to log. What the item's
                    // earlier commands changed stands (it is logged), so the waiters they granted are answered.
                    item.Fail(ex);
                    CollectOutcomes(batch);
                }
                catch (Exception ex)
                {
                    // A bug in the engine or the host: this request gets a 500, the loop goes on.
                    LogWorkFailed(ex);
                    item.Fail(ex);
                    _engine.Outcomes.Clear();
                }
            }
            MaybeSnapshot(batch);
            // Until handed on, the batch is the writer's: if anything above throws, RunAsync fails its items.
            _batch = null;
            if (_store is null)
            {
                batch.Complete();
            }
            else
            {
                _flush.Add(batch);
            }
            Rearm();
        }
    }

    /// <summary>
    /// Applies a tick first when a deadline has passed and the timer has not fired yet, so no request ever
    /// sees (or renews) a lease, session or wait whose time is up.
    /// </summary>
    private void CatchUp(Batch batch)
    {
        if (_engine.NextDeadline is { } due && due <= _writer.Now)
        {
            _writer.Run(new Tick { Now = _writer.Now }, (e, c) => e.Advance(c.Now));
            CollectOutcomes(batch);
        }
    }

    private void MaybeSnapshot(Batch batch)
    {
        if (_store is null || _sinceSnapshot < _durability.SnapshotEvery || _snapshotWrite is { IsCompleted: false })
        {
            return;
        }
        // Captured here, between commands, so it is exactly the state after record NextIndex - 1.
        var index = _store.NextIndex - 1;
        _sinceSnapshot = 0;
        try
        {
            batch.Snapshot = (index, SnapshotCodec.Encode(index, _engine.Capture()));
        }
        catch (Exception ex)
        {
            // A bug in capturing or encoding: the log still holds everything, so serve on and try again later.
            LogSnapshotFailed(ex, index);
        }
    }

    private void WriteSnapshot(DataStore store, long index, System.Buffers.ArrayBufferWriter<byte> bytes)
    {
        try
        {
            store.WriteSnapshot(index, bytes.WrittenSpan);
            LogSnapshotWritten(index, bytes.WrittenCount);
        }
        catch (Exception ex)
        {
            // The log still holds everything; the next snapshot tries again.
            LogSnapshotFailed(ex, index);
        }
    }

    private void Rearm()
    {
        var next = _engine.NextDeadline ?? long.MaxValue;
        if (next == _armedFor)
        {
            return;
        }
        _armedFor = next;
        if (next == long.MaxValue)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }
        var delay = TimeSpan.FromMilliseconds(Math.Max(0, next - _clock.Now));
        _timer.Change(delay < MaxTimerDelay ? delay : MaxTimerDelay, Timeout.InfiniteTimeSpan);
    }

    public async ValueTask DisposeAsync()
    {
        _work.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        await _flusherDone.Task.ConfigureAwait(false);
        _flush.Dispose();
        if (_snapshotWrite is { } snapshot)
        {
            await snapshot.ConfigureAwait(false);
        }
        await _timer.DisposeAsync().ConfigureAwait(false);
        _store?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A command failed in the engine writer")]
    private partial void LogWorkFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The engine writer stopped; no request can be served any more and the server stops")]
    private partial void LogWriterDied(Exception ex);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Writing the log failed; the server refuses every change from now on. Restart it once the disk is fixed")]
    private partial void LogStorageFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot of record {Index} written ({Bytes} bytes)")]
    private partial void LogSnapshotWritten(long index, int bytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing the snapshot of record {Index} failed")]
    private partial void LogSnapshotFailed(Exception ex, long index);

    private sealed class TickItem(EngineHost host) : WorkItem
    {
        public override void Run(Writer writer)
        {
            host._armedFor = long.MaxValue;
            writer.Run(new Tick { Now = writer.Now }, (e, c) => e.Advance(c.Now));
        }

        public override void Complete()
        {
        }

        public override void Fail(Exception error)
        {
        }
    }
}
