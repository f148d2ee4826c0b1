using Leasehold.Core;
using Leasehold.Server.Engine;

namespace Leasehold.Server.Events;

/// <summary>
/// The event stream's hub (docs/events.md). The writer turns each command's engine events into
/// <see cref="PublishedEvent"/>s (the revision is the engine's: the hub numbers nothing); once their batch is
/// durable, the batch's completion hands them to <see cref="Publish"/>, which keeps them in a bounded history and
/// offers them to every subscriber whose prefix they touch, without ever waiting: a subscriber whose buffer is full
/// is cut off (<c>slow-consumer</c>). Memory is bounded by <c>History</c> events (and <c>HistoryBytes</c>) + <c>MaxStreams</c> × <c>Buffer</c> events.
/// <para>
/// Other parts of the server consume it in process through <see cref="SubscribeAsync"/> (the HTTP stream, the
/// native protocol's WATCH, metrics).
/// </para>
/// </summary>
public sealed class EventHub
{
    /// <summary>Why a subscription ended: its buffer filled.</summary>
    public const string SlowConsumer = "slow-consumer";

    /// <summary>Why a subscription ended: the server is stopping.</summary>
    public const string ShuttingDown = "shutting-down";

    /// <summary>Why a subscription ended: this node stopped leading its cluster.</summary>
    public const string LeaderChanged = "leader-changed";

    /// <summary>Why a subscription ended: the security settings changed, or the consumer's key or token expired.</summary>
    public const string CredentialsChanged = "credentials-changed";

    private readonly object _gate = new();
    private readonly EventOptions _options;
    private readonly PublishedEvent[] _ring;
    private readonly List<EventSubscription> _subscribers = [];
    private readonly List<(long Revision, TaskCompletionSource Done)> _awaited = [];
    private EngineHost? _host;
    private int _start;
    private int _count;
    private long _bytes;

    // Every event with a revision in (_floor, _last] that was published is in the ring.
    private long _floor;
    private long _last;
    private bool _serving;
    private bool _stopped;
    private int _streams;
    private long _cutOffs;

    public EventHub(EventOptions options)
    {
        options.Validate();
        _options = options;
        _ring = new PublishedEvent[options.History];
    }

    public EventOptions Options => _options;

    /// <summary>Subscriptions open now (each holds a place of <c>MaxStreams</c>).</summary>
    public int OpenStreams => Volatile.Read(ref _streams);

    /// <summary>Subscriptions the hub cut off since start, for any reason.</summary>
    public long CutOffs => Interlocked.Read(ref _cutOffs);

    /// <summary>The revision of the last event published.</summary>
    public long Revision
    {
        get
        {
            lock (_gate)
            {
                return _last;
            }
        }
    }

    /// <summary>The writer this hub takes its snapshots from; set once by the <see cref="EngineHost"/>.</summary>
    internal void Attach(EngineHost host) => _host = host;

    /// <summary>
    /// On the writer, before the first command on <paramref name="engine"/> (start-up, or a cluster's new
    /// leadership): the history starts empty at its revision. A subscriber that saw exactly that revision loses nothing.
    /// </summary>
    internal void Begin(LockEngine engine)
    {
        lock (_gate)
        {
            _start = 0;
            _count = 0;
            _bytes = 0;
            Array.Clear(_ring);
            _floor = _last = engine.Revision;
            _serving = !_stopped;
        }
    }

    /// <summary>This node stopped leading: every stream ends with <c>leader-changed</c>, and none starts until it leads again.</summary>
    internal void Follow()
    {
        lock (_gate)
        {
            _serving = false;
            CutOffAll(LeaderChanged);
            FailAwaited(new NotLeaderException());
        }
    }

