namespace Leasehold.Crash.Tests;

/// <summary>What the test may assume about an acknowledged lease.</summary>
internal enum Fate
{
    /// <summary>Acknowledged grant, no release or session close sent: must be held.</summary>
    Held,

    /// <summary>A release or its session's close was acknowledged (204): must be gone.</summary>
    Released,

    /// <summary>A release or session close was sent but its answer never came: either is fine.</summary>
    Maybe,
}

/// <summary>One acknowledged grant (201 received) and what happened to it since.</summary>
internal sealed class GrantRecord
{
    public required LeaseView Lease { get; init; }

    public required string Token { get; init; }

    public required int Epoch { get; init; }

    public required int Client { get; init; }

    public Fate Fate { get; set; } = Fate.Held;

    public string Story { get; set; } = "";

    public override string ToString() => $"{Lease} (granted in epoch {Epoch} to client {Client}, {Fate}{Story})";
}

/// <summary>Counts for one round's log line.</summary>
internal sealed record RoundCounts(int Grants, int Releases, int Locked, int UnknownAcquires, int UnknownReleases, int SessionsClosed, int UnknownOther);

/// <summary>
/// The thread-safe record of everything the clients were told: acknowledged grants and releases, and the
/// requests whose answer was lost. The checks after each restart compare the server against it.
/// Epoch n is the n-th server process (0 = first start).
/// </summary>
internal sealed class CrashJournal
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, GrantRecord> _grants = [];
    private readonly Dictionary<long, long> _leaseByFence = [];
    private readonly List<string> _violations = [];
    private readonly HashSet<long> _closedSessions = [];
    private long _maxFenceSeen;
    private volatile bool _killing;
    private int _grantCount, _releaseCount, _lockedCount, _unknownAcquires, _unknownReleases, _sessionsClosed, _unknownOther;

    public int Epoch { get; private set; }

    /// <summary>The largest fence seen (acknowledged or listed) before the current epoch began: every new grant must beat it.</summary>
    public long FenceFloor { get; private set; }

    public long MaxFenceSeen
    {
        get
        {
            lock (_gate)
            {
                return _maxFenceSeen;
            }
        }
    }

    /// <summary>Set just before the kill: failures after it are expected, failures before it are findings.</summary>
    public bool Killing
    {
        get => _killing;
        set => _killing = value;
    }

    public int ViolationCount
    {
        get
        {
            lock (_gate)
            {
                return _violations.Count;
            }
        }
    }

    public void StartEpoch(int epoch)
    {
        lock (_gate)
        {
            Epoch = epoch;
            FenceFloor = _maxFenceSeen;
            _killing = false;
        }
    }

    public void ObserveFence(long fence)
    {
        lock (_gate)
        {
            _maxFenceSeen = Math.Max(_maxFenceSeen, fence);
        }
    }

    public void AckGrant(GrantRecord grant)
    {
        var lease = grant.Lease;
        lock (_gate)
        {
            _grantCount++;
            if (grant.Epoch == Epoch && lease.Fence <= FenceFloor)
            {
                _violations.Add($"fence did not grow across the restart: {grant} has fence {lease.Fence}, but fence {FenceFloor} was seen before epoch {Epoch} began");
            }
            if (_grants.TryGetValue(lease.Id, out var other))
            {
                _violations.Add($"lease id {lease.Id} acknowledged twice: {other} and {grant}");
            }
            if (_leaseByFence.TryGetValue(lease.Fence, out var otherId) && otherId != lease.Id)
            {
                _violations.Add($"fence {lease.Fence} acknowledged for two leases: {otherId} and {grant}");
            }
            _grants[lease.Id] = grant;
            _leaseByFence[lease.Fence] = lease.Id;
            _maxFenceSeen = Math.Max(_maxFenceSeen, lease.Fence);
        }
    }

    public void AckRelease(long id)
    {
        lock (_gate)
        {
            _releaseCount++;
            var grant = _grants[id];
            grant.Fate = Fate.Released;
            grant.Story += $", release acknowledged in epoch {Epoch}";
        }
    }

    public void UnknownRelease(long id)
    {
        lock (_gate)
        {
            _unknownReleases++;
            var grant = _grants[id];
            if (grant.Fate == Fate.Held)
            {
                grant.Fate = Fate.Maybe;
            }
            grant.Story += $", release unanswered in epoch {Epoch}";
        }
    }

    /// <summary>A release or session call was answered with something other than success for a lease believed held.</summary>
    public void Lost(long id, string what)
    {
        lock (_gate)
        {
            var grant = _grants[id];
            _violations.Add($"{what} in epoch {Epoch} for {grant}");
            grant.Fate = Fate.Maybe;
            grant.Story += $", {what}";
        }
    }

    public void AckSessionClosed(long sessionId)
    {
        lock (_gate)
        {
            _sessionsClosed++;
            _closedSessions.Add(sessionId);
            foreach (var grant in _grants.Values.Where(g => g.Lease.Session == sessionId && g.Fate != Fate.Released))
            {
                grant.Fate = Fate.Released;
                grant.Story += $", session {sessionId} close acknowledged in epoch {Epoch}";
            }
        }
    }

    public void UnknownSessionClose(long sessionId)
    {
        lock (_gate)
        {
            _unknownOther++;
            foreach (var grant in _grants.Values.Where(g => g.Lease.Session == sessionId && g.Fate == Fate.Held))
            {
                grant.Fate = Fate.Maybe;
                grant.Story += $", session {sessionId} close unanswered in epoch {Epoch}";
            }
        }
    }

    public void CountLocked() => Interlocked.Increment(ref _lockedCount);

    public void CountUnknownAcquire() => Interlocked.Increment(ref _unknownAcquires);

    public void CountUnknownOther() => Interlocked.Increment(ref _unknownOther);

    /// <summary>A request that failed without an answer: expected once the kill began, a finding before.</summary>
    public void NoAnswer(string what, Exception error)
    {
        if (!Killing)
        {
            Violation($"{what} got no answer while the server was up: {error.GetType().Name}: {error.Message}");
        }
    }

    public void Violation(string text)
    {
        lock (_gate)
        {
            _violations.Add(text);
        }
    }

    public RoundCounts TakeCounts()
    {
        lock (_gate)
        {
            var counts = new RoundCounts(_grantCount, _releaseCount, _lockedCount, _unknownAcquires, _unknownReleases, _sessionsClosed, _unknownOther);
            _grantCount = _releaseCount = _lockedCount = _unknownAcquires = _unknownReleases = _sessionsClosed = _unknownOther = 0;
            return counts;
        }
    }

    public List<GrantRecord> Grants()
    {
        lock (_gate)
        {
            return [.. _grants.Values.OrderBy(g => g.Lease.Id)];
        }
    }

    /// <summary>True when closing the session was acknowledged: nothing may be bound to it any more.</summary>
    public bool IsClosedSession(long sessionId)
    {
        lock (_gate)
        {
            return _closedSessions.Contains(sessionId);
        }
    }

    public GrantRecord? Find(long id)
    {
        lock (_gate)
        {
            return _grants.GetValueOrDefault(id);
        }
    }

    public List<string> Violations()
    {
        lock (_gate)
        {
            return [.. _violations];
        }
    }
}
