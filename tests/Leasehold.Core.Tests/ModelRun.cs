using System.Globalization;
using System.Text;

namespace Leasehold.Core.Tests;

/// <summary>
/// One seeded run: the same random commands go to the engine and to the <see cref="ReferenceModel"/>;
/// after every step results, state, queries and invariants must agree. Paths come from a small alphabet
/// (depth 0..3, names a/b/c) so that conflicts are frequent.
/// <para>
/// Times, ttls and waits take any value, but a fifth of the ttls and waits are chosen to land exactly on a
/// live deadline, a quarter of the leases taken in a session end in the very millisecond the session does,
/// and the clock often jumps straight to the next deadline, as the host's timer does. So leases, sessions
/// and waiters often fall due in the same millisecond or the same Advance, and the model must follow the
/// defined order for them (see <see cref="ReferenceModel.Advance"/>). Outcomes are compared in report order.
/// </para>
/// </summary>
internal sealed class ModelRun
{
    private const int LogLength = 40;
    private static readonly string[] AllPaths = BuildPaths();
    private static readonly Dictionary<string, ResourcePath> Parsed = AllPaths.ToDictionary(p => p, Parse, StringComparer.Ordinal);

    private readonly int _seed;
    private readonly bool _longQueues;
    private readonly Random _rng;
    private readonly LockEngine _engine = new() { TrackEvents = true };
    private readonly List<EngineEvent> _events = [];

    // What the events say is live: granted minus released leases, queued minus dequeued waiters, opened minus ended sessions.
    private readonly HashSet<long> _eventLeases = [];
    private readonly HashSet<long> _eventWaiters = [];
    private readonly HashSet<long> _eventSessions = [];
    private long _lastRevision;
    private readonly ReferenceModel _model = new();
    private readonly Queue<string> _log = new();
    private readonly List<(long Id, UInt128 Token)> _knownLeases = [];
    private readonly List<(long Id, UInt128 Token)> _knownSessions = [];
    private readonly List<Lease> _newGrants = [];
    private readonly Dictionary<string, int> _stats = new(StringComparer.Ordinal);
    private long _now = 1_000_000;
    private long _lastFenceSeen;
    private int _step;
    private int _maxQueue;
    private int _maxHolders;

    /// <param name="seed">The seed of the random commands.</param>
    /// <param name="longQueues">
    /// Long lines instead of the default mix: most requests wait, for long, on a few hot paths (one inside
    /// another), so 50 to 100 waiters queue on the same few paths, with mixed modes, limits and flags,
    /// and the queue pass must pick the right ones out of long lines.
    /// </param>
    public ModelRun(int seed, bool longQueues = false)
    {
        _seed = seed;
        _longQueues = longQueues;
        _rng = new Random(seed);
    }

    /// <summary>The longest the queue was after a step.</summary>
    public int MaxQueue => _maxQueue;

    public string Stats
        => $"max queue {_maxQueue}, max holders {_maxHolders}, last fence {_lastFenceSeen}, simulated {_now - 1_000_000} ms; "
           + string.Join(", ", _stats.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} {s.Value}"));

    public void Execute(int steps)
    {
        for (_step = 1; _step <= steps; _step++)
        {
            try
            {
                Step();
                // Events first: comparing outcomes discards what the step reported.
                CompareEvents();
                CompareOutcomes();
                CompareState();
                CompareQueries();
                CheckInvariants();
            }
            catch (Exception ex)
            {
                throw new ModelRunFailure(
                    $"seed {_seed} step {_step} (replay: LEASEHOLD_SEED={_seed} LEASEHOLD_STEPS={_step}): {ex.Message}\n"
                    + $"last commands (now={_now}):\n  " + string.Join("\n  ", _log),
                    ex);
            }
        }
    }

    // ---- Commands ----

