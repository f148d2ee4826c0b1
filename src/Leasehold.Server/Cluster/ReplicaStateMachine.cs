using System.Buffers;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Leasehold.Core;
using Leasehold.Storage;

namespace Leasehold.Server.Cluster;

/// <summary>
/// The lock engine as the Raft state machine of a cluster node: every node, the leader included, applies each
/// committed entry's commands here, in log order, exactly as a single server replays its log after a restart
/// (the commands carry their time and the choices made for them, so every node reaches the same state). This
/// engine is the committed state; the leader decides on a copy of it (<see cref="Fork"/>), never on this one.
/// Snapshots go through DotNext: one is encoded here, between entries, every
/// <see cref="Engine.DurabilityOptions.SnapshotEvery"/> commands, and persisted by DotNext off the apply path.
/// </summary>
internal sealed partial class ReplicaStateMachine : SimpleStateMachine
{
    private readonly Lock _gate = new();
    private readonly EngineLimits _limits;
    private readonly long _snapshotEvery;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private LockEngine _engine;
    private long _sinceSnapshot;
    private ArrayBufferWriter<byte>? _snapshot;
    private long _lastNow;
    private long _reference;
    private long? _lastNowAt;

    public ReplicaStateMachine(DirectoryInfo location, EngineLimits limits, long snapshotEvery, TimeProvider time, ILogger logger)
        : base(location)
    {
        _limits = limits;
        _engine = new LockEngine(limits);
        _snapshotEvery = snapshotEvery;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// A copy of the committed state for a new leader to decide on, and the time it continues from: the time of
    /// the last command applied plus the monotonic time since it was applied live (so neither a wall clock step
    /// nor the election's length moves any deadline), or, when nothing arrived live since this node started, the
    /// later of the wall clock and the last command's time.
    /// </summary>
    public (LockEngine Engine, Engine.EngineClock Clock) Fork()
    {
        lock (_gate)
        {
            var bytes = SnapshotCodec.Encode(0, _engine.Capture());
            var (_, copy) = SnapshotLoader.Load("(leader's copy)", bytes.WrittenSpan, _limits);
            var clock = _lastNowAt is { } at
                ? Engine.EngineClock.Continuing(_time, _reference, at)
                : new Engine.EngineClock(_time, _lastNow);
            if (clock.Now < _lastNow)
            {
                // Never earlier than a command already applied.
                clock = Engine.EngineClock.Continuing(_time, _lastNow, _time.GetTimestamp());
            }
            return (copy, clock);
        }
    }

    /// <summary>Reads the committed engine under the state machine's lock (status pages, tests).</summary>
    public T Read<T>(Func<LockEngine, T> read)
    {
        lock (_gate)
        {
            return read(_engine);
        }
    }

    protected override ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
        => new(!entry.IsSnapshot && entry.TryGetPayload(out var payload) && Apply(payload, entry.Index, entry.Term));

    /// <summary>
    /// Applies one committed entry's commands (none for an entry that is not ours); whether a snapshot of the state
    /// after it was encoded for DotNext to persist.
    /// </summary>
    internal bool Apply(ReadOnlySequence<byte> payload, long index, long term)
    {
        var snapshot = false;
        lock (_gate)
        {
            var commands = 0L;
            var latest = long.MinValue;
            ClusterEntry.Kind? kind;
            try
            {
                kind = ClusterEntry.Read(payload, command =>
                {
                    _engine.Apply(command);
                    latest = Math.Max(latest, command.Now);
                    commands++;
                });
            }
            catch (Exception ex)
            {
                // Half applied, or not at all: this node's state is no longer the cluster's. It must not vote, lead
                // or answer on it; the host stops (docs/cluster.md: replace the node, or start it on a copy).
                Failure = ex;
                LogApplyFailed(ex, index);
                Failed?.Invoke(ex);
                throw;
            }
            _engine.DiscardOutcomes();
            if (kind is null || commands == 0)
            {
                return false;
            }
            _lastNow = Math.Max(_lastNow, latest);
            Continue(latest, index, term);
            _sinceSnapshot += commands;
            if (_sinceSnapshot >= _snapshotEvery)
            {
                // Encoded here, between entries, so it is exactly the state after this entry; DotNext persists it
                // while the following entries are applied.
                _snapshot = SnapshotCodec.Encode(index, _engine.Capture());
                _sinceSnapshot = 0;
                snapshot = true;
            }
        }
        return snapshot;
    }

    /// <summary>
    /// Keeps the reference a new leader's clock continues from: a command's time and the monotonic moment it was
    /// applied here, live. A command only replaces the reference when its time is later than the reference
    /// projected to now, so an old command committed late (the last of an earlier term, committed with the new
    /// leader's first entry) never pulls the time line back; the first reference after start must come from
    /// the current term, whose leader stamped it just now.
    /// </summary>
    private void Continue(long stamped, long entryIndex, long entryTerm)
    {
        if (entryIndex <= FreshAfter)
        {
            // Start-up replays what this node's log held: stamped before it stopped, maybe long ago.
            return;
        }
        var now = _time.GetTimestamp();
        if (entryTerm < CurrentTerm())
        {
            // An earlier leader's stamp, committed late: it may only move the reference forward, never back.
            if (_lastNowAt is not { } at || stamped <= _reference + (long)_time.GetElapsedTime(at, now).TotalMilliseconds)
            {
                return;
            }
        }
        // The current leader's stamps rise in log order and are taken as they come, so this node's clock rate
        // never drifts away from the leader's between two commands.
        _reference = stamped;
        _lastNowAt = now;
    }

    /// <summary>
    /// The last entry this node's log held when it started (set once start-up has replayed it; until then every
    /// entry is a replayed one): entries up to it never give the time line a reference.
    /// </summary>
    public long FreshAfter { get; set; } = long.MaxValue;

    /// <summary>The node's current Raft term (set by the node before start).</summary>
    public Func<long> CurrentTerm { get; set; } = () => 0;

    /// <summary>Why applying a committed entry failed, or null: the node stops.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Raised once, on DotNext's applier, when an entry cannot be applied.</summary>
    public event Action<Exception>? Failed;

    protected override async ValueTask PersistAsync(IAsyncBinaryWriter writer, CancellationToken token)
    {
        var bytes = Interlocked.Exchange(ref _snapshot, null) ?? SnapshotCodec.Encode(0, Read(e => e.Capture()));
        await writer.Invoke(bytes.WrittenMemory, token).ConfigureAwait(false);
    }

    protected override async ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token)
    {
        var data = await File.ReadAllBytesAsync(snapshotFile.FullName, token).ConfigureAwait(false);
        Restore(snapshotFile.FullName, data);
    }

    /// <summary>Replaces the committed state with a snapshot's (<paramref name="file"/> names it in errors).</summary>
    internal void Restore(string file, ReadOnlySpan<byte> data)
    {
        var (index, engine) = SnapshotLoader.Load(file, data, _limits);
        lock (_gate)
        {
            _engine = engine;
            _sinceSnapshot = 0;
            // A node started on a snapshot with no log after it must not take the wall clock alone for its time line:
            // one that was set back would stretch every lease the snapshot holds (as the single server's recovery).
            _lastNow = Math.Max(_lastNow, SnapshotLoader.LatestTime(engine));
        }
        LogRestored(index, data.Length);
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Applying committed entry {Index} failed; this node's state is no longer the cluster's and the server stops")]
    private partial void LogApplyFailed(Exception ex, long index);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cluster state restored from a snapshot of entry {Index} ({Bytes} bytes)")]
    private partial void LogRestored(long index, int bytes);
}
