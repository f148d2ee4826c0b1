using System.Net.Sockets;
using System.Security.Authentication;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Leasehold.Client.Transport;
using Leasehold.Protocol;
using Leasehold.Protocol.Native;
using Microsoft.Extensions.Options;

namespace Leasehold.Client;

/// <summary>
/// A client of one Leasehold server, or of the nodes of a cluster (<see cref="LeaseholdClientOptions.Servers"/>).
/// Thread-safe; keep one per server or cluster (or get it from dependency injection with
/// <c>services.AddLeaseholdClient()</c>). A server's URL scheme says how it is reached: <c>leasehold://host:port</c>
/// (<c>leaseholds://</c> with TLS) over the native protocol, one multiplexed connection per server that also carries
/// the server's pushes; <c>http://</c> or <c>https://</c> over HTTP.
/// </summary>
/// <example>
/// <code>
/// using var client = new LeaseholdClient(new LeaseholdClientOptions { Server = new Uri("leasehold://127.0.0.1:8766") });
/// await using var lease = await client.AcquireAsync(AcquireOptions.ForPath("/jobs/nightly") with { Wait = TimeSpan.FromMinutes(1) });
/// // ... work, passing lease.Fence to the guarded system; stop if lease.LostToken fires.
/// </code>
/// </example>
public sealed partial class LeaseholdClient : IDisposable
{
    /// <summary>The scheme of the native protocol.</summary>
    internal const string NativeScheme = "leasehold";

    /// <summary>The scheme of the native protocol over TLS.</summary>
    internal const string NativeTlsScheme = "leaseholds";

    // At most this many servers in all, with the leaders nodes named that were not in the list.
    private const int MaxEndpoints = 16;

    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly bool _ownsHttp;
    private readonly Lock _endpointsGate = new();
    private Endpoint[] _endpoints;

    // The index in _endpoints of the node requests go to; moves on when that node fails them.
    private int _current;

    // Set by Dispose: a request then fails with ObjectDisposedException, the caller's mistake, not a transport failure.
    private volatile bool _disposed;

    /// <summary>For dependency injection: the <see cref="HttpClient"/> comes from the factory (used for <c>http(s)://</c> servers).</summary>
    public LeaseholdClient(HttpClient http, IOptions<LeaseholdClientOptions> options)
    {
        _http = http;
        Options = options.Value;
        _time = Options.TimeProvider ?? TimeProvider.System;
        // A base address set on the HttpClient counts as the one server, as long as no list is configured.
        IReadOnlyList<Uri> servers = Options.Servers is { Count: > 0 } || _http.BaseAddress is null ? Options.Addresses : [_http.BaseAddress];
        _endpoints = [.. servers.Select(CheckServer).Select(CreateEndpoint)];
        // Waits are bounded per request by the caller's token and the request's own wait.
        _http.Timeout = Timeout.InfiniteTimeSpan;
        if (Options.ApiKey is { Length: > 0 } key)
        {
            _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }
    }

    /// <summary>A client with an <see cref="HttpClient"/> of its own, using the TLS settings of <paramref name="options"/>.</summary>
    /// <exception cref="InvalidOperationException">A TLS file of <paramref name="options"/> cannot be read.</exception>
    public LeaseholdClient(LeaseholdClientOptions options)
        : this(new HttpClient(ClientTls.CreateHandler(options ?? throw new ArgumentNullException(nameof(options)))), Microsoft.Extensions.Options.Options.Create(options))
    {
        _ownsHttp = true;
    }

    public LeaseholdClientOptions Options { get; }

    /// <summary>The administrators' operations: revoke, end sessions, drains, listings of everything held.</summary>
    public LeaseholdAdmin Admin => _admin ??= new LeaseholdAdmin(this);

    /// <summary>The clock of every wait and deadline (<see cref="LeaseholdClientOptions.TimeProvider"/>); timestamps are its own.</summary>
    internal TimeProvider Time => _time;

    private LeaseholdAdmin? _admin;