    private void Step()
    {
        var roll = _rng.Next(1000);
        if (roll < 380)
        {
            DoAcquire();
        }
        else if (roll < 530)
        {
            DoRelease();
        }
        else if (roll < 580)
        {
            DoRenew();
        }
        else if (roll < 630)
        {
            DoCancel();
        }
        else if (roll < 655)
        {
            DoOpen();
        }
        else if (roll < 685)
        {
            DoKeepAlive();
        }
        else if (roll < 705)
        {
            DoClose();
        }
        else if (roll < 720)
        {
            DoAdmin();
        }
        else if (roll < 845)
        {
            _now += _rng.Next(1, 121);
            Log($"time -> {_now}");
        }
        else if (roll < 930)
        {
            DoAdvance();
        }
        else if (roll < 992)
        {
            // The host's timer: wake at the earliest deadline (at once if it has passed) and tick.
            var next = LiveDeadlines().DefaultIfEmpty(_now).Min();
            if (next > _now)
            {
                _now = next;
                Log($"timer -> {_now}");
            }
            DoAdvance();
        }
        else if (roll < 994 && !_longQueues)
        {
            Log("drop waiters");
            Expect(_engine.DropAllWaiters(_now) == _model.DropWaiters(), "drop count");
        }
        else
        {
            _now += _rng.Next(400, 3000);
            Log($"jump -> {_now}");
            DoAdvance();
        }
    }

    private void DoAcquire()
    {
        var count = _rng.Next(100) switch
        {
            < 70 => 1,
            < 90 => 2,
            _ => 3,
        };
        var paths = new List<string>();
        while (paths.Count < count)
        {
            var path = RandomPath();
            if (!paths.Contains(path))
            {
                paths.Add(path);
            }
        }
        if (count > 1 && _rng.Next(100) < 3)
        {
            paths[1] = paths[0];
        }
        var mode = _rng.Next(100) < 55 ? LockMode.Exclusive : LockMode.Shared;
        int? limit = mode == LockMode.Exclusive
            ? _rng.Next(20) switch
            {
                < 9 => null,
                < 11 => 1,
                < 16 => 2,
                _ => 3,
            }
            : _rng.Next(100) < 3 ? 2 : null;
        var lockParents = _rng.Next(100) < 80;
        var lockChildren = _rng.Next(100) < 80;
        var waitMs = _longQueues
            ? _rng.Next(100) < 10 ? 0 : Aligned(_rng.Next(2_000, 30_001), 30_000)
            : _rng.Next(100) < 45 ? 0 : Aligned(_rng.Next(1, 401), 400);
        var ttlMs = _rng.Next(100) < 30 ? 0 : Aligned(_rng.Next(1, 601), 3000);
        var sessionId = _rng.Next(100) switch
        {
            < 65 => 0,
            < 97 => PickSession().Id,
            _ => _model.LastSessionId + 1,
        };
        if (ttlMs > 0 && _model.FindSession(sessionId) is { } session && session.ExpiresAt > _now && _rng.Next(4) == 0)
        {
            // Due in the same millisecond as its session.
            ttlMs = session.ExpiresAt - _now;
        }
        var owner = _rng.Next(100) switch
        {
            < 90 => null,
            < 99 => "owner",
            _ => new string('o', ReferenceModel.MaxOwner + 1),
        };
        if (_rng.Next(100) == 0)
        {
            switch (_rng.Next(4))
            {
                case 0:
                    ttlMs = -1;
                    break;
                case 1:
                    waitMs = ReferenceModel.MaxWaitMs + 1;
                    break;
                case 2:
                    limit = 0;
                    break;
                default:
                    mode = (LockMode)5;
                    break;
            }
        }
        // Now and then a token another lease may have too, as name-derived tokens are: the token index keeps chains.
        var token = _rng.Next(100) < 10 ? SharedTokens[_rng.Next(SharedTokens.Length)] : NewToken();
        var principal = RandomPrincipal();
        Log($"acquire [{string.Join(" ", paths)}] {mode} limit={limit?.ToString(CultureInfo.InvariantCulture) ?? "-"} lp={lockParents} lc={lockChildren} "
            + $"wait={waitMs} ttl={ttlMs} session={sessionId} owner={owner?.Length ?? -1} principal={principal ?? "-"} token={token}");

        var engine = _engine.Acquire(new AcquireLease
        {
            Now = _now,
            Paths = [.. paths.Select(p => Parsed[p])],
            Mode = mode,
            Limit = limit,
            LockParents = lockParents,
            LockChildren = lockChildren,
            WaitMs = waitMs,
            TtlMs = ttlMs,
            SessionId = sessionId,
            Owner = owner,
            Principal = principal,
            Token = token,
        });
        var model = _model.Acquire(_now, [.. paths], mode, limit, lockParents, lockChildren, ttlMs, waitMs, sessionId, owner, token, principal);
        var engineSays = $"{engine.Error} lease={engine.Lease?.Id ?? 0} waiter={engine.Waiter?.Id ?? 0}";
        var modelSays = $"{model.Error} lease={model.LeaseId} waiter={model.WaiterId}";
        Expect(engineSays == modelSays, $"acquire: engine {engineSays}, model {modelSays} ({engine.Detail})");
        Count(engine.Lease is not null ? "acquire granted" : engine.Waiter is not null ? "acquire queued" : $"acquire {engine.Error}");
        if (engine.Lease is { } lease)
        {
            _newGrants.Add(lease);
            Remember(_knownLeases, (lease.Id, lease.Token));
        }
    }

