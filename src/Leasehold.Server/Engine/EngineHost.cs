using System.Threading.Channels;
using Leasehold.Core;
using Leasehold.Storage;

namespace Leasehold.Server.Engine;

/// <summary>
/// The one writer. Requests become work items on a channel; a single loop applies them to the engine in
/// arrival order, a batch at a time, appending every state-changing command to the batch's log buffer.
/// The commit log (<see cref="ICommitLog"/>: the data directory's flusher, or a cluster's Raft log) keeps each
/// batch; only then are the batch's requests and the waiters it granted answered. No other thread touches
/// engine state. In a cluster the writer has an engine only while its node leads (<see cref="LeadAsync"/>):
/// otherwise every item is refused with <see cref="NotLeaderException"/>.
/// <para>
/// Requests reach the writer through typed methods, one work item class per kind of request (grouped by area in the
/// partial files: leases, admin, sessions, pools, queries), or as a component's own work item (the compatibility
/// front-ends, the event hub, a native connection, the pool loader), never as a closure over the writer built per
/// request. (An access filter may travel with a request as an argument, to be applied to what the writer finds.)
/// </para>
/// <para>
/// The host's loops start with the server, not when it is made: <see cref="Start()"/> (from <see cref="EngineLifecycle"/>,
/// when the server starts) starts the data directory's flusher; until then the writer applies what it is given and its
/// answers wait.
/// </para>
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

    private readonly ICommitLog _log;
    private readonly DurabilityOptions _durability;
    private readonly ILogger<EngineHost> _logger;
    private readonly Writer _writer;
    // Read by one thread at a time (whoever holds _writing), but by many threads over time; not SingleReader, whose
    // channel cannot count what it holds.
    private readonly Channel<WorkItem> _work = Channel.CreateUnbounded<WorkItem>(
        new UnboundedChannelOptions { SingleReader = false, AllowSynchronousContinuations = false });

    // Touched only by the writer loop.
    private readonly Dictionary<long, PendingAcquire> _waiting = [];
    private readonly ITimer _timer;
    private readonly WaitCallback _pumpLater;
    private readonly Action<Exception> _reportAnswerFailure;

    // 1 while some thread is the writer (runs a batch); 0 when none is. Whoever posts an item to an idle writer runs
    // the batch itself, so an unloaded server answers without a hop to another thread; a batch that leaves items
    // behind hands the rest to the thread pool, so no request thread is kept writing for others.
    private int _writing;
    private readonly TaskCompletionSource _writerEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private LockEngine? _engine;
    private EngineClock _clock;
    private object? _epoch;
    private Batch? _batch;
    private long _armedFor = long.MaxValue;

    private volatile Exception? _writerFailure;

    /// <param name="engine">The engine (recovered from <paramref name="store"/> when there is one).</param>
    /// <param name="store">The data directory, or null to keep nothing (memory mode).</param>
    /// <param name="durability">When a command counts as kept, and how often to snapshot.</param>
    /// <param name="time">The clock that stamps commands and drives expiry.</param>
    /// <param name="logger">Where storage failures are reported.</param>
    /// <param name="events">The event hub the writer feeds, or null (no events are recorded).</param>
    public EngineHost(LockEngine engine, DataStore? store, DurabilityOptions durability, TimeProvider time, ILogger<EngineHost> logger, Events.EventHub? events = null)
        : this(store is null ? new MemoryLog() : new StoreLog(store, engine, durability, time, logger), engine, durability, time, logger,
            new EngineClock(time, store?.Report.LatestTime ?? 0), events)
    {
        if (store is not null)
        {
            // The first command after a restart, ahead of any request: drop the dead queue, restart ttl clocks.
            Post(new RecoverItem(durability.SessionGraceMs));
        }
    }

    /// <summary>A cluster node's writer: it has no engine until its node leads (<see cref="LeadAsync"/>).</summary>
    internal EngineHost(ICommitLog log, DurabilityOptions durability, TimeProvider time, ILogger<EngineHost> logger, Events.EventHub? events = null)
        : this(log, null, durability, time, logger, new EngineClock(time), events)
    {
    }

    private EngineHost(ICommitLog log, LockEngine? engine, DurabilityOptions durability, TimeProvider time, ILogger<EngineHost> logger, EngineClock clock, Events.EventHub? events)
    {
        _log = log;
        _engine = engine;
        _events = events;
        events?.Attach(this);
        AdoptEngine(engine);
        if (engine is not null)
        {
            // Before the first command (a restart's Recover included): the history starts at the recovered revision.
            events?.Begin(engine);
        }
        _durability = durability;
        _clock = clock;
        _logger = logger;
        _writer = new Writer(this, engine);
        _timer = time.CreateTimer(_ => Post(new TickItem(this), inline: false), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _pumpLater = _ => Write();
        _reportAnswerFailure = LogAnswerFailed;
    }

    /// <summary>
    /// Starts the host's loops: the data directory's flusher, which answers batches once they are durable (batches
    /// handed over before wait for it). Called when the server starts, before any hosted service's <c>StartAsync</c>;
    /// only the first call does anything. A cluster node's log is started by its Raft node, and memory mode has nothing
    /// to start.
    /// </summary>
    public void Start() => Store?.Start();

    /// <summary>Commands appended to the log since start (for tests and metrics).</summary>
    public long LoggedCommands { get; private set; }

    /// <summary>The holding quotas checked before a command that could add a lease, waiter or session; null: none.</summary>
    public Limits.Quotas? Quotas { get; init; }

    /// <summary>Syncs of the log since start (written by the flusher, read anywhere).</summary>
    public long Syncs => _log.Syncs;

    public FlushPolicy Policy => _log.Policy;

    /// <summary>Why the writer loop died (a bug), or null while it runs. Liveness and readiness report it.</summary>
    public Exception? WriterFailure => _writerFailure;

    /// <summary>The data directory's log, or null (memory mode, a cluster): for tests.</summary>
    internal StoreLog? Store => _log as StoreLog;

    /// <summary>Why the log could not be written, or null while it can. Readiness reports it.</summary>
    public Exception? StorageFailure => _log.Failure;

    /// <summary>Raised once, on the writer thread, if the writer loop dies; the host stops the process.</summary>
    public event Action<Exception>? WriterDied;

    /// <summary>Raised on the writer thread when this node starts leading (a cluster's new leader has taken over).</summary>
    public event Action? Leading;

    /// <summary>
    /// Runs <paramref name="work"/> on the writer and returns its result once it is durable: for tests and the benchmark,
    /// which reach into the engine directly. Production code uses the typed methods (<see cref="AcquireAsync"/>,
    /// <see cref="ReleaseAsync"/>, <see cref="OpenSessionAsync"/>, ...), or, for a component's own steps on the writer
    /// (a compatibility front-end, the event hub), a <see cref="ValueItem{T}"/> of its own given to <see cref="Submit"/>:
    /// no delegate, closure and generic item per request.
    /// </summary>
    internal Task<T> ExecuteAsync<T>(Func<Writer, T> work) => Submit(new FuncItem<T>(work));

    /// <summary>
    /// Queues <paramref name="item"/> for the writer; its value once its batch is durable. Besides the host's typed
    /// methods, a component whose steps on the writer are its own business (the pool loader, a compatibility front-end)
    /// submits an item of its own here.
    /// </summary>
    internal Task<T> Submit<T>(ValueItem<T> item)
    {
        Post(item);
        return item.Completion.Task;
    }

    /// <summary>Answers every waiting request with shutting-down; used when the server stops. The number answered.</summary>
    public Task<int> DropWaitersAsync() => Submit(new DropWaitersItem());

    /// <summary>
    /// A cluster node starts leading: from now on the writer decides on <paramref name="engine"/> (a copy of the
    /// committed state), stamps commands with <paramref name="clock"/>, and first applies a <see cref="TakeOver"/>.
    /// Batches carry <paramref name="epoch"/>, so the Raft log never replicates a batch of an earlier leadership.
    /// </summary>
    internal Task LeadAsync(object epoch, LockEngine engine, EngineClock clock)
    {
        var item = new LeadItem(this, epoch, engine, clock);
        Post(item);
        return item.Completion.Task;
    }

    /// <summary>
    /// A cluster node stops leading: its engine may hold decisions that will never be committed, so it is
    /// dropped, and every request waiting in its queue is told to retry on the new leader.
    /// </summary>
    internal void Follow(object epoch) => Post(new FollowItem(this, epoch), inline: false);

    /// <summary>
    /// Queues a front-end's own work item (no closure, no task): it runs on the writer, and its
    /// <see cref="WorkItem.Complete"/> or <see cref="WorkItem.Fail"/> answers it once its batch is durable.
    /// </summary>
    internal void Enqueue(WorkItem item) => Post(item);

    /// <param name="item">the work</param>
    /// <param name="inline">false: never run the writer on this thread (a timer's, or one inside another component's
    /// callback, such as the cluster library cancelling a leadership), only hand the work to the writer or the pool</param>
    private void Post(WorkItem item, bool inline = true)
    {
        if (!_work.Writer.TryWrite(item))
        {
            item.Fail(new ObjectDisposedException(nameof(EngineHost)));
            return;
        }
        if (inline)
        {
            Write();
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(_pumpLater, null);
        }
    }

    /// <summary>
    /// Becomes the writer if no thread is, runs one batch of what is queued, and leaves the rest (if any) to the
    /// thread pool. Items are only ever applied by the one thread that holds <see cref="_writing"/>, in arrival order.
    /// </summary>
    private void Write()
    {
        if (Interlocked.CompareExchange(ref _writing, 1, 0) != 0)
        {
            // The writer at work picks this item up, or hands it on when it stops (below).
            return;
        }
        try
        {
            RunBatch();
        }
        catch (Exception ex)
        {
            // Stays the writer for good: nothing runs again.
            Die(ex);
            return;
        }
        if (_work.Reader.Completion.IsCompleted)
        {
            // Disposed, and everything queued is done: the writer's last act is closing the log.
            _log.Close();
            _writerEnded.TrySetResult();
            return;
        }
        // A full fence (against a Post that found the writer busy just now), then: anything left is the pool's.
        Interlocked.Exchange(ref _writing, 0);
        if (_work.Reader.Count > 0 || _work.Reader.Completion.IsCompleted)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_pumpLater, null);
        }
    }

    /// <summary>Called by <see cref="Writer.Run{TCommand, TResult}"/> on the writer thread.</summary>
    internal void Record(Command command)
    {
        LoggedCommands++;
        if (_log.Logs)
        {
            _batch!.Log!.Append(_log.TakeIndex(), command);
        }
    }

    private void Die(Exception ex)
    {
        // Not one request's failure (those are caught per item) but the writer's own: nothing would ever
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
        FailWaiting(ex);
        _log.Close();
        _writerEnded.TrySetResult();
        WriterDied?.Invoke(ex);
    }

    private void FailWaiting(Exception error)
    {
        foreach (var pending in _waiting.Values)
        {
            pending.Completion.TrySetException(error);
        }
        _waiting.Clear();
    }

    /// <summary>One writer pass: applies what is queued (up to <see cref="MaxBatch"/> items) and hands the batch to the log.</summary>
    private void RunBatch()
    {
        var reader = _work.Reader;
        if (reader.Count == 0)
        {
            return;
        }
        {
            var batch = _batch = new Batch { Log = _log.Logs ? new LogBuffer() : null, Epoch = _epoch, ReportFailure = _reportAnswerFailure, Hub = _events };
            while (batch.Items.Count < MaxBatch && reader.TryRead(out var item))
            {
                if (_log.Failure is { } failure)
                {
                    item.Fail(new IOException("the log could not be written; the server no longer changes state", failure));
                    continue;
                }
                if (item is FollowItem or LeadItem)
                {
                    // A change of leadership closes the batch: what it holds (requests, granted waiters, a tick's
                    // records) was decided under the leadership before, and never travels under another.
                    if (!batch.IsEmpty)
                    {
                        _batch = null;
                        _log.Submit(batch);
                    }
                    if (item is FollowItem follow)
                    {
                        follow.Step();
                    }
                    batch = _batch = new Batch { Log = _log.Logs ? new LogBuffer() : null, Epoch = item is LeadItem lead ? lead.Epoch : _epoch, ReportFailure = _reportAnswerFailure, Hub = _events };
                    if (item is not LeadItem)
                    {
                        continue;
                    }
                }
                if (_engine is null && item is not LeadItem)
                {
                    item.Fail(new NotLeaderException());
                    continue;
                }
                _writer.Now = _clock.Now;
                try
                {
                    if (item is not LeadItem)
                    {
                        // (A new leadership's first command is its TakeOver: nothing of a copy before it runs here.)
                        CatchUp(batch);
                    }
                    item.Run(_writer);
                    CollectOutcomes(batch);
                    // Only now: an item whose outcomes could not be collected is failed (below), never also completed.
                    batch.Items.Add(item);
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
                    _engine?.DiscardOutcomes();
                }
            }
            if (_log is StoreLog store && _engine is not null)
            {
                store.MaybeSnapshot(batch, _engine);
            }
            // Until handed on, the batch is the writer's: if anything above throws, RunAsync fails its items.
            _batch = null;
            _log.Submit(batch);
            Rearm();
        }
    }

    /// <summary>
    /// Applies a tick first when a deadline has passed and the timer has not fired yet, so no request ever
    /// sees (or renews) a lease, session or wait whose time is up.
    /// </summary>
    private void CatchUp(Batch batch)
    {
        if (_engine?.NextDeadline is { } due && due <= _writer.Now)
        {
            _writer.Run(new Tick { Now = _writer.Now }, (e, c) => e.Advance(c.Now));
            CollectOutcomes(batch);
        }
    }

    private void Rearm()
    {
        var next = _engine?.NextDeadline ?? long.MaxValue;
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
        Write();
        await _writerEnded.Task.ConfigureAwait(false);
        await _log.Closed.ConfigureAwait(false);
        if (_log is StoreLog store)
        {
            await store.DisposeAsync().ConfigureAwait(false);
        }
        await _timer.DisposeAsync().ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Answering a request whose batch was kept failed; the batch's other answers went out")]
    private partial void LogAnswerFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Error, Message = "A command failed in the engine writer")]
    private partial void LogWorkFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The engine writer stopped; no request can be served any more and the server stops")]
    private partial void LogWriterDied(Exception ex);

    private sealed class RecoverItem(long sessionGraceMs) : ValueItem<int>
    {
        protected override int Compute(Writer writer)
            => writer.Run(new Recover { Now = writer.Now, SessionGraceMs = sessionGraceMs }, static (e, c) => e.Recover(c));
    }

    private sealed class DropWaitersItem : ValueItem<int>
    {
        protected override int Compute(Writer writer) => writer.Run(new DropWaiters { Now = writer.Now }, static (e, c) => e.DropAllWaiters(c.Now));
    }

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

    private sealed class LeadItem(EngineHost host, object epoch, LockEngine engine, EngineClock clock) : WorkItem
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public object Epoch => epoch;

        public override void Run(Writer writer)
        {
            host._epoch = epoch;
            host._engine = engine;
            host.AdoptEngine(engine);
            // The new leadership's history starts at the copy's revision, before its TakeOver's events.
            host._events?.Begin(engine);
            host._clock = clock;
            host._armedFor = long.MaxValue;
            writer.Engine = engine;
            writer.Now = clock.Now;
            writer.Run(new TakeOver { Now = writer.Now, SessionGraceMs = host._durability.SessionGraceMs }, (e, c) => e.TakeOver(c));
        }

        public override void Complete()
        {
            Completion.TrySetResult();
            host.Leading?.Invoke();
        }

        public override void Fail(Exception error) => Completion.TrySetException(error);
    }

    private sealed class FollowItem(EngineHost host, object epoch) : WorkItem
    {
        public override void Run(Writer writer)
        {
        }

        /// <summary>Runs in place of <see cref="Run"/>, ahead of the engine check: a follower's writer has nothing to run it on.</summary>
        public void Step()
        {
            if (!ReferenceEquals(host._epoch, epoch))
            {
                return;
            }
            host._epoch = null;
            host._engine = null;
            host.AdoptEngine(null);
            host._events?.Follow();
            host._writer.Engine = null!;
            host._armedFor = long.MaxValue;
            host._timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            host.FailWaiting(new NotLeaderException());
        }

        public override void Complete()
        {
        }

        public override void Fail(Exception error)
        {
        }
    }
}