    /// <summary>
    /// Acquires, waiting up to <see cref="AcquireOptions.Wait"/>; null when not granted in that time.
    /// The returned handle keeps the lease alive until disposed.
    /// </summary>
    /// <exception cref="LeaseholdNoMatchException">No declared resource could ever match.</exception>
    /// <exception cref="LeaseholdException">Any other refusal (bad path, bad query, ...).</exception>
    public async Task<LeaseHandle?> TryAcquireAsync(AcquireOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var owner = options.Owner ?? Options.Owner;
        var request = Requests.Acquire(options, owner, null);
        // Without a ttl of its own the lease is bound to a session: if this process dies, the session
        // expires and the lease with it. A lost reply to the acquire is also covered: closing the
        // session releases whatever was granted under it, so nothing leaks. Over the native protocol the
        // session is bound to the connection, which keeps it alive.
        var sessionAliveSince = _time.GetTimestamp();
        var session = options.Ttl is null
            ? await OpenSessionAsync(Options.SessionTtl, owner, cancellationToken).ConfigureAwait(false)
            : null;
        // A session not kept alive while the request waits would expire, and the server would fail the
        // waiting request with session-ended: keep it alive until the answer arrives.
        using var stopWaiting = new CancellationTokenSource();
        var waiting = session is not null && options.Wait > TimeSpan.Zero
            ? KeepSessionAliveWhileWaitingAsync(session, sessionAliveSince, stopWaiting.Token)
            : Task.FromResult(sessionAliveSince);
        try
        {
            // One key for every try of this acquire: a retry (after a lost answer, or on another node) gets the lease
            // an earlier try was granted, never a second one. A retry waits what is left of the wait, at the back of the queue.
            request = request with { IdempotencyKey = Requests.NewIdempotencyKey() };
            var started = _time.GetTimestamp();
            long sent = 0;
            var tries = 0;
            var reply = await WithFailoverAsync(
                (endpoint, ct) =>
                {
                    sent = _time.GetTimestamp();
                    var body = tries++ == 0 ? request
                        : request with { Wait = Math.Max(0, (options.Wait - _time.GetElapsedTime(started)).TotalSeconds) };
                    return endpoint.AcquireAsync(body, session, ct);
                },
                cancellationToken).ConfigureAwait(false);
            if (reply.Value is { } lease)
            {
                await stopWaiting.CancelAsync().ConfigureAwait(false);
                // Since when the lease is surely alive, by this process's clock: a session from the last
                // keep-alive sent; a ttl lease from its grant, which came no earlier than the request
                // was sent plus the time the server says it waited.
                var aliveSince = session is not null
                    ? await waiting.ConfigureAwait(false)
                    : tries > 1 ? await RestartTtlAsync(lease, started, cancellationToken).ConfigureAwait(false)
                    : sent + (long)(lease.Waited * _time.TimestampFrequency);
                if (session?.BoundTo is { } bound && _time.GetElapsedTime(aliveSince) > session.Lifetime / 6)
                {
                    // A bound session is kept alive by its connection, not by keep-alives: how recently it surely
                    // was is when the connection last surely stood (a ping after a long wait).
                    aliveSince = await ConfirmOrAsync(bound, session.Lifetime / 6, aliveSince, cancellationToken).ConfigureAwait(false);
                }
                var handle = new LeaseHandle(this, lease, session, aliveSince, reply.Connection);
                session = null;
                return handle;
            }
            return reply.Problem!.Code == ErrorCodes.Locked ? null : throw LeaseholdException.From(reply.Problem);
        }
        finally
        {
            await stopWaiting.CancelAsync().ConfigureAwait(false);
            await waiting.ConfigureAwait(false);
            if (session is not null)
            {
                // Bounded by the session's ttl: after that it has expired anyway.
                using var bound = new CancellationTokenSource(session.Ttl, _time);
                await CloseSessionQuietlyAsync(session, bound.Token).ConfigureAwait(false);
            }
        }
    }

    private static async Task<long> ConfirmOrAsync(NativeConnection connection, TimeSpan freshness, long fallback, CancellationToken cancellationToken)
    {
        try
        {
            return await connection.ConfirmAsync(freshness, cancellationToken).ConfigureAwait(false);
        }
        catch (NativeConnectionLostException)
        {
            return fallback;
        }
    }

    /// <summary>
    /// After a retried acquire: the lease may be the one an earlier try was granted, whose ttl runs from that grant,
    /// which this process cannot place. Renewing starts it again from a moment it knows. Should the renewal fail, the
    /// start of the first try is the safe guess (the handle may then give the lease up early, never late).
    /// </summary>
    private async Task<long> RestartTtlAsync(LeaseDto lease, long firstTry, CancellationToken cancellationToken)
    {
        var sent = _time.GetTimestamp();
        try
        {
            await RenewAsync(lease.Id, lease.Token!, null, cancellationToken).ConfigureAwait(false);
            return sent;
        }
        catch (LeaseholdException)
        {
            return firstTry;
        }
    }