    private void DoRelease()
    {
        var (id, token) = PickLease();
        Log($"release {id} token={token}");
        var engine = _engine.Release(new ReleaseLease { Now = _now, LeaseId = id, Token = token });
        var model = _model.Release(_now, id, token);
        Expect(engine.Error == model, $"release: engine {engine.Error}, model {model}");
        Expect(engine.Error != ErrorCode.None || engine.Value?.Id == id, "release returned another lease");
        Count($"release {engine.Error}");
    }

    private void DoRenew()
    {
        var (id, token) = PickLease();
        var ttlMs = _rng.Next(100) switch
        {
            < 50 => 0,
            < 95 => Aligned(_rng.Next(1, 601), 3000),
            < 97 => -1,
            // The longest ttl there is, and one past it: a deadline months away is an ordinary deadline.
            < 99 => ReferenceModel.MaxTtlMs,
            _ => ReferenceModel.MaxTtlMs + 1,
        };
        Log($"renew {id} token={token} ttl={ttlMs}");
        var engine = _engine.Renew(new RenewLease { Now = _now, LeaseId = id, Token = token, TtlMs = ttlMs });
        var model = _model.Renew(_now, id, token, ttlMs);
        var engineSays = $"{engine.Error} expires={(engine.Error == ErrorCode.None ? engine.Value!.ExpiresAt : 0)}";
        var modelSays = $"{model.Error} expires={model.ExpiresAt}";
        Expect(engineSays == modelSays, $"renew: engine {engineSays}, model {modelSays}");
        Count($"renew {engine.Error}");
    }

    private void DoCancel()
    {
        var id = _model.Waiters.Count > 0 && _rng.Next(100) < 70
            ? _model.Waiters[_rng.Next(_model.Waiters.Count)].Id
            : _rng.NextInt64(1, _model.LastWaiterId + 3);
        Log($"cancel {id}");
        var engine = _engine.Cancel(new CancelWait { Now = _now, WaiterId = id });
        var model = _model.Cancel(_now, id);
        Expect(engine == model, $"cancel: engine {engine}, model {model}");
        Count($"cancel {engine}");
    }

    private void DoOpen()
    {
        var ttlMs = _rng.Next(100) switch
        {
            < 95 => Aligned(ReferenceModel.MinSessionTtlMs + _rng.Next(0, 3001), ReferenceModel.MinSessionTtlMs + 3000, ReferenceModel.MinSessionTtlMs),
            < 98 => 999,
            _ => ReferenceModel.MaxSessionTtlMs + 1,
        };
        var token = NewToken();
        var principal = RandomPrincipal();
        Log($"open ttl={ttlMs} principal={principal ?? "-"} token={token}");
        var engine = _engine.Open(new OpenSession { Now = _now, TtlMs = ttlMs, Principal = principal, Token = token });
        var model = _model.Open(_now, ttlMs, null, token, principal);
        var engineSays = $"{engine.Error} id={engine.Value?.Id ?? 0}";
        var modelSays = $"{model.Error} id={model.SessionId}";
        Expect(engineSays == modelSays, $"open: engine {engineSays}, model {modelSays}");
        if (engine.Value is { } session)
        {
            Remember(_knownSessions, (session.Id, session.Token));
        }
        Count($"open {engine.Error}");
    }

    private void DoKeepAlive()
    {
        var (id, token) = PickSession();
        Log($"keepalive {id} token={token}");
        var engine = _engine.KeepAlive(new KeepAliveSession { Now = _now, SessionId = id, Token = token });
        var model = _model.KeepAlive(_now, id, token);
        var engineSays = $"{engine.Error} expires={(engine.Error == ErrorCode.None ? engine.Value!.ExpiresAt : 0)}";
        var modelSays = $"{model.Error} expires={model.ExpiresAt}";
        Expect(engineSays == modelSays, $"keepalive: engine {engineSays}, model {modelSays}");
        Count($"keepalive {engine.Error}");
    }

