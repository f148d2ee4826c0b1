using Leasehold.Client.Transport;
using Leasehold.Protocol;

namespace Leasehold.Client;

/// <summary>
/// A granted lease. While the handle lives, the lease (or the session holding it) is kept alive in the
/// background; disposing it releases the lease. If keeping it alive fails for longer than the lease can
/// survive, or the server says it is gone, <see cref="LostToken"/> fires: stop touching the resource.
/// </summary>
/// <example>
/// <code>
/// await using var lease = await client.AcquireAsync(AcquireOptions.FromPool("/lab", "os=android") with { Ttl = TimeSpan.FromSeconds(30) });
/// await RunTestsAsync(lease.Resources[0].Path, lease.Fence, lease.LostToken);
/// </code>
/// </example>
public sealed class LeaseHandle : IAsyncDisposable
{
    private readonly LeaseholdClient _client;
    private readonly OpenSession? _session;
    private readonly NativeConnection? _pushes;
    /// <summary>The longest lifetime the handle plans with (below the 49.7 days a timer can wait).</summary>
    internal static readonly TimeSpan MaxPlannedLifetime = TimeSpan.FromDays(48);

    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _time;
    // Made with the client's clock, so that CancelAfter counts on it too.
    private readonly CancellationTokenSource _lost;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _keepAlive;
    private readonly Lock _gate = new();
    private readonly List<(TimeSpan Lead, CancellationTokenSource Source)> _early = [];
    private long _aliveSince;
    private int _disposed;

    // aliveSince: a timestamp of the client's clock (LeaseholdClientOptions.TimeProvider) no later than the moment from which the server counts the lease's
    // (or its session's) time to live. pushes: the native connection the lease was granted on, whose
    // LEASE_ENDED (and SESSION_ENDED for its bound session) say at once that it is gone.
    internal LeaseHandle(LeaseholdClient client, LeaseDto lease, OpenSession? session, long aliveSince, NativeConnection? pushes)
    {
        _client = client;
        _time = client.Time;
        _lost = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        _session = session;
        _pushes = pushes;
        Lease = lease;
        LostToken = _lost.Token;
        _aliveSince = aliveSince;
        if (pushes is not null)
        {
            pushes.WatchLease(lease.Id, _ => FireLostUnlessDisposed());
            if (session?.BoundTo == pushes)
            {
                pushes.WatchSession(session.Id, _ => FireLostUnlessDisposed());
            }
        }
        var lifetime = session is not null ? session.Lifetime
            : lease.Ttl is { } ttl ? TimeSpan.FromSeconds(ttl)
            : Timeout.InfiniteTimeSpan;
        // Timers cannot wait longer than 49.7 days, while a lease may live 366: the handle plans as if the
        // lease lived at most MaxPlannedLifetime. It renews more often than needed and, when the server is
        // out of reach, gives the lease up earlier than it must, never later.
        _lifetime = lifetime != Timeout.InfiniteTimeSpan && lifetime > MaxPlannedLifetime ? MaxPlannedLifetime : lifetime;
        _keepAlive = _lifetime == Timeout.InfiniteTimeSpan ? Task.CompletedTask : Task.Run(() => KeepAliveAsync(aliveSince));
    }

    /// <summary>The lease as granted (its token included).</summary>
    public LeaseDto Lease { get; }

    public long Id => Lease.Id;

    /// <summary>The secret needed to renew or release the lease from elsewhere.</summary>
    public string Token => Lease.Token!;

    /// <summary>The fencing token: pass it to the guarded system so a stale holder's writes can be refused.</summary>
    public long Fence => Lease.Fence;

    public IReadOnlyList<string> Paths => Lease.Paths;

    /// <summary>For a pool lease: the resources chosen, with their attributes.</summary>
    public IReadOnlyList<ChosenResourceDto> Resources => Lease.Resources ?? [];

