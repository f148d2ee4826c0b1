using System.Globalization;
using Leasehold.Core.Pools;

namespace Leasehold.Core.Tests.Pools;

/// <summary>
/// One seeded run of random pool traffic: the same commands go to the engine and to <see cref="PoolReference"/>.
/// After every step the results, outcomes and states must agree, and invariants are checked on the engine's
/// own state with brute force: exclusive holding, whole groups of distinct matching resources, fences
/// increasing, every pool waiter's candidates equal to the matching declared resources and its groups servable
/// together by distinct ones. Now and then the engine is replaced by one restored from a copy of its snapshot,
/// which must go on making the same choices.
/// </summary>
internal sealed class PoolModelRun
{
    private const int HistorySize = 64;
    private const int LogLength = 40;
    private static readonly string[] ResourcePaths =
        [.. Enumerable.Range(0, 10).Select(i => $"/p/r{i}"), .. Enumerable.Range(0, 5).Select(i => $"/p/g/r{i}")];

    // Path requests mostly name resources, sometimes the sub-pool, the pool, or something below a resource.
    private static readonly string[] RequestPaths = [.. ResourcePaths, "/p/g", "/p/r1/x", "/p/g/r0/y", "/p/g", "/q"];
    private static readonly string[] Pools = ["/p", "/p", "/p", "/p/g"];
    private static readonly string?[] Owners = [null, "o1", "o2", "o3"];
    private static readonly Dictionary<string, ResourcePath> Parsed = new(StringComparer.Ordinal);

    private readonly int _seed;
    private readonly Random _rng;
    private readonly PoolReference _model = new(HistorySize);
    private readonly Queue<string> _log = new();
    private readonly Dictionary<string, int> _stats = new(StringComparer.Ordinal);
    private LockEngine _engine = new(new EngineLimits { HistorySize = HistorySize });
    private long _now = 1_000_000;
    private long _lastFenceSeen;
    private ulong _nextToken = 1;
    private int _step;

    public PoolModelRun(int seed)
    {
        _seed = seed;
        _rng = new Random(seed);
        _model.Note = Count;
    }

    public string Stats => string.Join(", ", _stats.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} {s.Value}"));

    public void Execute(int steps)
    {
        _step = 0;
        try
        {
            var initial = _rng.Next(5, 16);
            foreach (var path in ResourcePaths.OrderBy(_ => _rng.Next()).Take(initial))
            {
                DoDeclare(path);
            }
            Check();
            for (_step = 1; _step <= steps; _step++)
            {
                Step();
                Check();
            }
        }
        catch (Exception ex) when (ex is not PoolModelRunFailure)
        {
            throw new PoolModelRunFailure(
                $"seed {_seed} step {_step} (replay: LEASEHOLD_SEED={_seed} LEASEHOLD_POOL_STEPS={_step}): {ex.Message}\n"
                + $"last commands (now={_now}):\n  " + string.Join("\n  ", _log),
                ex);
        }
    }

    private void Check()
    {
        CompareOutcomes();
        CompareState();
        CheckInvariants();
    }

    // ---- Commands ----

    private void Step()
    {
        _now += _rng.Next(0, 16);
        var roll = _rng.Next(1000);
        if (roll < 360)
        {
            DoAcquirePool();
        }
        else if (roll < 470)
        {
            DoAcquirePaths();
        }
        else if (roll < 650)
        {
            DoRelease();
        }
        else if (roll < 720)
        {
            _now += _rng.Next(0, 60);
            DoAdvance();
        }
        else if (roll < 800)
        {
            // The host's timer: wake at the earliest deadline and tick.
            if (_engine.NextDeadline is { } next && next > _now)
            {
                _now = next;
            }
            DoAdvance();
        }
        else if (roll < 840)
        {
            DoCancel();
        }
        else if (roll < 910)
        {
            DoDeclare(ResourcePaths[_rng.Next(ResourcePaths.Length)]);
        }
        else if (roll < 960)
        {
            DoRemove(ResourcePaths[_rng.Next(ResourcePaths.Length)]);
        }
        else if (roll < 972)
        {
            DoQueries();
        }
        else if (roll < 985)
        {
            DoDrain();
        }
        else
        {
            DoRestore();
        }
    }