    private void DoClose()
    {
        var (id, token) = PickSession();
        Log($"close {id} token={token}");
        var engine = _engine.Close(new CloseSession { Now = _now, SessionId = id, Token = token });
        var model = _model.Close(_now, id, token);
        Expect(engine.Error == model, $"close: engine {engine.Error}, model {model}");
        Count($"close {engine.Error}");
    }

    /// <summary>An administrator: revoke a lease, end a session, drain or undrain a prefix (sometimes one that is not drained).</summary>
    private void DoAdmin()
    {
        switch (_rng.Next(4))
        {
            case 0:
            {
                var (id, _) = PickLease();
                Log($"revoke {id}");
                var engine = _engine.Revoke(new RevokeLease { Now = _now, LeaseId = id, Actor = RandomPrincipal() });
                var model = _model.Revoke(_now, id);
                Expect(engine.Error == model, $"revoke: engine {engine.Error}, model {model}");
                Count($"revoke {engine.Error}");
                break;
            }
            case 1:
            {
                var (id, _) = PickSession();
                Log($"end session {id}");
                var engine = _engine.EndSession(new EndSession { Now = _now, SessionId = id, Actor = RandomPrincipal() });
                var model = _model.EndSessionByAdmin(_now, id);
                Expect(engine.Error == model, $"end session: engine {engine.Error}, model {model}");
                Count($"end session {engine.Error}");
                break;
            }
            case 2:
            {
                var path = RandomPath();
                Log($"drain {path}");
                var engine = _engine.Drain(new DrainPrefix { Now = _now, Path = Parsed[path], Actor = RandomPrincipal() });
                var model = _model.Drain(path);
                Expect(engine.Started == model, $"drain: engine started {engine.Started}, model {model}");
                Count($"drain started={engine.Started}");
                break;
            }
            default:
            {
                var path = _model.Drained.Count > 0 && _rng.Next(4) != 0 ? _model.Drained[_rng.Next(_model.Drained.Count)] : RandomPath();
                Log($"undrain {path}");
                var engine = _engine.Undrain(new UndrainPrefix { Now = _now, Path = Parsed[path], Actor = RandomPrincipal() });
                var model = _model.Undrain(_now, path);
                Expect(engine.Error == model, $"undrain: engine {engine.Error}, model {model}");
                Count($"undrain {engine.Error}");
                break;
            }
        }
    }

    private string? RandomPrincipal() => _rng.Next(3) switch
    {
        0 => null,
        1 => "alice",
        _ => "bob",
    };

    private void DoAdvance()
    {
        Log($"advance {_now}");
        // What makes this Advance interesting, from the model's state before it.
        var deadlines = _model.Waiters.ToDictionary(w => w.Id, w => w.Deadline);
        var tiedWithSession = _model.Holders.Count(l =>
            l.ExpiresAt <= _now && _model.FindSession(l.SessionId) is { } s && s.ExpiresAt == l.ExpiresAt);
        var engine = _engine.Advance(_now);
        var model = _model.Advance(_now);
        Expect(engine == model, $"advance ended: engine {engine}, model {model}");
        Count(engine > 0 ? "advance ended something" : "advance ended nothing");
        if (tiedWithSession > 0)
        {
            Count("tie: lease due with its session");
        }
        foreach (var (id, error, _) in _model.Outcomes)
        {
            if (deadlines.TryGetValue(id, out var deadline) && deadline <= _now && error != ErrorCode.Locked)
            {
                Count($"tie: waiter due, {(error == ErrorCode.None ? "granted" : error.ToString())}{(deadline == _now ? " at its deadline" : "")}");
            }
        }
    }

    // ---- Comparisons ----