    /// <summary>The server is stopping: every stream ends with <c>shutting-down</c>, and no new one starts.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            _stopped = true;
            _serving = false;
            CutOffAll(ShuttingDown);
            FailAwaited(new OperationCanceledException("the server is stopping"));
        }
    }

    /// <summary>A durable batch's events, in revision order. Never blocks: called where batches are answered.</summary>
    internal void Publish(List<PublishedEvent> events)
    {
        lock (_gate)
        {
            foreach (var e in events)
            {
                if (e.Revision <= _last)
                {
                    // Decided under a leadership before the current one began: its state is in the copy we lead from.
                    continue;
                }
                Keep(e);
                for (var i = _subscribers.Count - 1; i >= 0; i--)
                {
                    var subscriber = _subscribers[i];
                    if (e.Revision > subscriber.After && e.Touches(subscriber.Prefix) && !subscriber.Offer(e))
                    {
                        _subscribers.RemoveAt(i);
                        End(subscriber, SlowConsumer);
                    }
                }
            }
            for (var i = _awaited.Count - 1; i >= 0; i--)
            {
                if (_awaited[i].Revision <= _last)
                {
                    _awaited[i].Done.TrySetResult();
                    _awaited.RemoveAt(i);
                }
            }
        }
    }

    private void Keep(PublishedEvent e)
    {
        _last = e.Revision;
        if (_ring.Length == 0)
        {
            _floor = e.Revision;
            return;
        }
        if (_count == _ring.Length)
        {
            Evict();
        }
        _ring[(_start + _count) % _ring.Length] = e;
        _count++;
        _bytes += e.Weight;
        // Bounded by bytes too: declared events carry attributes of up to 64 KiB each.
        while (_bytes > _options.HistoryBytes && _count > 0)
        {
            Evict();
        }
    }

    /// <summary>Drops the oldest kept event: a client that saw only up to its revision gets a reset.</summary>
    private void Evict()
    {
        var oldest = _ring[_start];
        _floor = oldest.Revision;
        _bytes -= oldest.Weight;
        _ring[_start] = null!;
        _start = (_start + 1) % _ring.Length;
        _count--;
    }

    /// <summary>
    /// Subscribes to the events touching <paramref name="prefix"/>.
    /// <list type="bullet">
    /// <item>With <paramref name="after"/> (a client's Last-Event-ID) that the history still covers: the kept events
    /// after it (<see cref="EventSubscription.Backlog"/>), then live ones; no snapshot.</item>
    /// <item>With an <paramref name="after"/> it does not cover (too old, from before a restart, unknown here):
    /// <see cref="EventSubscription.Reset"/>, a snapshot, then live events after the snapshot.</item>
    /// <item>Without <paramref name="after"/>: a snapshot if <paramref name="snapshot"/>, then live events.</item>
    /// </list>
    /// A snapshot is taken on the writer, where the subscriber is also registered, so it gets exactly the events
    /// after the snapshot's revision; the call returns once that state is durable.
    /// </summary>
    /// <param name="prefix">Only events touching a path at or under it (the root: every event, sessions' included).</param>
    /// <param name="after">The last revision the consumer saw, or null.</param>
    /// <param name="snapshot">Start with the state under the prefix.</param>
    /// <param name="buffer">Live events buffered before the consumer is cut off; null: <c>Leasehold:Events:Buffer</c>.</param>
    /// <param name="cancellationToken">Gives up waiting for the snapshot.</param>
    /// <exception cref="TooManyStreamsException"><c>MaxStreams</c> subscriptions are open.</exception>
    /// <exception cref="NotLeaderException">A cluster node that does not lead (or not yet).</exception>
    /// <exception cref="OperationCanceledException">The server is stopping.</exception>
    public async Task<EventSubscription> SubscribeAsync(ResourcePath prefix, long? after, bool snapshot, int? buffer = null, CancellationToken cancellationToken = default)
    {
        var subscription = new EventSubscription(this, prefix, buffer ?? _options.Buffer);
        if (Interlocked.Increment(ref _streams) > _options.MaxStreams)
        {
            Interlocked.Decrement(ref _streams);
            throw new TooManyStreamsException(_options.MaxStreams);
        }
        try
        {
            lock (_gate)
            {
                CheckServing();
                if (after is { } revision && revision >= _floor && revision <= _last)
                {
                    subscription.After = revision;
                    subscription.Backlog = KeptAfter(revision, prefix);
                    _subscribers.Add(subscription);
                    return subscription;
                }
                subscription.Reset = after is not null;
            }
            if (!subscription.Reset && !snapshot)
            {
                // Live events only, from the last published one on (those not yet published are all after it).
                lock (_gate)
                {
                    CheckServing();
                    subscription.After = _last;
                    _subscribers.Add(subscription);
                    return subscription;
                }
            }
            var host = _host ?? throw new InvalidOperationException("the event hub has no writer");
            var refused = await host.Submit(new SnapshotItem(this, subscription, prefix)).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (refused is not null)
            {
                throw refused;
            }
            if (subscription.Snapshot is { } taken)
            {
                await PublishedAsync(taken.Revision).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            return subscription;
        }
        catch
        {
            subscription.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A subscriber's snapshot of the state under its prefix, taken on the writer, where it is registered too: nothing
    /// changes the engine meanwhile, and every event not yet published has a revision up to the snapshot's (skipped for
    /// this subscriber) or comes from a later command (sent to it). Its value is why the hub refuses it, or null.
    /// </summary>
    private sealed class SnapshotItem(EventHub hub, EventSubscription subscription, ResourcePath prefix) : ValueItem<Exception?>
    {
        protected override Exception? Compute(Writer writer)
        {
            if (subscription.Disposed)
            {
                // The caller gave up waiting.
                return null;
            }
            var state = EventMapping.Snapshot(writer.Engine, prefix, writer.Now, hub._options.SnapshotLimit);
            lock (hub._gate)
            {
                // Returned, not thrown: a refusal is no failure of the writer's work (which it would log as a bug).
                if (hub.Refusal() is { } refusal)
                {
                    return refusal;
                }
                // Under the lock, where Leave also runs: a subscription disposed meanwhile is not left behind registered.
                if (subscription.Disposed)
                {
                    return null;
                }
                subscription.Snapshot = state;
                subscription.After = state.Revision;
                hub._subscribers.Add(subscription);
            }
            return null;
        }
    }

    /// <summary>
    /// Completes once every event up to <paramref name="revision"/> is published: at once but under the interval
    /// policy, whose events wait for their fsync. A snapshot is sent only then, so its revision is never one a crash
    /// could take back and reissue.
    /// </summary>
    private Task PublishedAsync(long revision)
    {
        lock (_gate)
        {
            if (revision <= _last)
            {
                return Task.CompletedTask;
            }
            CheckServing();
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _awaited.Add((revision, done));
            return done.Task;
        }
    }

    private void FailAwaited(Exception error)
    {
        foreach (var (_, done) in _awaited)
        {
            done.TrySetException(error);
        }
        _awaited.Clear();
    }

    private void CheckServing()
    {
        if (Refusal() is { } refusal)
        {
            throw refusal;
        }
    }

    /// <summary>Under the lock: why no subscription may start now, or null.</summary>
    private Exception? Refusal() => _stopped ? new OperationCanceledException("the server is stopping") : _serving ? null : new NotLeaderException();

    private List<PublishedEvent> KeptAfter(long revision, ResourcePath prefix)
    {
        var kept = new List<PublishedEvent>();
        for (var i = 0; i < _count; i++)
        {
            var e = _ring[(_start + i) % _ring.Length];
            if (e.Revision > revision && e.Touches(prefix))
            {
                kept.Add(e);
            }
        }
        return kept;
    }

    /// <summary>Ends one subscription with <paramref name="reason"/> (its front-end's decision, e.g. <see cref="CredentialsChanged"/>); nothing when it ended already.</summary>
    internal void CutOff(EventSubscription subscription, string reason)
    {
        lock (_gate)
        {
            if (_subscribers.Remove(subscription))
            {
                End(subscription, reason);
            }
        }
    }

    /// <summary>A subscription leaves (disposed by its consumer).</summary>
    internal void Leave(EventSubscription subscription)
    {
        lock (_gate)
        {
            _subscribers.Remove(subscription);
        }
        Interlocked.Decrement(ref _streams);
    }

    private void CutOffAll(string reason)
    {
        foreach (var subscriber in _subscribers)
        {
            End(subscriber, reason);
        }
        _subscribers.Clear();
    }

    private void End(EventSubscription subscriber, string reason)
    {
        Interlocked.Increment(ref _cutOffs);
        subscriber.End(reason);
    }
}
