using System.Net;

namespace Leasehold.Crash.Tests;

/// <summary>
/// One client of the workload. It lives across rounds (and so across restarts): the leases it holds and its
/// session are released or closed later with the tokens it was given, whichever server process is running.
/// One request at a time; every answer goes to the journal, every missing answer makes the outcome unknown.
/// </summary>
internal sealed class CrashClient(int index, int seed, CrashJournal journal)
{
    /// <summary>Nested pairs and a plain path, shared by all clients; any of them may be combined in one request.</summary>
    public static readonly string[] MultiPaths = ["/r/1", "/r/1/a", "/r/2", "/r/2/b", "/t"];

    /// <summary>A semaphore of two, only ever requested alone (so no request meets a limit mismatch).</summary>
    public const string SemaphorePath = "/s";

    public const int SemaphoreLimit = 2;

    public const double LeaseTtl = 60;

    public const double SessionTtl = 60;

    /// <summary>
    /// The longest ttl there is (366 days), for some leases on a client's own path: longer than a timer can be
    /// set for, it must neither stop the writer nor poison the data directory for the restarts that follow.
    /// </summary>
    public const double LongestTtl = 366 * 86400;

    private const int MaxHeld = 6;

    private readonly Random _rng = new(seed);

    /// <summary>The shared paths plus one of this client's own, which nobody else contends for (so some leases are always held).</summary>
    private readonly string[] _pool = [.. MultiPaths, $"/own/c{index}"];
    private readonly List<GrantRecord> _held = [];
    private long? _sessionId;
    private string? _sessionToken;
    private int _sequence;

    public int Index { get; } = index;

    public IReadOnlyList<GrantRecord> Held => _held;

    /// <summary>Looks after the session, then acquires and releases until <paramref name="stop"/> or a request goes unanswered.</summary>
    public async Task RunRoundAsync(LeaseholdApi api, Func<bool> stop)
    {
        if (!await SessionUpkeepAsync(api))
        {
            return;
        }
        while (!stop())
        {
            var release = _held.Count > 0 && (_held.Count >= MaxHeld || _rng.NextDouble() < 0.35);
            var answered = release
                ? await ReleaseAsync(api, _held[_rng.Next(_held.Count)])
                : await AcquireAsync(api, NextRequest());
            if (!answered)
            {
                return;
            }
        }
    }

    /// <summary>After the last round: release everything with the stored tokens and close the session. All must succeed.</summary>
    public async Task ReleaseEverythingAsync(LeaseholdApi api)
    {
        foreach (var grant in _held.ToList())
        {
            await ReleaseAsync(api, grant);
        }
        if (_sessionId is { } id)
        {
            await CloseSessionAsync(api, id, _sessionToken!);
        }
    }