    private void CompareOutcomes()
    {
        ExpectSame(
            "waiter outcomes",
            ReportOrder(_engine.Outcomes.Select(o => (o.WaiterId, o.Error, o.Lease?.Id ?? 0))),
            ReportOrder(_model.Outcomes));
        foreach (var outcome in _engine.Outcomes)
        {
            Count($"outcome {outcome.Error}");
            if (outcome.Lease is { } lease)
            {
                Expect(outcome.Error == ErrorCode.None, "outcome with a lease and an error");
                _newGrants.Add(lease);
                Remember(_knownLeases, (lease.Id, lease.Token));
            }
        }
        _engine.DiscardOutcomes();
        _model.Outcomes.Clear();

        // Fencing tokens strictly increase in grant (report) order, above every earlier one; nothing is granted under a drain.
        foreach (var lease in _newGrants)
        {
            Expect(!_model.IsDrained(EngineInvariants.ToClaim(lease)), $"lease {lease.Id} was granted under a drained prefix");
            Expect(lease.Fence > _lastFenceSeen, $"lease {lease.Id} got fence {lease.Fence}, not above {_lastFenceSeen}");
            _lastFenceSeen = lease.Fence;
        }
        _newGrants.Clear();
        Expect(_engine.LastFence == _lastFenceSeen, $"LastFence {_engine.LastFence}, newest grant {_lastFenceSeen}");
        Expect(_model.LastFence == _lastFenceSeen, $"model fence {_model.LastFence}, engine {_lastFenceSeen}");
    }

    /// <summary>
    /// The events of the step are numbered one by one after the last step's, up to the engine's revision, and
    /// replaying them on sets gives exactly the engine's live leases, waiters and sessions.
    /// </summary>
    private void CompareEvents()
    {
        _engine.DrainEvents(_events);
        foreach (var e in _events)
        {
            Expect(e.Revision == _lastRevision + 1, $"event {e.Kind} has revision {e.Revision}, after {_lastRevision}");
            _lastRevision = e.Revision;
            Expect(e.At == _now, $"event {e.Kind} {e.Revision} at {e.At}, the command's time is {_now}");
            var known = e.Kind switch
            {
                EventKind.Granted => _eventLeases.Add(e.Lease!.Id),
                EventKind.Released => _eventLeases.Remove(e.Lease!.Id),
                EventKind.Renewed => _eventLeases.Contains(e.Lease!.Id),
                EventKind.Queued => _eventWaiters.Add(e.Waiter!.Id),
                EventKind.Dequeued => _eventWaiters.Remove(e.Waiter!.Id),
                EventKind.SessionOpened => _eventSessions.Add(e.Session!.Id),
                EventKind.SessionEnded => _eventSessions.Remove(e.Session!.Id),
                _ => true,
            };
            Expect(known, $"event {e.Kind} {e.Revision} does not follow from the events before it");
            Count($"event {e.Kind}");
        }
        _events.Clear();
        Expect(_engine.Revision == _lastRevision, $"revision {_engine.Revision}, last event {_lastRevision}");
        ExpectSame("leases by events", [.. _eventLeases.Order().Select(Str)], [.. _engine.Leases.Select(l => l.Id).Order().Select(Str)]);
        ExpectSame("waiters by events", [.. _eventWaiters.Order().Select(Str)], [.. _engine.Queue.Select(w => w.Id).Order().Select(Str)]);
        ExpectSame("sessions by events", [.. _eventSessions.Order().Select(Str)], [.. _engine.Sessions.Select(s => s.Id).Order().Select(Str)]);

        static string Str(long id) => id.ToString(CultureInfo.InvariantCulture);
    }

    private void CompareState()
    {
        ExpectSame(
            "leases",
            [.. _engine.Leases.OrderBy(l => l.Id).Select(l => Describe(l.Id, l.Fence, EngineInvariants.ToClaim(l), l.SessionId, l.TtlMs, l.Token)
                + $" expires={l.ExpiresAt} acquired={l.AcquiredAt} waited={l.WaitedMs}")],
            [.. _model.Holders.OrderBy(l => l.Id).Select(l => Describe(l.Id, l.Fence, l.Claim, l.SessionId, l.TtlMs, l.Token)
                + $" expires={l.ExpiresAt} acquired={l.AcquiredAt} waited={l.WaitedMs}")]);
        ExpectSame(
            "queue",
            [.. _engine.Queue.Select(w => Describe(w.Id, 0, EngineInvariants.ToClaim(w), w.SessionId, w.TtlMs, w.Token)
                + $" enqueued={w.EnqueuedAt} deadline={w.Deadline}")],
            [.. _model.Waiters.Select(w => Describe(w.Id, 0, w.Claim, w.SessionId, w.TtlMs, w.Token)
                + $" enqueued={w.EnqueuedAt} deadline={w.Deadline}")]);
        ExpectSame(
            "sessions",
            [.. _engine.Sessions.OrderBy(s => s.Id).Select(s => $"S{s.Id} ttl={s.TtlMs} expires={s.ExpiresAt} token={s.Token} leases={s.LeaseCount}")],
            [.. _model.Sessions.OrderBy(s => s.Id).Select(s => $"S{s.Id} ttl={s.TtlMs} expires={s.ExpiresAt} token={s.Token} leases={_model.Holders.Count(l => l.SessionId == s.Id)}")]);
        Expect(_engine.QueueLength == _model.Waiters.Count, "QueueLength");
        ExpectSame("drains", [.. _engine.Drains.Select(d => d.Path.Value)], [.. _model.Drained.Order(StringComparer.Ordinal)]);
        foreach (var principal in new[] { null, "alice", "bob" })
        {
            var counts = _engine.CountsOf(principal);
            Expect((counts.Leases, counts.Sessions, counts.Waiters) == _model.CountsOf(principal), $"counts of {principal ?? "anonymous"}: engine {counts}, model {_model.CountsOf(principal)}");
        }
        _maxQueue = Math.Max(_maxQueue, _model.Waiters.Count);
        _maxHolders = Math.Max(_maxHolders, _model.Holders.Count);
    }

