using Leasehold.Core;
using Leasehold.Core.Pools;

namespace Leasehold.Server.Engine;

/// <summary>
/// Told when a lease or session it watches ends: called once per ending, after the batch that ended it is
/// durable, on the thread that completes batches. Must not block (queue the news and return).
/// </summary>
public interface IEndWatcher
{
    void OnEnded(EndedKind kind, long id, EndReason reason);
}

public sealed partial class EngineHost
{
    // Touched only by the writer loop: who watches which lease and session. An entry leaves when the thing
    // ends (the watcher is told) or when its watcher stops watching it (its own release or close).
    private readonly Dictionary<long, IEndWatcher> _leaseWatchers = [];
    private readonly Dictionary<long, IEndWatcher> _sessionWatchers = [];
    private readonly List<Ended> _ended = [];

    /// <summary>Leases and sessions someone watches (read it on the writer; for tests).</summary>
    internal int Watched => _leaseWatchers.Count + _sessionWatchers.Count;

    /// <summary>On the writer: <paramref name="watcher"/> is told when the lease or session ends.</summary>
    internal void Watch(EndedKind kind, long id, IEndWatcher watcher)
        => (kind == EndedKind.Lease ? _leaseWatchers : _sessionWatchers)[id] = watcher;

    /// <summary>On the writer: <paramref name="watcher"/> is told no more (it ends the thing itself); another watcher still is.</summary>
    internal void Unwatch(EndedKind kind, long id, IEndWatcher watcher)
    {
        var watchers = kind == EndedKind.Lease ? _leaseWatchers : _sessionWatchers;
        if (watchers.TryGetValue(id, out var current) && ReferenceEquals(current, watcher))
        {
            watchers.Remove(id);
        }
    }

    /// <summary>Routes what the last command ended to its watchers; they are told with the batch.</summary>
    private void CollectEnded(LockEngine engine, Batch batch)
    {
        if (engine.DrainEnded(_ended) == 0)
        {
            return;
        }
        foreach (var ended in _ended)
        {
            NoteEnded(ended);
            var watchers = ended.Kind == EndedKind.Lease ? _leaseWatchers : _sessionWatchers;
            if (watchers.Remove(ended.Id, out var watcher))
            {
                batch.Ended.Add((watcher, ended));
            }
        }
        _ended.Clear();
    }

    /// <summary>A new engine (start, or a new leadership): it reports what ends, and old watches mean nothing on it.</summary>
    private void AdoptEngine(LockEngine? engine)
    {
        _leaseWatchers.Clear();
        _sessionWatchers.Clear();
        NoteLeases(engine);
        if (engine is not null)
        {
            engine.TrackEnded = true;
            engine.TrackEvents = _events is not null;
        }
    }

    // Set once, in the constructor; the hub the writer feeds, or null.
    private readonly Events.EventHub? _events;

    // Touched only by the writer loop.
    private readonly List<EngineEvent> _engineEvents = [];

    /// <summary>On the writer, after each command: its events, as the stream's records, go with the batch.</summary>
    internal void CollectEvents(LockEngine engine)
    {
        if (_events is null || _batch is not { } batch || engine.DrainEvents(_engineEvents) == 0)
        {
            return;
        }
        var events = batch.Events ??= new List<Events.PublishedEvent>(Math.Max(4, _engineEvents.Count));
        foreach (var e in _engineEvents)
        {
            events.Add(Events.EventMapping.Capture(e, engine));
        }
        _engineEvents.Clear();
    }
}