    private void DoAcquirePool()
    {
        // Enough requests with several groups, often in one pool, that groups compete for the same resources:
        // that is where choosing group by group can fail while a matching succeeds, and where groups that each
        // have enough matches can still never be served together.
        var groupRoll = _rng.Next(100);
        var groups = new RGroup[groupRoll < 45 ? 1 : groupRoll < 80 ? 2 : 3];
        for (var i = 0; i < groups.Length; i++)
        {
            var requirement = _rng.Next(100) < 2 ? PoolReference.InvalidRequirement : _rng.Next(PoolReference.InvalidRequirement);
            var pool = i > 0 && _rng.Next(100) < 50 ? groups[0].Pool : Pools[_rng.Next(Pools.Length)];
            groups[i] = new RGroup(pool, requirement, _rng.Next(100) < 60 ? 1 : 2);
        }
        var waitMs = _rng.Next(100) < 50 ? 0 : _rng.Next(20, 301);
        var ttlMs = _rng.Next(100) < 30 ? 0 : _rng.Next(30, 401);
        var owner = Owners[_rng.Next(Owners.Length)];
        var reuse = _rng.Next(100) < 20;
        // As the server does: a reuse request carries its owner's name-keyed token, so it can find its own lease.
        var token = reuse && owner is not null ? OwnerTokens.For(owner) : (UInt128)(++_nextToken);
        Log($"pool [{string.Join(" + ", groups.Select(g => $"{g.Count}x{g.Pool}{PoolReference.Requirements[g.Requirement].Text}"))}] wait {waitMs} ttl {ttlMs} owner {owner ?? "-"}{(reuse ? " reuse" : "")}");
        var before = _engine.Leases.Select(l => l.Id).ToHashSet();

        var actual = _engine.Acquire(new AcquireLease
        {
            Now = _now,
            Paths = [],
            Groups = [.. groups.Select(g => new PoolGroup(Path(g.Pool), PoolReference.Requirements[g.Requirement].Text, g.Count))],
            WaitMs = waitMs,
            TtlMs = ttlMs,
            Owner = owner,
            Reuse = reuse,
            Token = token,
        });
        var expected = _model.AcquirePool(groups, _now, waitMs, ttlMs, owner, reuse, token);

        CompareAcquire(actual, expected);
        var kind = expected.Error != ErrorCode.None ? expected.Error.ToString()
            : expected.Waiter is not null ? "queued"
            : before.Contains(expected.Lease!.Id) ? "reused" : "granted";
        Count($"pool {kind}");
        if (expected.Lease is { } lease && !before.Contains(lease.Id))
        {
            CheckFreshGrant(actual.Lease!);
            if (groups.Length > 1)
            {
                Count($"pool granted {groups.Length} groups");
            }
        }
    }

    private void DoAcquirePaths()
    {
        var first = RequestPaths[_rng.Next(RequestPaths.Length)];
        var second = RequestPaths[_rng.Next(RequestPaths.Length)];
        string[] paths = _rng.Next(100) < 15 && second != first ? [first, second] : [first];
        var waitMs = _rng.Next(100) < 50 ? 0 : _rng.Next(20, 301);
        var ttlMs = _rng.Next(100) < 30 ? 0 : _rng.Next(30, 401);
        var owner = Owners[_rng.Next(Owners.Length)];
        var token = (UInt128)(++_nextToken);
        Log($"paths [{string.Join(",", paths)}] wait {waitMs} ttl {ttlMs}");

        var actual = _engine.Acquire(new AcquireLease
        {
            Now = _now,
            Paths = [.. paths.Select(Path)],
            WaitMs = waitMs,
            TtlMs = ttlMs,
            Owner = owner,
            Token = token,
        });
        var expected = _model.AcquirePaths(paths, _now, waitMs, ttlMs, owner, token);

        CompareAcquire(actual, expected);
        Count($"path {(expected.Error != ErrorCode.None ? expected.Error.ToString() : expected.Waiter is not null ? "queued" : "granted")}");
        if (actual.Lease is { } lease)
        {
            CheckFreshGrant(lease);
        }
    }

    private void DoRelease()
    {
        var leases = _model.Leases.Values.ToList();
        long id;
        UInt128 token;
        var roll = _rng.Next(100);
        if (leases.Count == 0 || roll < 4)
        {
            id = _model.LastLeaseId + 1 - _rng.Next(0, 3);
            token = 0;
        }
        else
        {
            var lease = leases[_rng.Next(leases.Count)];
            id = lease.Id;
            token = roll < 8 ? lease.Token + 1 : lease.Token;
        }
        Log($"release {id}");
        var actual = _engine.Release(new ReleaseLease { Now = _now, LeaseId = id, Token = token });
        var expected = _model.Release(id, token, _now);
        Expect(actual.Error == expected, $"release {id}: engine {actual.Error}, model {expected}");
        Count($"release {expected}");
    }