    /// <summary>The session the lease is bound to, when it has no ttl of its own.</summary>
    public long? SessionId => _session?.Id;

    /// <summary>
    /// Fires when the lease is, or may be, no longer held: the server said it is gone, or no keep-alive got
    /// through for as long as the lease lives (counted from when the last successful one was sent, so it
    /// fires no later than the server could end the lease). It does not fire on dispose.
    /// </summary>
    public CancellationToken LostToken { get; }

    /// <summary>
    /// As <see cref="LostToken"/>, but <paramref name="lead"/> early when keep-alives fail: it fires when
    /// no keep-alive has got through for the lease's lifetime minus <paramref name="lead"/> (or when
    /// <see cref="LostToken"/> fires). Work stopped on it has at least <paramref name="lead"/> to wind down
    /// before the server could end the lease and grant it to someone else. Keep-alives are sent every
    /// third of the lifetime and a failed one is retried after a sixth, so a lead of half the lifetime or
    /// more fires before a failed keep-alive has been retried. It does not fire on dispose. Calls with the same
    /// <paramref name="lead"/> get the same token while it has not fired (or for good once <see cref="LostToken"/>
    /// has), so asking for it again (in a loop, per unit of work) costs nothing; for a lease with nothing that can run
    /// out (no ttl and no session) it is <see cref="LostToken"/> itself.
    /// </summary>
    public CancellationToken EarlyLostToken(TimeSpan lead)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lead, TimeSpan.Zero);
        CancellationTokenSource source;
        bool due;
        lock (_gate)
        {
            if (_lifetime == Timeout.InfiniteTimeSpan || _disposed != 0)
            {
                // No deadline to run out (or disposed): an early token could only fire with LostToken, so it is LostToken.
                return _lost.Token;
            }
            var known = _early.FindIndex(e => e.Lead == lead);
            if (known >= 0)
            {
                var early = _early[known].Source;
                if (!early.IsCancellationRequested || _lost.IsCancellationRequested)
                {
                    return early.Token;
                }
                // It fired while keep-alives failed, and one has got through since: work started now gets a fresh token.
                _early.RemoveAt(known);
            }
            // Linked to LostToken by hand (below): a linked source's CancelAfter would count on the system's clock, not the client's.
            source = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
            _early.Add((lead, source));
            due = !Arm(source, lead, _aliveSince);
        }
        _lost.Token.UnsafeRegister(static s => Fire((CancellationTokenSource)s!), source);
        if (due)
        {
            Fire(source);
        }
        return source.Token;
    }

    private async Task KeepAliveAsync(long aliveSince)
    {
        var period = _lifetime / 3;
        ScheduleLost(aliveSince);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, _lost.Token);
        var next = period - _time.GetElapsedTime(aliveSince);
        while (true)
        {
            try
            {
                if (next > TimeSpan.Zero)
                {
                    await Task.Delay(next, _time, attempt.Token).ConfigureAwait(false);
                }
                var sent = _time.GetTimestamp();
                if (_session is not null)
                {
                    // A session bound to a connection that stands is not sent keep-alives: the server keeps it alive,
                    // and says by push if it or the lease ends. The answer is since when it surely is alive.
                    var (confirmed, session) = await _client.KeepSessionAliveAsync(_session, attempt.Token).ConfigureAwait(false);
                    if (session is { Leases: 0 } && Lease.Session == _session.Id)
                    {
                        // The session lives, but the lease bound to it was released or revoked.
                        FireLost();
                        return;
                    }
                    sent = confirmed;
                }
                else
                {
                    await _client.RenewAsync(Id, Token, null, attempt.Token).ConfigureAwait(false);
                }
                ScheduleLost(sent);
                next = period;
            }
            catch (OperationCanceledException) when (attempt.IsCancellationRequested)
            {
                // Disposed, or lost by the deadline.
                return;
            }
            catch (Exception ex) when (ex is LeaseholdNotFoundException or LeaseholdInvalidTokenException)
            {
                // The server no longer has it: revoked, expired, or lost in a restart without the lease
                // (where its id may even belong to another lease now, hence invalid-token).
                FireLost();
                return;
            }
            catch (Exception)
            {
                // Unreachable or failing for now: try again soon. If nothing gets through before the lease
                // may have ended, the deadline set by ScheduleLost fires LostToken.
                next = period / 2;
            }
        }
    }

    /// <summary>Arms <see cref="LostToken"/> to fire one lifetime after <paramref name="aliveSince"/>, and each early token its lead before.</summary>
    private void ScheduleLost(long aliveSince)
    {
        List<CancellationTokenSource> due;
        lock (_gate)
        {
            _aliveSince = aliveSince;
            due = [.. _early.Where(e => !Arm(e.Source, e.Lead, aliveSince)).Select(e => e.Source)];
        }
        // Cancelled outside the lock: a token's callbacks run synchronously.
        due.ForEach(Fire);
        var left = _lifetime - _time.GetElapsedTime(aliveSince);
        if (left <= TimeSpan.Zero)
        {
            FireLost();
        }
        else
        {
            _lost.CancelAfter(left < _lifetime ? left : _lifetime);
        }
    }

    /// <summary>Arms an early token to fire <paramref name="lead"/> before the lease could end; false when that moment has come already.</summary>
    private bool Arm(CancellationTokenSource source, TimeSpan lead, long aliveSince)
    {
        var left = _lifetime - lead - _time.GetElapsedTime(aliveSince);
        if (left <= TimeSpan.Zero)
        {
            return false;
        }
        source.CancelAfter(left);
        return true;
    }

    /// <summary>
    /// Cancels <paramref name="source"/> at once and runs its callbacks on the thread pool, not on this thread: the
    /// keep-alive loop that notices a loss must not run the holder's code, which may wait for that very loop (a
    /// callback that disposes the handle and waits). A callback's exception is its owner's business.
    /// </summary>
    private static void Fire(CancellationTokenSource source)
        => source.CancelAsync().ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private void FireLostUnlessDisposed()
    {
        if (Volatile.Read(ref _disposed) == 0)
        {
            FireLost();
        }
    }

    private void FireLost() => Fire(_lost);

    /// <summary>Extends the lease's time to live now (it is also renewed in the background).</summary>
    public Task<LeaseDto> RenewAsync(TimeSpan? ttl = null, CancellationToken cancellationToken = default)
        => _client.RenewAsync(Id, Token, ttl, cancellationToken);

    /// <summary>
    /// Stops keeping the lease alive and releases it. Releasing one that is already gone is not an error,
    /// and a server that cannot be reached does not hold the caller up for longer than the lease lives:
    /// unreleased, it then ends by its ttl or its session.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        if (_pushes is not null)
        {
            _pushes.UnwatchLease(Id);
            if (_session is not null)
            {
                _pushes.UnwatchSession(_session.Id);
            }
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        await _keepAlive.ConfigureAwait(false);
        // Not held any more by this process's wish: the deadline no longer applies.
        _lost.CancelAfter(Timeout.InfiniteTimeSpan);
        lock (_gate)
        {
            _early.ForEach(e => e.Source.CancelAfter(Timeout.InfiniteTimeSpan));
        }
        using var bound = new CancellationTokenSource(_lifetime, _time);
        try
        {
            await _client.ReleaseAsync(Id, Token, bound.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is LeaseholdException or OperationCanceledException or ObjectDisposedException)
        {
            // Gone already (not-found; or invalid-token, when a restarted server has given the id to another
            // lease), the server is unreachable, or the client was disposed first: then it ends by its ttl or its session.
        }
        finally
        {
            if (_session is not null)
            {
                await _client.CloseSessionQuietlyAsync(_session, bound.Token).ConfigureAwait(false);
            }
            _stop.Dispose();
        }
    }
}