    /// <summary>Keeps an acquire's session alive until <paramref name="stop"/>; returns when it was last surely alive.</summary>
    private async Task<long> KeepSessionAliveWhileWaitingAsync(OpenSession session, long aliveSince, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(session.Lifetime / 3, _time, stop).ConfigureAwait(false);
                try
                {
                    aliveSince = (await KeepSessionAliveAsync(session, stop).ConfigureAwait(false)).AliveSince;
                }
                catch (Exception) when (!stop.IsCancellationRequested)
                {
                    // If the session is gone, the acquire's answer (session-ended) says so.
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return aliveSince;
        }
    }

    /// <summary>
    /// Keeps a session alive, and says since when (a timestamp of <see cref="Time"/>) it surely is. A session bound to a native
    /// connection that still stands needs no keep-alive: the answer is when the connection last surely stood (a
    /// ping when nothing else says so). Once its connection is lost, it is kept alive as over HTTP, and the server's
    /// view of it comes back too.
    /// </summary>
    internal async Task<(long AliveSince, SessionDto? Session)> KeepSessionAliveAsync(OpenSession session, CancellationToken cancellationToken)
    {
        if (session.BoundTo is { } connection)
        {
            if (connection.IsAlive)
            {
                try
                {
                    return (await connection.ConfirmAsync(session.Lifetime / 6, cancellationToken).ConfigureAwait(false), null);
                }
                catch (NativeConnectionLostException) when (!connection.IsAlive)
                {
                    // Lost while asked: kept alive explicitly below.
                }
            }
            session.BoundTo = null;
        }
        var sent = _time.GetTimestamp();
        var dto = await SendAsync((endpoint, ct) => endpoint.KeepAliveAsync(session.Id, session.Token, ct), cancellationToken).ConfigureAwait(false);
        return (sent, dto);
    }

    /// <summary>Acquires, waiting up to <see cref="AcquireOptions.Wait"/>.</summary>
    /// <exception cref="LeaseholdTimeoutException">Not granted within the wait (a <see cref="TimeoutException"/>).</exception>
    public async Task<LeaseHandle> AcquireAsync(AcquireOptions options, CancellationToken cancellationToken = default)
        => await TryAcquireAsync(options, cancellationToken).ConfigureAwait(false)
           ?? throw new LeaseholdTimeoutException($"not granted within {options.Wait.TotalSeconds:0.###} s");