    private void DoAdvance()
    {
        Log($"advance {_now}");
        var actual = _engine.Advance(_now);
        var expected = _model.Advance(_now);
        Expect(actual == expected, $"advance: engine ended {actual}, model {expected}");
    }

    private void DoCancel()
    {
        long id = _model.Queue.Count > 0 && _rng.Next(100) < 90
            ? _model.Queue[_rng.Next(_model.Queue.Count)].Id
            : _model.LastWaiterId + 1;
        Log($"cancel {id}");
        var actual = _engine.Cancel(new CancelWait { Now = _now, WaiterId = id });
        var expected = _model.Cancel(id, _now);
        Expect(actual == expected, $"cancel {id}: engine {actual}, model {expected}");
        Count($"cancel {expected}");
    }

    private void DoDeclare(string path)
    {
        var roll = _rng.Next(100);
        var os = roll < 50 ? "a" : roll < 85 ? "b" : PoolReference.LongOs;
        int? n = _rng.Next(100) < 15 ? null : _rng.Next(0, 4);
        var json = n is { } value
            ? string.Create(CultureInfo.InvariantCulture, $$"""{"os": "{{os}}", "n": {{value}}}""")
            : $$"""{"os": "{{os}}"}""";
        Log($"declare {path} {json}");
        var actual = _engine.Declare(new DeclareResource { Now = _now, Path = Path(path), Attributes = json });
        Expect(actual.Error == ErrorCode.None, $"declare {path}: {actual.Error} {actual.Detail}");
        _model.Declare(path, os, n, _now);
        Count("declare");
    }

    private void DoRemove(string path)
    {
        Log($"remove {path}");
        var declared = _engine.DeclaredCount;
        var changes = _engine.Changes;
        var actual = _engine.Remove(new RemoveResource { Now = _now, Path = Path(path) });
        var expected = _model.Remove(path, _now);
        Expect(actual.Error == expected, $"remove {path}: engine {actual.Error}, model {expected}");
        if (expected != ErrorCode.None)
        {
            Expect(_engine.Changes == changes && _engine.DeclaredCount == declared, $"a refused remove ({expected}) changed the engine");
        }
        Count($"remove {expected}");
    }

    private void DoQueries()
    {
        var prefix = _rng.Next(3) switch
        {
            0 => "/p",
            1 => "/p/g",
            _ => ResourcePaths[_rng.Next(ResourcePaths.Length)],
        };
        var from = _now - _rng.Next(0, 3000);
        var to = _now + _rng.Next(-200, 200);
        var owner = Owners[_rng.Next(Owners.Length)];
        var max = _rng.Next(0, 20);
        Log($"queries {prefix} [{from}, {to}] owner {owner ?? "-"} max {max}");

        var use = _engine.Utilization(Path(prefix), from, to).ToDictionary(u => u.Resource.Path.Value, u => u.HeldMs, StringComparer.Ordinal);
        var expectedUse = _model.Utilization(prefix, from, to);
        Expect(use.Count == expectedUse.Count && use.All(u => expectedUse.TryGetValue(u.Key, out var v) && v == u.Value),
            $"utilization {prefix}: engine {Show(use)}, model {Show(expectedUse)}");

        var history = _engine.QueryHistory(Path(prefix), owner, from, to, max).Select(h => h.LeaseId).ToList();
        var expectedHistory = _model.QueryHistory(prefix, owner, from, to, max).ToList();
        Expect(history.SequenceEqual(expectedHistory), $"history query: engine [{string.Join(",", history)}], model [{string.Join(",", expectedHistory)}]");
        Count("queries");
    }