    private void CompareQueries()
    {
        // One resource: exact holders in grant order, waiters in arrival order.
        var path = RandomPath();
        var resource = _engine.GetResource(Parsed[path]);
        ExpectSame(
            $"holders of {path}",
            [.. resource.Holders.Select(l => l.Id.ToString(CultureInfo.InvariantCulture))],
            [.. _model.Holders.Where(l => l.Claim.Paths.Contains(path)).Select(l => l.Id.ToString(CultureInfo.InvariantCulture))]);
        ExpectSame(
            $"waiters of {path}",
            [.. resource.Queue.Select(w => w.Id.ToString(CultureInfo.InvariantCulture))],
            [.. _model.Waiters.Where(w => w.Claim.Paths.Contains(path)).Select(w => w.Id.ToString(CultureInfo.InvariantCulture))]);

        // Blockers of one or two paths, as a set.
        var paths = _rng.Next(2) == 0 ? new[] { RandomPath() } : [RandomPath(), RandomPath()];
        paths = [.. paths.Distinct(StringComparer.Ordinal)];
        var mode = _rng.Next(2) == 0 ? LockMode.Exclusive : LockMode.Shared;
        var probe = new MClaim(paths, mode, 1, true, true);
        ExpectSame(
            $"blockers of [{string.Join(" ", paths)}] {mode}",
            [.. _engine.FindBlockers(paths.Select(p => Parsed[p]), mode, max: 10_000).Select(l => l.Id).Order().Select(Text)],
            [.. _model.Holders.Where(h => h.Claim.Paths.Any(p => paths.Any(q => ReferenceModel.Blocks(h.Claim, p, probe, q)))).Select(l => l.Id).Order().Select(Text)]);

        // Fencing: holders of the path itself or of an ancestor that locks its children, outermost first.
        var fencePath = RandomPath();
        var fence = _model.Holders.Count > 0 && _rng.Next(4) > 0
            ? _model.Holders[_rng.Next(_model.Holders.Count)].Fence
            : _rng.NextInt64(0, _lastFenceSeen + 2);
        var state = _engine.CheckFence(Parsed[fencePath], fence);
        var covering = new List<MLease>();
        foreach (var level in AncestorsOrSelf(fencePath))
        {
            covering.AddRange(_model.Holders.Where(h =>
                h.Claim.Paths.Contains(level) && (level == fencePath || h.Claim.LockChildren) && !covering.Contains(h)));
        }
        ExpectSame(
            $"fence holders of {fencePath}",
            [.. state.Holders.Select(l => Text(l.Id))],
            [.. covering.Select(l => Text(l.Id))]);
        Expect(state.Current == covering.Any(l => l.Fence == fence), $"fence {fence} current on {fencePath}");

        // Held paths under a prefix, depth first in ordinal segment order, at most max.
        var prefix = _rng.Next(3) == 0 ? "/" : RandomPath();
        var max = _rng.Next(4) == 0 ? _rng.Next(1, 4) : 1000;
        var expected = _model.Holders
            .SelectMany(h => h.Claim.Paths)
            .Distinct(StringComparer.Ordinal)
            .Where(p => p == prefix || ReferenceModel.IsStrictAncestor(prefix, p))
            .Order(SegmentOrder.Instance)
            .Take(max)
            .Select(p => p + " " + string.Join(",", _model.Holders.Where(h => h.Claim.Paths.Contains(p)).Select(h => Text(h.Id)))
                           + " / " + string.Join(",", _model.Waiters.Where(w => w.Claim.Paths.Contains(p)).Select(w => Text(w.Id))))
            .ToList();
        ExpectSame(
            $"held under {prefix} (max {max})",
            [.. _engine.ListHeld(Parsed[prefix], max).Select(s => s.Path.Value + " " + string.Join(",", s.Holders.Select(h => Text(h.Id)))
                                                             + " / " + string.Join(",", s.Queue.Select(w => Text(w.Id))))],
            expected);
    }

