namespace Leasehold.Core;

/// <summary>
/// The lock engine: a deterministic state machine. One writer calls it; it does no I/O and reads no
/// clock (time arrives in each command). The same commands in the same order give the same state.
/// </summary>
public sealed partial class LockEngine
{
    private readonly LockTree _tree = new();

    /// <summary>
    /// Nodes of the path tree now, one per distinct path prefix held, wanted or declared: the measure of memory
    /// the host's quota on held paths checks (a node costs a few hundred bytes).
    /// </summary>
    public int TreeNodes => _tree.NodeCount;
    private readonly Dictionary<long, Lease> _leases = [];
    private readonly Dictionary<long, Session> _sessions = [];
    private readonly Dictionary<long, Waiter> _waiters = [];
    private readonly LinkedList<Waiter> _queue = new();

    // One entry per live lease, session or waiter with a deadline: removed when it ends, moved when renewed.
    // Ties at the same millisecond are broken by kind, then id, so a replay (even from a snapshot, which
    // rebuilds this heap in another order) ends things in exactly the same order.
    private readonly DeadlineHeap _deadlines = new();
    private readonly List<WaiterOutcome> _outcomes = [];
    private readonly List<Ended> _ended = [];

    // The waiters the next queue pass examines, oldest first: those something that went away (a lease, an
    // older waiter, a drain) may have freed, and pool waiters whose candidates changed. Empty between
    // commands: every command that notes one serves the queue before it returns.
    private readonly PriorityQueue<Waiter, long> _freed = new();

    // The queued pool waiters, in queue (id) order: a declaration looks among them for those whose
    // candidates change, without going through the plain waiters.
    private readonly SortedDictionary<long, Waiter> _poolWaiters = [];

    private long _lastLeaseId;
    private long _lastSessionId;
    private long _lastWaiterId;

    public LockEngine(EngineLimits? limits = null)
    {
        Limits = limits ?? new EngineLimits();
    }

    /// <summary>Why <paramref name="owner"/> cannot be stored (too long, not Unicode text), or null.</summary>
    private string? CheckOwner(string? owner) => CheckName(owner, "owner");

    /// <summary>Why a name (owner, principal, actor) cannot be stored, or null.</summary>
    private string? CheckName(string? name, string what)
        => name is null ? null
            : name.Length > Limits.MaxOwnerLength ? $"{what} has at most {Limits.MaxOwnerLength} characters"
            : !WellFormedText.IsWellFormed(name) ? what + " " + WellFormedText.Refusal
            : null;

    public EngineLimits Limits { get; }

    /// <summary>
    /// Counts state changes. A host compares it before and after a command to know whether the command must
    /// be logged: a command that changed nothing (a refused acquire, a wrong token) need not be replayed.
    /// </summary>
    public long Changes { get; private set; }

    /// <summary>The fencing token of the newest grant (0 before the first).</summary>
    public long LastFence { get; private set; }

    public IReadOnlyCollection<Lease> Leases => _leases.Values;

    public IReadOnlyCollection<Session> Sessions => _sessions.Values;

    /// <summary>Waiting requests, oldest first.</summary>
    public IEnumerable<Waiter> Queue => _queue;

    public int QueueLength => _queue.Count;

    /// <summary>
    /// Waiters granted or failed by the commands applied since the outcomes were last drained (a view, for
    /// reading; the host takes them with <see cref="DrainOutcomes"/>).
    /// </summary>
    public IReadOnlyList<WaiterOutcome> Outcomes => _outcomes;

    /// <summary>
    /// Takes the waiters granted or failed since the last drain, oldest first, and forgets them: the host calls
    /// it after each command and answers the waiting requests.
    /// </summary>
    public IReadOnlyList<WaiterOutcome> DrainOutcomes()
    {
        if (_outcomes.Count == 0)
        {
            return [];
        }
        WaiterOutcome[] drained = [.. _outcomes];
        _outcomes.Clear();
        return drained;
    }

    /// <summary>Forgets the outcomes nobody waits for: replay, a replica applying the leader's commands, a failed step.</summary>
    public void DiscardOutcomes()
    {
        _outcomes.Clear();
        _ended.Clear();
        _events.Clear();
    }

    /// <summary>
    /// Whether ended leases and sessions are reported (<see cref="DrainEnded"/>). Off by default, so a replay or a
    /// replica, which nobody drains, keeps no list; a host that watches what ends turns it on. It changes no state.
    /// </summary>
    public bool TrackEnded { get; set; }

    /// <summary>
    /// Takes the leases and sessions that ended since the last drain, in the order they ended, and forgets them.
    /// The order is the engine's, so a replay of the same commands reports the same sequence.
    /// </summary>
    public int DrainEnded(List<Ended> into)
    {
        var count = _ended.Count;
        if (count > 0)
        {
            into.AddRange(_ended);
            _ended.Clear();
        }
        return count;
    }

    /// <summary>The earliest moment a <see cref="Tick"/> may change something, or null when nothing is timed.</summary>
    public long? NextDeadline => _deadlines.TryPeek(out _, out _, out var at) ? at : null;

    /// <summary>Timed things with a deadline set (live leases with a ttl, sessions, waiters with a wait): for tests.</summary>
    internal int DeadlineCount => _deadlines.Count;

    private void Schedule(Lease lease) => _deadlines.Set(lease, DeadlineKind.Lease, lease.Id, lease.ExpiresAt);

    private void Schedule(Session session) => _deadlines.Set(session, DeadlineKind.Session, session.Id, session.ExpiresAt);

    private void Schedule(Waiter waiter) => _deadlines.Set(waiter, DeadlineKind.Waiter, waiter.Id, waiter.Deadline);

    /// <summary>
    /// Applies any command. The typed methods do the same without the dispatch, and always decide anew:
    /// only here are a logged command's <see cref="Command.Choices"/> applied instead of choosing again.
    /// </summary>
    public object? Apply(Command command)
    {
        _recorded = command.Choices;
        _pass = 0;
        try
        {
            return Dispatch(command);
        }
        finally
        {
            _recorded = null;
        }
    }

    private object? Dispatch(Command command) => command switch
    {
        AcquireLease c => Acquire(c),
        RenewLease c => Renew(c),
        ReleaseLease c => Release(c),
        OpenSession c => Open(c),
        KeepAliveSession c => KeepAlive(c),
        CloseSession c => Close(c),
        CancelWait c => Cancel(c),
        Tick c => Advance(c.Now),
        DropWaiters c => DropAllWaiters(c.Now),
        Recover c => Recover(c),
        TakeOver c => TakeOver(c),
        DeclareResource c => Declare(c),
        RemoveResource c => Remove(c),
        RevokeLease c => Revoke(c),
        EndSession c => EndSession(c),
        DrainPrefix c => Drain(c),
        UndrainPrefix c => Undrain(c),
        _ => throw new ArgumentException($"unknown command {command.GetType().Name}", nameof(command)),
    };
}