    /// <summary>Drains a path (a resource, a pool, or beside them), or undrains one (sometimes one that is not drained).</summary>
    private void DoDrain()
    {
        if (_model.Drains.Count > 0 && _rng.Next(2) == 0)
        {
            var path = _rng.Next(5) == 0 ? RequestPaths[_rng.Next(RequestPaths.Length)] : _model.Drains.ElementAt(_rng.Next(_model.Drains.Count));
            Log($"undrain {path}");
            var actual = _engine.Undrain(new UndrainPrefix { Now = _now, Path = Path(path) });
            var expected = _model.Undrain(path, _now);
            Expect(actual.Error == expected, $"undrain: engine {actual.Error}, model {expected}");
            Count($"undrain {actual.Error}");
            return;
        }
        var drained = RequestPaths[_rng.Next(RequestPaths.Length)];
        Log($"drain {drained}");
        var started = _engine.Drain(new DrainPrefix { Now = _now, Path = Path(drained) }).Started;
        Expect(started == _model.Drain(drained), $"drain {drained}: engine started {started}");
        Count($"drain started={started}");
    }

    private void DoRestore()
    {
        Log("snapshot: continue on a restored copy");
        _engine = StateCopy.RestoreCopy(_engine);
        Count("restore");
    }

    // ---- Comparisons ----

    private void CompareAcquire(AcquireResult actual, (ErrorCode Error, RLease? Lease, RWaiter? Waiter) expected)
    {
        Expect(actual.Error == expected.Error, $"acquire: engine {actual.Error} ({actual.Detail}), model {expected.Error}");
        Expect((actual.Lease is null) == (expected.Lease is null) && (actual.Waiter is null) == (expected.Waiter is null),
            $"acquire: engine lease {actual.Lease?.Id} waiter {actual.Waiter?.Id}, model lease {expected.Lease?.Id} waiter {expected.Waiter?.Id}");
        if (expected.Lease is { } lease)
        {
            CompareLease(actual.Lease!, lease);
        }
        if (expected.Waiter is { } waiter)
        {
            Expect(actual.Waiter!.Id == waiter.Id, $"waiter id: engine {actual.Waiter.Id}, model {waiter.Id}");
        }
    }

    private static void CompareLease(Lease actual, RLease expected)
    {
        var paths = actual.Paths.Select(p => p.Value).ToArray();
        Expect(actual.Id == expected.Id && actual.Fence == expected.Fence && paths.SequenceEqual(expected.Paths) && actual.ExpiresAt == expected.ExpiresAt
               && actual.AcquiredAt == expected.AcquiredAt && actual.WaitedMs == expected.WaitedMs,
            $"lease: engine #{actual.Id} f{actual.Fence} [{string.Join(",", paths)}] exp {actual.ExpiresAt} at {actual.AcquiredAt} waited {actual.WaitedMs}, "
            + $"model #{expected.Id} f{expected.Fence} [{string.Join(",", expected.Paths)}] exp {expected.ExpiresAt} at {expected.AcquiredAt} waited {expected.WaitedMs}");
        if (expected.Chosen is { } chosen)
        {
            for (var i = 0; i < chosen.Length; i++)
            {
                var got = actual.Groups![i].Chosen.Select(p => p.Value);
                Expect(got.SequenceEqual(chosen[i]), $"lease #{actual.Id} group {i}: engine chose [{string.Join(",", got)}], model [{string.Join(",", chosen[i])}]");
            }
        }
    }

    private void CompareOutcomes()
    {
        var actual = _engine.Outcomes.ToList();
        _engine.DiscardOutcomes();
        var expected = _model.Outcomes.ToList();
        _model.Outcomes.Clear();
        Expect(actual.Count == expected.Count,
            $"outcomes: engine [{string.Join(" ", actual.Select(o => $"{o.WaiterId}:{o.Error}"))}], model [{string.Join(" ", expected.Select(o => $"{o.WaiterId}:{o.Error}"))}]");
        for (var i = 0; i < actual.Count; i++)
        {
            Expect(actual[i].WaiterId == expected[i].WaiterId && actual[i].Error == expected[i].Error && (actual[i].Lease is null) == (expected[i].Lease is null),
                $"outcome {i}: engine {actual[i].WaiterId}:{actual[i].Error}, model {expected[i].WaiterId}:{expected[i].Error}");
            if (expected[i].Lease is { } lease)
            {
                CompareLease(actual[i].Lease!, lease);
                CheckFreshGrant(actual[i].Lease!);
                Count("pushed grant");
            }
            else
            {
                Count($"outcome {expected[i].Error}");
            }
        }
    }