    private void CheckInvariants()
    {
        var byFence = _engine.Leases.OrderBy(l => l.Fence).ToList();
        Expect(EngineInvariants.NoConflictingHolders(byFence));
        Expect(EngineInvariants.FencesFollowGrantOrder(byFence, _engine.LastFence));
        Expect(EngineInvariants.QueueSettledInArrivalOrder([.. _engine.Queue], _engine.Leases, _model.IsDrained));
        Expect(EngineInvariants.SessionsOwnTheirLeases(_engine));
        Expect(EngineInvariants.NextDeadlineNotLate(_engine));
        Expect(EngineInvariants.TokenIndexMatchesLeases(_engine));
    }

    // ---- Helpers ----

    private static string[] BuildPaths()
    {
        string[] names = ["a", "b", "c"];
        var result = new List<string> { "/" };
        var level = new List<string> { "" };
        for (var depth = 1; depth <= 3; depth++)
        {
            level = [.. level.SelectMany(parent => names.Select(n => parent + "/" + n))];
            result.AddRange(level);
        }
        return [.. result];
    }

    /// <summary>
    /// Outcomes as reported, except that within a run of SessionEnded ones (one ending session's waiters,
    /// or several sessions ending in a row) the order is left open and sorted by waiter id.
    /// </summary>
    private static List<string> ReportOrder(IEnumerable<(long WaiterId, ErrorCode Error, long LeaseId)> outcomes)
    {
        var result = new List<string>();
        var run = new List<long>();
        foreach (var (waiterId, error, leaseId) in outcomes.Append((0, ErrorCode.None, 0)))
        {
            if (error == ErrorCode.SessionEnded)
            {
                run.Add(waiterId);
                continue;
            }
            result.AddRange(run.Order().Select(id => $"W{id}:{ErrorCode.SessionEnded}:L0"));
            run.Clear();
            if (waiterId != 0)
            {
                result.Add($"W{waiterId}:{error}:L{leaseId}");
            }
        }
        return result;
    }

    /// <summary>Every live deadline in the model: lease expiries, session expiries, ends of waits.</summary>
    private IEnumerable<long> LiveDeadlines()
        => _model.Holders.Where(l => l.ExpiresAt != long.MaxValue).Select(l => l.ExpiresAt)
            .Concat(_model.Sessions.Select(s => s.ExpiresAt))
            .Concat(_model.Waiters.Select(w => w.Deadline));

    /// <summary>
    /// A fifth of the time, instead of <paramref name="random"/>, a duration in [<paramref name="min"/>,
    /// <paramref name="max"/>] that makes the new deadline fall on a live one (if there is such a one), so
    /// that things fall due in the same millisecond.
    /// </summary>
    private long Aligned(long random, long max, long min = 1)
    {
        if (_rng.Next(5) > 0)
        {
            return random;
        }
        var fits = LiveDeadlines().Select(d => d - _now).Where(d => d >= min && d <= max).Distinct().Order().ToList();
        return fits.Count == 0 ? random : fits[_rng.Next(fits.Count)];
    }

    private static ResourcePath Parse(string text)
        => ResourcePath.TryParse(text, out var path, out var error) ? path : throw new InvalidOperationException(error);

    private static IEnumerable<string> AncestorsOrSelf(string path)
    {
        yield return "/";
        for (var i = 1; i < path.Length; i++)
        {
            if (path[i] == '/')
            {
                yield return path[..i];
            }
        }
        if (path != "/")
        {
            yield return path;
        }
    }