    private async Task<bool> SessionUpkeepAsync(LeaseholdApi api)
    {
        if (_sessionId is { } id)
        {
            if (_rng.NextDouble() < 0.25)
            {
                if (!await CloseSessionAsync(api, id, _sessionToken!))
                {
                    return false;
                }
            }
            else
            {
                try
                {
                    var reply = await api.KeepAliveAsync(id, _sessionToken!);
                    if (reply.Status != HttpStatusCode.OK)
                    {
                        journal.Violation($"client {Index}: keepalive of session {id} in epoch {journal.Epoch}: {reply}");
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
                {
                    journal.CountUnknownOther();
                    journal.NoAnswer($"client {Index}: keepalive of session {id}", ex);
                    return false;
                }
            }
        }
        if (_sessionId is null)
        {
            try
            {
                var reply = await api.OpenSessionAsync(SessionTtl);
                if (reply.Status != HttpStatusCode.Created)
                {
                    journal.Violation($"client {Index}: open session in epoch {journal.Epoch}: {reply}");
                    return true;
                }
                var session = reply.As<SessionView>();
                _sessionId = session.Id;
                _sessionToken = session.Token;
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                // If it was opened, nobody knows its token: it binds nothing and simply expires.
                journal.CountUnknownOther();
                journal.NoAnswer($"client {Index}: open session", ex);
                return false;
            }
        }
        return true;
    }

    private async Task<bool> CloseSessionAsync(LeaseholdApi api, long id, string token)
    {
        _held.RemoveAll(g => g.Lease.Session == id);
        _sessionId = null;
        _sessionToken = null;
        try
        {
            var reply = await api.CloseSessionAsync(id, token);
            if (reply.Status == HttpStatusCode.NoContent)
            {
                journal.AckSessionClosed(id);
                return true;
            }
            journal.Violation($"client {Index}: close of session {id} in epoch {journal.Epoch}: {reply}");
            journal.UnknownSessionClose(id);
            return true;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            journal.UnknownSessionClose(id);
            journal.NoAnswer($"client {Index}: close of session {id}", ex);
            return false;
        }
    }

    private AcquireBody NextRequest()
    {
        string[] paths;
        if (_rng.NextDouble() < 0.3)
        {
            paths = [.. _pool.OrderBy(_ => _rng.Next()).Take(_rng.Next(2, 4))];
        }
        else
        {
            var pick = _rng.Next(_pool.Length + 1);
            paths = [pick == _pool.Length ? SemaphorePath : _pool[pick]];
        }
        var mode = _rng.NextDouble() < 0.5 ? "exclusive" : "shared";
        var binding = _rng.NextDouble();
        var session = _sessionId is not null && binding >= 0.45 ? _sessionId : null;
        var ttl = session is null || binding >= 0.8 ? LeaseTtl : (double?)null;
        if (ttl is not null && paths is [var only] && only == _pool[^1] && _rng.NextDouble() < 0.3)
        {
            ttl = LongestTtl;
        }
        return new AcquireBody
        {
            Path = paths.Length == 1 ? paths[0] : null,
            Paths = paths.Length == 1 ? null : paths,
            Owner = $"c{Index}-e{journal.Epoch}-{++_sequence}",
            Mode = mode,
            Limit = mode == "exclusive" && paths is [SemaphorePath] ? SemaphoreLimit : null,
            Ttl = ttl,
            Wait = _rng.NextDouble() < 0.7 ? 0 : Math.Round(0.05 + (_rng.NextDouble() * 0.25), 3),
            Session = session,
            LockParents = _rng.NextDouble() < 0.1 ? false : null,
            LockChildren = _rng.NextDouble() < 0.1 ? false : null,
        };
    }

    private async Task<bool> AcquireAsync(LeaseholdApi api, AcquireBody body)
    {
        Reply reply;
        try
        {
            reply = await api.AcquireAsync(body);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            journal.CountUnknownAcquire();
            journal.NoAnswer($"client {Index}: acquire {body.Owner}", ex);
            return false;
        }
        if (reply.Status == HttpStatusCode.Conflict)
        {
            journal.CountLocked();
            return true;
        }
        if (reply.Status != HttpStatusCode.Created)
        {
            journal.Violation($"client {Index}: acquire {string.Join(',', body.AllPaths)} in epoch {journal.Epoch}: {reply}");
            return true;
        }
        var lease = reply.As<LeaseView>();
        var grant = new GrantRecord { Lease = lease, Token = lease.Token ?? "", Epoch = journal.Epoch, Client = Index };
        journal.AckGrant(grant);
        if (!lease.Paths.SequenceEqual(body.AllPaths) || lease.Mode != body.Mode || lease.Session != body.Session
            || lease.Ttl != body.Ttl || lease.LockParents != (body.LockParents ?? true) || lease.LockChildren != (body.LockChildren ?? true)
            || string.IsNullOrEmpty(lease.Token))
        {
            journal.Violation($"client {Index}: the grant does not match its request {body}: {reply}");
        }
        _held.Add(grant);
        return true;
    }

    private async Task<bool> ReleaseAsync(LeaseholdApi api, GrantRecord grant)
    {
        _held.Remove(grant);
        Reply reply;
        try
        {
            reply = await api.ReleaseAsync(grant.Lease.Id, grant.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            journal.UnknownRelease(grant.Lease.Id);
            journal.NoAnswer($"client {Index}: release of lease {grant.Lease.Id}", ex);
            return false;
        }
        if (reply.Status == HttpStatusCode.NoContent)
        {
            journal.AckRelease(grant.Lease.Id);
        }
        else
        {
            journal.Lost(grant.Lease.Id, $"release with the stored token answered {reply}");
        }
        return true;
    }
}