    private void CompareState()
    {
        var leases = _engine.Leases.OrderBy(l => l.Id).ToList();
        Expect(leases.Select(l => l.Id).SequenceEqual(_model.Leases.Keys),
            $"leases: engine [{string.Join(",", leases.Select(l => l.Id))}], model [{string.Join(",", _model.Leases.Keys)}]");
        foreach (var lease in leases)
        {
            CompareLease(lease, _model.Leases[lease.Id]);
        }
        Expect(_engine.Queue.Select(w => w.Id).SequenceEqual(_model.Queue.Select(w => w.Id)),
            $"queue: engine [{string.Join(",", _engine.Queue.Select(w => w.Id))}], model [{string.Join(",", _model.Queue.Select(w => w.Id))}]");
        foreach (var (waiter, model) in _engine.Queue.Zip(_model.Queue))
        {
            Expect(waiter.Paths.Select(p => p.Value).Order(StringComparer.Ordinal).SequenceEqual(model.Paths.Order(StringComparer.Ordinal)),
                $"waiter {waiter.Id} claims [{string.Join(",", waiter.Paths.Select(p => p.Value))}], model [{string.Join(",", model.Paths)}]");
            Expect(waiter.Deadline == model.Deadline, $"waiter {waiter.Id} deadline");
        }
        var declared = _engine.ListDeclared(ResourcePath.Root);
        Expect(declared.Select(r => (r.Path.Value, r.ReleasedSeq)).SequenceEqual(_model.Resources.Values.Select(r => (r.Path, r.ReleasedSeq))),
            $"resources: engine [{string.Join(" ", declared.Select(r => $"{r.Path}@{r.ReleasedSeq}"))}], model [{string.Join(" ", _model.Resources.Values.Select(r => $"{r.Path}@{r.ReleasedSeq}"))}]");
        Expect(_engine.DeclaredCount == _model.Resources.Count, "declared count");
        Expect(_engine.LastFence == _model.LastFence, $"last fence: engine {_engine.LastFence}, model {_model.LastFence}");
        var history = _engine.History.ToList();
        Expect(history.Count == _model.History.Count
               && history.Zip(_model.History).All(p => p.First.LeaseId == p.Second.LeaseId && p.First.Reason == p.Second.Reason
                   && p.First.EndedAt == p.Second.EndedAt && p.First.AcquiredAt == p.Second.AcquiredAt && p.First.Owner == p.Second.Owner
                   && p.First.Paths.Select(x => x.Value).SequenceEqual(p.Second.Paths)),
            $"history: engine [{string.Join(" ", history.Select(h => $"{h.LeaseId}:{h.Reason}@{h.EndedAt}"))}], model [{string.Join(" ", _model.History.Select(h => $"{h.LeaseId}:{h.Reason}@{h.EndedAt}"))}]");
    }

    // ---- Invariants on the engine's own state ----

