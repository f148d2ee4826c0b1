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
    private readonly SessionDto? _session;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _keepAlive;
    private int _disposed;

    internal LeaseHandle(LeaseholdClient client, LeaseDto lease, SessionDto? session)
    {
        _client = client;
        _session = session;
        Lease = lease;
        _keepAlive = Task.Run(KeepAliveAsync);
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

    /// <summary>Fires when the lease is, or may be, no longer held.</summary>
    public CancellationToken LostToken => _lost.Token;

    private TimeSpan Lifetime => Lease.Ttl is { } ttl ? TimeSpan.FromSeconds(ttl) : _client.Options.SessionTtl;

    private async Task KeepAliveAsync()
    {
        var lastAlive = DateTimeOffset.UtcNow;
        var period = Lifetime / 3;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, _stop.Token).ConfigureAwait(false);
                if (_session is not null)
                {
                    await _client.KeepAliveAsync(_session, _stop.Token).ConfigureAwait(false);
                }
                else
                {
                    await _client.RenewAsync(Id, Token, null, _stop.Token).ConfigureAwait(false);
                }
                lastAlive = DateTimeOffset.UtcNow;
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is LeaseholdNotFoundException or LeaseholdInvalidTokenException)
            {
                // The server no longer has it: revoked, expired, or lost in a restart without the lease.
                await _lost.CancelAsync().ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or LeaseholdException)
            {
                if (DateTimeOffset.UtcNow - lastAlive >= Lifetime)
                {
                    // Unreachable for longer than the lease lives: it has to be treated as gone.
                    await _lost.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
    }

    /// <summary>Extends the lease's time to live now (it is also renewed in the background).</summary>
    public Task<LeaseDto> RenewAsync(TimeSpan? ttl = null, CancellationToken cancellationToken = default)
        => _client.RenewAsync(Id, Token, ttl, cancellationToken);

    /// <summary>Stops keeping the lease alive and releases it. Releasing one that is already gone is not an error.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        await _keepAlive.ConfigureAwait(false);
        try
        {
            await _client.ReleaseAsync(Id, Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is LeaseholdNotFoundException or HttpRequestException)
        {
            // Gone already, or the server is unreachable: then it ends by its ttl or its session.
        }
        if (_session is not null)
        {
            await _client.CloseSessionQuietlyAsync(_session).ConfigureAwait(false);
        }
        _stop.Dispose();
        _lost.Dispose();
    }
}