    /// <summary>A lease (without its token), or null when it is not held.</summary>
    public async Task<LeaseDto?> GetLeaseAsync(long id, CancellationToken cancellationToken = default)
    {
        try
        {
            return await SendAsync((endpoint, ct) => endpoint.GetLeaseAsync(id, ct), cancellationToken).ConfigureAwait(false);
        }
        catch (LeaseholdNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Holders and queue of one path.</summary>
    public Task<ResourceDto> GetResourceAsync(string path, CancellationToken cancellationToken = default)
        => CallAsync(HttpMethod.Get, "v1/resources" + Requests.EncodePath(path), null, ProtocolJsonContext.Default.ResourceDto, cancellationToken);

    /// <summary>Held paths under a prefix.</summary>
    public Task<ResourceListDto> ListAsync(string prefix = "/", int limit = 1000, CancellationToken cancellationToken = default)
        => CallAsync(HttpMethod.Get, $"v1/resources?prefix={Uri.EscapeDataString(prefix)}&limit={limit}", null, ProtocolJsonContext.Default.ResourceListDto, cancellationToken);

    /// <summary>Extends a lease by id and token (for leases held across processes, as the CLI's <c>lock</c> gives).</summary>
    public Task<LeaseDto> RenewAsync(long id, string token, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
        => SendAsync((endpoint, ct) => endpoint.RenewAsync(id, token, ttl, ct), cancellationToken);

    /// <summary>Releases a lease by id and token.</summary>
    public Task ReleaseAsync(long id, string token, CancellationToken cancellationToken = default)
        => SendAsync((endpoint, ct) => endpoint.ReleaseAsync(id, token, ct), cancellationToken);

    /// <summary>Opens a session: over the native protocol, one bound to the connection.</summary>
    internal Task<OpenSession> OpenSessionAsync(TimeSpan ttl, string? owner, CancellationToken cancellationToken)
        => SendAsync((endpoint, ct) => endpoint.OpenSessionAsync(ttl, owner, ct), cancellationToken);

    internal async Task CloseSessionQuietlyAsync(OpenSession session, CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync((endpoint, ct) => endpoint.CloseSessionAsync(session.Id, session.Token, ct), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is LeaseholdException or OperationCanceledException or ObjectDisposedException)
        {
            // Already gone, the server is unreachable or too slow, or the client was disposed: then the session expires on its own.
        }
    }

    /// <summary>Any other route (administrators', listings): over HTTP as it is, over the native protocol through CALL.</summary>
    internal Task<T> CallAsync<T>(HttpMethod method, string uri, byte[]? body, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        => SendAsync((endpoint, ct) => endpoint.CallAsync(method, uri, body, type, ct), cancellationToken);

    /// <summary>A request whose repetition is harmless, with failover; a refusal throws the matching <see cref="LeaseholdException"/>.</summary>
    private async Task<T> SendAsync<T>(Func<Endpoint, CancellationToken, Task<Reply<T>>> attempt, CancellationToken cancellationToken)
    {
        var reply = await WithFailoverAsync(attempt, cancellationToken).ConfigureAwait(false);
        return reply.Problem is { } problem ? throw LeaseholdException.From(problem) : reply.Value!;
    }

    /// <summary>
    /// Makes one try of a request (<paramref name="attempt"/>) on the current server, and more as needed. A transport
    /// failure (refused, reset, no connection within the connect timeout, an answer cut short) or a 503 <c>no-leader</c> /
    /// <c>shutting-down</c> moves to the next server (or straight to the leader a native node names); any other 503 is
    /// retried where it came from. Retries are bounded by <see cref="LeaseholdClientOptions.Retries"/> and
    /// <see cref="LeaseholdClientOptions.RetryTimeout"/>; when they are used up, a transport failure is a
    /// <see cref="LeaseholdUnavailableException"/> and a 503 is returned as any answer.
    /// </summary>
    private async Task<Reply<T>> WithFailoverAsync<T>(Func<Endpoint, CancellationToken, Task<Reply<T>>> attempt, CancellationToken cancellationToken)
    {
        long? firstFailure = null;
        for (var tries = 0; ; tries++)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var endpoints = Volatile.Read(ref _endpoints);
            var index = Volatile.Read(ref _current);
            var endpoint = endpoints[index];
            TimeSpan? pause = null;
            try
            {
                var reply = await attempt(endpoint, cancellationToken).ConfigureAwait(false);
                if (reply.Problem is { Status: 503 } problem && MayRetry(tries, ref firstFailure))
                {
                    if (problem.Code is ErrorCodes.NoLeader or ErrorCodes.ShuttingDown)
                    {
                        // A native node names the leader instead of forwarding: go there at once.
                        if (endpoint is NativeEndpoint && reply.Leader is { } leader && GoTo(index, leader, mayAdd: true))
                        {
                            continue;
                        }
                        MoveOn(index);
                    }
                    pause = reply.RetryAfter;
                }
                else
                {
                    if (reply.Problem is null && reply.Leader is { } leader)
                    {
                        // A cluster follower forwarded the request and named the leader: later requests go there directly.
                        GoTo(index, leader, mayAdd: false);
                    }
                    return reply;
                }
            }
            catch (Exception ex) when (IsTransportFailure(ex, cancellationToken))
            {
                if (_disposed)
                {
                    // The client's own Dispose closed the connection under the request.
                    throw new ObjectDisposedException($"the {nameof(LeaseholdClient)} was disposed", ex);
                }
                // A certificate the client distrusts, or an answer that is not JSON, does not change by asking again.
                if (ClientTls.IsCertificateFailure(ex) || ex is JsonException || !MayRetry(tries, ref firstFailure))
                {
                    throw Unavailable(endpoint.Address, ex);
                }
                MoveOn(index);
            }
            await Task.Delay(Backoff(tries, pause, firstFailure!.Value), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whether one more try is allowed; the first failure starts the clock of the retry timeout.</summary>
    private bool MayRetry(int attempt, ref long? firstFailure)
    {
        firstFailure ??= _time.GetTimestamp();
        return attempt < Options.Retries && _time.GetElapsedTime(firstFailure.Value) < Options.RetryTimeout;
    }

    /// <summary>
    /// Sends later requests to <paramref name="leader"/>, named by the server at <paramref name="from"/>. A leader among this
    /// client's servers is always followed. One that is not is followed only with <paramref name="mayAdd"/> (a native node's
    /// <c>no-leader</c>, which does not forward), over the same scheme as the node that named it (never from TLS to plain
    /// text), and at most <see cref="MaxEndpoints"/> servers in all; otherwise false, and the answer is not followed.
    /// </summary>
    private bool GoTo(int from, Uri leader, bool mayAdd)
    {
        var endpoints = Volatile.Read(ref _endpoints);
        var found = Array.FindIndex(endpoints, e => SameServer(e.Address, leader));
        if (found < 0)
        {
            if (!mayAdd || !string.Equals(leader.Scheme, endpoints[from].Address.Scheme, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
            lock (_endpointsGate)
            {
                endpoints = _endpoints;
                found = Array.FindIndex(endpoints, e => SameServer(e.Address, leader));
                if (found < 0)
                {
                    if (endpoints.Length >= MaxEndpoints)
                    {
                        return false;
                    }
                    Volatile.Write(ref _endpoints, [.. endpoints, CreateEndpoint(leader)]);
                    found = endpoints.Length;
                }
            }
        }
        return found != from && Interlocked.CompareExchange(ref _current, found, from) == from;
    }

    private static bool SameServer(Uri a, Uri b)
        => Uri.Compare(a, b, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    /// <summary>Moves the client to the server after <paramref name="failed"/>, unless another request has moved it already.</summary>
    private void MoveOn(int failed) => Interlocked.CompareExchange(ref _current, (failed + 1) % Volatile.Read(ref _endpoints).Length, failed);

    /// <summary>
    /// No answer could be had, as opposed to an answer that refused: the transport failed (its connection refused, reset,
    /// closed under it, or a TLS handshake that failed), gave up on its own (a connect timeout, an
    /// <see cref="HttpClient.Timeout"/>, a native heartbeat) while the caller had not cancelled, or what came back could not
    /// be read. Each becomes a <see cref="LeaseholdUnavailableException"/> once the retries are used up; only the caller's
    /// own cancellation stays an <see cref="OperationCanceledException"/>.
    /// </summary>
    private static bool IsTransportFailure(Exception ex, CancellationToken cancellationToken)
        => ex is HttpRequestException or IOException or SocketException or AuthenticationException or ObjectDisposedException or JsonException
           || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    // Callers catch one documented family, and the message says which server(s) did not answer.
    private LeaseholdUnavailableException Unavailable(Uri server, Exception ex)
    {
        var endpoints = Volatile.Read(ref _endpoints);
        return endpoints.Length == 1 ? new(server, ex) : new(server, [.. endpoints.Select(e => e.Address)], ex);
    }

    /// <summary>
    /// The pause before the next try: short and growing (100 ms, 200 ms, ...), or what a 503's <c>Retry-After</c>
    /// asked for, but never past the retry timeout.
    /// </summary>
    private TimeSpan Backoff(int attempt, TimeSpan? retryAfter, long firstFailure)
    {
        var pause = TimeSpan.FromMilliseconds(100 * (1 << Math.Min(attempt, 6)));
        if (retryAfter is { } asked && asked > pause)
        {
            pause = asked;
        }
        var left = Options.RetryTimeout - _time.GetElapsedTime(firstFailure);
        return left <= TimeSpan.Zero ? TimeSpan.Zero : pause < left ? pause : left;
    }

    private Endpoint CreateEndpoint(Uri server)
        => server.Scheme is NativeScheme or NativeTlsScheme ? new NativeEndpoint(server, Options, _time) : new HttpEndpoint(_http, server);

    private static Uri CheckServer(Uri? server)
    {
        if (server is not { IsAbsoluteUri: true } || server.Scheme is not ("http" or "https" or NativeScheme or NativeTlsScheme))
        {
            throw new ArgumentException(
                $"a Leasehold server is an absolute leasehold://, leaseholds://, http:// or https:// URL, not '{server}'", nameof(server));
        }
        if (server.Scheme is NativeScheme or NativeTlsScheme && server.IsDefaultPort)
        {
            // No port: the native protocol's own.
            return new UriBuilder(server) { Port = NativeProtocol.DefaultPort }.Uri;
        }
        return server;
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var endpoint in Volatile.Read(ref _endpoints))
        {
            endpoint.Dispose();
        }
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }
}