    private static string Text(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static string Describe(long id, long fence, MClaim claim, long sessionId, long ttlMs, UInt128 token)
        => $"#{id} fence={fence} {claim.Mode} limit={claim.Limit} lp={claim.LockParents} lc={claim.LockChildren} "
           + $"session={sessionId} ttl={ttlMs} token={token} paths=[{string.Join(" ", claim.Paths)}]";

    private static readonly string[] HotPaths = ["/a", "/a/b", "/a/b/c", "/b/b", "/c"];

    private string RandomPath()
    {
        if (_longQueues && _rng.Next(100) < 75)
        {
            return HotPaths[_rng.Next(HotPaths.Length)];
        }
        // Depth 0: 1 path, depth 1: 3, depth 2: 9, depth 3: 27; weight the depths, not the paths.
        var depth = _rng.Next(100) switch
        {
            < 3 => 0,
            < 30 => 1,
            < 65 => 2,
            _ => 3,
        };
        var start = depth switch
        {
            0 => 0,
            1 => 1,
            2 => 4,
            _ => 13,
        };
        var width = depth switch
        {
            0 => 1,
            1 => 3,
            2 => 9,
            _ => 27,
        };
        return AllPaths[start + _rng.Next(width)];
    }

    private UInt128 NewToken() => new((ulong)_rng.NextInt64(), (ulong)_rng.NextInt64());

    private static readonly UInt128[] SharedTokens = [new(1, 1), new(2, 2), new(3, 3)];

    private (long Id, UInt128 Token) PickLease()
    {
        (long Id, UInt128 Token) pick;
        var roll = _rng.Next(100);
        if (_model.Holders.Count > 0 && roll < 75)
        {
            var lease = _model.Holders[_rng.Next(_model.Holders.Count)];
            pick = (lease.Id, lease.Token);
        }
        else if (_knownLeases.Count > 0 && roll < 92)
        {
            pick = _knownLeases[_rng.Next(_knownLeases.Count)];
        }
        else
        {
            pick = (_rng.NextInt64(1, _model.LastLeaseId + 3), NewToken());
        }
        return _rng.Next(100) < 15 ? (pick.Id, pick.Token + 1) : pick;
    }

    private (long Id, UInt128 Token) PickSession()
    {
        (long Id, UInt128 Token) pick;
        var roll = _rng.Next(100);
        if (_model.Sessions.Count > 0 && roll < 80)
        {
            var session = _model.Sessions[_rng.Next(_model.Sessions.Count)];
            pick = (session.Id, session.Token);
        }
        else if (_knownSessions.Count > 0 && roll < 95)
        {
            pick = _knownSessions[_rng.Next(_knownSessions.Count)];
        }
        else
        {
            pick = (_rng.NextInt64(1, _model.LastSessionId + 3), NewToken());
        }
        return _rng.Next(100) < 15 ? (pick.Id, pick.Token + 1) : pick;
    }

    private static void Remember<T>(List<T> list, T item)
    {
        list.Add(item);
        if (list.Count > 64)
        {
            list.RemoveAt(0);
        }
    }

    private void Count(string key) => _stats[key] = _stats.GetValueOrDefault(key) + 1;

    private void Log(string line)
    {
        _log.Enqueue($"{_step}: {line}");
        if (_log.Count > LogLength)
        {
            _log.Dequeue();
        }
    }

    private static void Expect(bool condition, string message)
    {
        if (!condition)
        {
            throw new ModelMismatchException(message);
        }
    }

    private static void Expect(string? violation)
    {
        if (violation is not null)
        {
            throw new ModelMismatchException("invariant: " + violation);
        }
    }

    private static void ExpectSame(string what, List<string> engine, List<string> model)
    {
        if (engine.SequenceEqual(model, StringComparer.Ordinal))
        {
            return;
        }
        var text = new StringBuilder($"{what} differ\n engine:");
        foreach (var line in engine)
        {
            text.Append("\n   ").Append(line);
        }
        text.Append("\n model:");
        foreach (var line in model)
        {
            text.Append("\n   ").Append(line);
        }
        throw new ModelMismatchException(text.ToString());
    }

    /// <summary>Paths depth first: segment by segment, ordinally, a parent before its children.</summary>
    private sealed class SegmentOrder : IComparer<string>
    {
        public static readonly SegmentOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            var a = x!.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var b = y!.Split('/', StringSplitOptions.RemoveEmptyEntries);
            for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
            {
                var c = string.CompareOrdinal(a[i], b[i]);
                if (c != 0)
                {
                    return c;
                }
            }
            return a.Length.CompareTo(b.Length);
        }
    }
}

internal sealed class ModelMismatchException(string message) : Exception(message);

internal sealed class ModelRunFailure(string message, Exception inner) : Exception(message, inner);