    private void CheckInvariants()
    {
        var leases = _engine.Leases.OrderBy(l => l.Id).ToList();

        // Exclusive: with default flags, no two held paths may be equal or nested (pool leases included).
        var held = leases.SelectMany(l => l.Paths.Select(p => (Lease: l.Id, Path: p.Value))).ToList();
        for (var i = 0; i < held.Count; i++)
        {
            for (var j = i + 1; j < held.Count; j++)
            {
                Expect(held[i].Lease == held[j].Lease || !PoolReference.Related(held[i].Path, held[j].Path),
                    $"{held[i].Path} (lease {held[i].Lease}) and {held[j].Path} (lease {held[j].Lease}) are held at once");
            }
        }
        for (var i = 1; i < leases.Count; i++)
        {
            Expect(leases[i].Fence > leases[i - 1].Fence, $"fences out of order: lease {leases[i].Id}");
        }
        Expect(leases.Count == 0 || leases[^1].Fence <= _engine.LastFence, "a fence above LastFence");

        foreach (var lease in leases.Where(l => l.Groups is not null))
        {
            CheckPoolLease(lease, requireMatch: false);
        }

        // Each path's own view of its waiters is in arrival order.
        foreach (var path in RequestPaths)
        {
            var queue = _engine.GetResource(Path(path)).Queue.Select(w => w.Id).ToList();
            Expect(queue.SequenceEqual(queue.Order()), $"waiters of {path} are listed as [{string.Join(",", queue)}]");
        }

        // Every pool waiter claims exactly the declared resources that match one of its groups.
        foreach (var waiter in _engine.Queue.Where(w => w.Groups is not null))
        {
            var expected = waiter.Groups!.SelectMany(g => MatchingDeclared(g)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
            var actual = waiter.Paths.Select(p => p.Value).ToList();
            Expect(actual.Count == actual.Distinct(StringComparer.Ordinal).Count(), $"waiter {waiter.Id} claims a path twice");
            Expect(actual.Order(StringComparer.Ordinal).SequenceEqual(expected),
                $"waiter {waiter.Id} claims [{string.Join(",", actual)}], matching now: [{string.Join(",", expected)}]");
            Expect(waiter.Groups!.All(g => MatchingDeclared(g).Count() >= g.Group.Count), $"waiter {waiter.Id} can never be served but is queued");
            Expect(PoolReference.FitsTogether([.. waiter.Groups!.Select(g => (IReadOnlyList<string>)[.. MatchingDeclared(g)])], [.. waiter.Groups!.Select(g => g.Group.Count)]),
                $"waiter {waiter.Id}: its groups can never be served together by distinct resources, but it is queued");
        }
    }

    /// <summary>A new grant: its fence is the newest, and its groups are whole, distinct and matching now.</summary>
    private void CheckFreshGrant(Lease lease)
    {
        Expect(lease.Fence > _lastFenceSeen, $"lease {lease.Id} has fence {lease.Fence}, not above {_lastFenceSeen}");
        _lastFenceSeen = lease.Fence;
        if (lease.Groups is not null)
        {
            CheckPoolLease(lease, requireMatch: true);
        }
    }

    /// <summary>
    /// Whole groups (count each), distinct resources, paths = groups' choices in order, each declared and under
    /// its pool; matching its requirement (by the model's meaning) unless the attributes changed since the grant.
    /// </summary>
    private void CheckPoolLease(Lease lease, bool requireMatch)
    {
        var groups = lease.Groups!;
        var all = groups.SelectMany(g => g.Chosen.Select(p => p.Value)).ToList();
        Expect(all.SequenceEqual(lease.Paths.Select(p => p.Value)), $"lease {lease.Id}: paths are not its groups' choices");
        Expect(all.Distinct(StringComparer.Ordinal).Count() == all.Count, $"lease {lease.Id} holds a resource twice: [{string.Join(",", all)}]");
        var model = _model.Leases.GetValueOrDefault(lease.Id);
        foreach (var group in groups)
        {
            Expect(group.Chosen.Length == group.Group.Count, $"lease {lease.Id}: a group of {group.Group.Count} got {group.Chosen.Length}");
            var matches = PoolReference.Requirements.Single(r => r.Text == group.Requirement.Text).Matches!;
            foreach (var path in group.Chosen)
            {
                Expect(group.Group.Pool.IsAncestorOrSelf(path), $"lease {lease.Id}: {path} is not under {group.Group.Pool}");
                Expect(_model.Resources.TryGetValue(path.Value, out var resource), $"lease {lease.Id} holds {path}, which is not declared");
                var unchanged = model is not null && resource!.Version == model.Versions[Array.IndexOf(model.Paths, path.Value)];
                if (requireMatch || unchanged)
                {
                    Expect(matches(resource!), $"lease {lease.Id}: {path} does not match {group.Requirement.Text}");
                }
            }
        }
    }

    private IEnumerable<string> MatchingDeclared(GroupClaim group)
    {
        var matches = PoolReference.Requirements.Single(r => r.Text == group.Requirement.Text).Matches!;
        return _model.Resources.Values.Where(r => PoolReference.Under(group.Group.Pool.Value, r.Path) && matches(r)).Select(r => r.Path);
    }

    // ---- Helpers ----

    private static ResourcePath Path(string text)
    {
        lock (Parsed)
        {
            if (!Parsed.TryGetValue(text, out var path))
            {
                Assert.True(ResourcePath.TryParse(text, out path, out var error), error);
                Parsed[text] = path;
            }
            return path;
        }
    }

    private static string Show(Dictionary<string, long> use) => string.Join(" ", use.OrderBy(u => u.Key, StringComparer.Ordinal).Select(u => $"{u.Key}={u.Value}"));

    private void Log(string line)
    {
        _log.Enqueue($"{_step}: {line}");
        if (_log.Count > LogLength)
        {
            _log.Dequeue();
        }
    }

    private void Count(string what) => _stats[what] = _stats.GetValueOrDefault(what) + 1;

    private static void Expect(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}

internal sealed class PoolModelRunFailure(string message, Exception inner) : Exception(message, inner);
