using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Leasehold.Protocol;
using Microsoft.Extensions.Options;

namespace Leasehold.Client;

/// <summary>
/// A client of one Leasehold server, or of the nodes of a cluster (<see cref="LeaseholdClientOptions.Servers"/>).
/// Thread-safe; keep one per server or cluster (or get it from dependency injection with
/// <c>services.AddLeaseholdClient()</c>).
/// </summary>
/// <example>
/// <code>
/// using var client = new LeaseholdClient(new LeaseholdClientOptions { Server = new Uri("http://127.0.0.1:8765") });
/// await using var lease = await client.AcquireAsync(AcquireOptions.ForPath("/jobs/nightly") with { Wait = TimeSpan.FromMinutes(1) });
/// // ... work, passing lease.Fence to the guarded system; stop if lease.LostToken fires.
/// </code>
/// </example>
public sealed partial class LeaseholdClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly Uri[] _servers;

    // The index in _servers of the node requests go to; moves on when that node fails them.
    private int _current;

    /// <summary>For dependency injection: the <see cref="HttpClient"/> comes from the factory.</summary>
    public LeaseholdClient(HttpClient http, IOptions<LeaseholdClientOptions> options)
    {
        _http = http;
        Options = options.Value;
        // Requests use relative URIs ("v1/leases") resolved against a server: without a final '/', a base such as
        // http://host/leasehold would lose its last segment. A base address set on the HttpClient counts as the
        // one server, as long as no list is configured.
        IReadOnlyList<Uri> servers = Options.Servers is { Count: > 0 } || _http.BaseAddress is null ? Options.Addresses : [_http.BaseAddress];
        _servers = [.. servers.Select(CheckServer).Select(WithTrailingSlash)];
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
        // session releases whatever was granted under it, so nothing leaks.
        var sessionAliveSince = Stopwatch.GetTimestamp();
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
            if (session is not null)
            {
                request = request with { Session = session.Id };
            }
            // One key for every try of this acquire: a retry (after a lost answer, or on another node) gets the lease
            // an earlier try was granted, never a second one. A retry waits what is left of the wait, at the back of the queue.
            request = request with { IdempotencyKey = Requests.NewIdempotencyKey() };
            var started = Stopwatch.GetTimestamp();
            long sent = 0;
            var tries = 0;
            var (lease, problem) = await SendWithFailoverAsync(
                () =>
                {
                    sent = Stopwatch.GetTimestamp();
                    var body = tries++ == 0 ? request
                        : request with { Wait = Math.Max(0, (options.Wait - Stopwatch.GetElapsedTime(started)).TotalSeconds) };
                    return new HttpRequestMessage(HttpMethod.Post, "v1/leases") { Content = JsonContent.Create(body, ProtocolJsonContext.Default.AcquireRequest) };
                },
                ReadAcquireAnswerAsync,
                cancellationToken).ConfigureAwait(false);
            if (lease is not null)
            {
                await stopWaiting.CancelAsync().ConfigureAwait(false);
                // Since when the lease is surely alive, by this process's clock: a session from the last
                // keep-alive sent; a ttl lease from its grant, which came no earlier than the request
                // was sent plus the time the server says it waited.
                var aliveSince = session is not null
                    ? await waiting.ConfigureAwait(false)
                    : tries > 1 ? await RestartTtlAsync(lease, started, cancellationToken).ConfigureAwait(false)
                    : sent + (long)(lease.Waited * Stopwatch.Frequency);
                var handle = new LeaseHandle(this, lease, session, aliveSince);
                session = null;
                return handle;
            }
            return problem!.Code == ErrorCodes.Locked ? null : throw LeaseholdException.From(problem);
        }
        finally
        {
            await stopWaiting.CancelAsync().ConfigureAwait(false);
            await waiting.ConfigureAwait(false);
            if (session is not null)
            {
                // Bounded by the session's ttl: after that it has expired anyway.
                using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(session.Ttl));
                await CloseSessionQuietlyAsync(session, bound.Token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The lease an acquire was granted, or the problem it was refused with.</summary>
    private static async Task<(LeaseDto? Lease, ProblemDto? Problem)> ReadAcquireAnswerAsync(HttpResponseMessage response, CancellationToken cancellationToken)
        => response.StatusCode == HttpStatusCode.Created
            ? (await ReadAsync(response, ProtocolJsonContext.Default.LeaseDto, cancellationToken).ConfigureAwait(false), null)
            : (null, await ReadProblemAsync(response, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// After a retried acquire: the lease may be the one an earlier try was granted, whose ttl runs from that grant,
    /// which this process cannot place. Renewing starts it again from a moment it knows. Should the renewal fail, the
    /// start of the first try is the safe guess (the handle may then give the lease up early, never late).
    /// </summary>
    private async Task<long> RestartTtlAsync(LeaseDto lease, long firstTry, CancellationToken cancellationToken)
    {
        var sent = Stopwatch.GetTimestamp();
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

    /// <summary>Keeps an acquire's session alive until <paramref name="stop"/>; returns when the last successful keep-alive was sent.</summary>
    private async Task<long> KeepSessionAliveWhileWaitingAsync(SessionDto session, long aliveSince, CancellationToken stop)
    {
        var period = TimeSpan.FromSeconds(session.Ttl) / 3;
        try
        {
            while (true)
            {
                await Task.Delay(period, stop).ConfigureAwait(false);
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    await KeepAliveAsync(session, stop).ConfigureAwait(false);
                    aliveSince = sent;
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
            return await SendAsync(HttpMethod.Get, $"v1/leases/{id}", null, null, ProtocolJsonContext.Default.LeaseDto, cancellationToken).ConfigureAwait(false);
        }
        catch (LeaseholdNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Holders and queue of one path.</summary>
    public Task<ResourceDto> GetResourceAsync(string path, CancellationToken cancellationToken = default)
        => SendAsync(HttpMethod.Get, "v1/resources" + Requests.EncodePath(path), null, null, ProtocolJsonContext.Default.ResourceDto, cancellationToken);

    /// <summary>Held paths under a prefix.</summary>
    public Task<ResourceListDto> ListAsync(string prefix = "/", int limit = 1000, CancellationToken cancellationToken = default)
        => SendAsync(HttpMethod.Get, $"v1/resources?prefix={Uri.EscapeDataString(prefix)}&limit={limit}", null, null, ProtocolJsonContext.Default.ResourceListDto, cancellationToken);

    /// <summary>Extends a lease by id and token (for leases held across processes, as the CLI's <c>lock</c> gives).</summary>
    public Task<LeaseDto> RenewAsync(long id, string token, TimeSpan? ttl = null, CancellationToken cancellationToken = default)
        => SendAsync(HttpMethod.Post, $"v1/leases/{id}/renew", token,
            ttl is { } t ? () => JsonContent.Create(new RenewRequest { Ttl = t.TotalSeconds }, ProtocolJsonContext.Default.RenewRequest) : null,
            ProtocolJsonContext.Default.LeaseDto, cancellationToken);

    /// <summary>Releases a lease by id and token.</summary>
    public Task ReleaseAsync(long id, string token, CancellationToken cancellationToken = default)
        => SendAsync<object>(HttpMethod.Delete, $"v1/leases/{id}", token, null, null, cancellationToken);

    internal Task<SessionDto> OpenSessionAsync(TimeSpan ttl, string? owner, CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Post, "v1/sessions", null,
            () => JsonContent.Create(new SessionRequest { Ttl = ttl.TotalSeconds, Owner = owner }, ProtocolJsonContext.Default.SessionRequest),
            ProtocolJsonContext.Default.SessionDto, cancellationToken);

    internal Task<SessionDto> KeepAliveAsync(SessionDto session, CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Post, $"v1/sessions/{session.Id}/keepalive", session.Token, null, ProtocolJsonContext.Default.SessionDto, cancellationToken);

    internal async Task CloseSessionQuietlyAsync(SessionDto session, CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync<object>(HttpMethod.Delete, $"v1/sessions/{session.Id}", session.Token, null, null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is LeaseholdException or HttpRequestException or OperationCanceledException)
        {
            // Already gone, or the server is unreachable or too slow: then the session expires on its own.
        }
    }

    /// <summary>An administrator's request, without a token or body.</summary>
    internal Task<T> SendAdminAsync<T>(HttpMethod method, string uri, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        => SendAsync(method, uri, null, null, type, cancellationToken);

    internal Task<T> SendAdminAsync<T>(HttpMethod method, string uri, Func<HttpContent> content, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        => SendAsync(method, uri, null, content, type, cancellationToken);

    /// <summary>A request without side effects beyond its own, or one whose repetition is harmless (renew, release, keep-alive).</summary>
    private Task<T> SendAsync<T>(HttpMethod method, string uri, string? token, Func<HttpContent>? content, JsonTypeInfo<T>? type, CancellationToken cancellationToken)
        => SendWithFailoverAsync(
            () =>
            {
                var request = new HttpRequestMessage(method, uri) { Content = content?.Invoke() };
                if (token is not null)
                {
                    request.Headers.Add(Headers.Token, token);
                }
                return request;
            },
            async (response, ct) => !response.IsSuccessStatusCode
                ? throw LeaseholdException.From(await ReadProblemAsync(response, ct).ConfigureAwait(false))
                : type is null ? default! : await ReadAsync(response, type, ct).ConfigureAwait(false),
            cancellationToken);

    /// <summary>
    /// Sends a request (made anew by <paramref name="build"/> for each try, with a URI relative to the server) to the
    /// current server and reads the answer with <paramref name="read"/>. A transport failure (refused, reset, no
    /// connection within the connect timeout, an answer cut short) or a 503 <c>no-leader</c> / <c>shutting-down</c>
    /// moves to the next server; any other 503 is retried where it came from. Retries are bounded by
    /// <see cref="LeaseholdClientOptions.Retries"/> and <see cref="LeaseholdClientOptions.RetryTimeout"/>; when they
    /// are used up, a transport failure is a <see cref="LeaseholdUnavailableException"/> and a 503 is read as any answer.
    /// </summary>
    private async Task<TResult> SendWithFailoverAsync<TResult>(
        Func<HttpRequestMessage> build, Func<HttpResponseMessage, CancellationToken, Task<TResult>> read, CancellationToken cancellationToken)
    {
        long? firstFailure = null;
        for (var attempt = 0; ; attempt++)
        {
            var index = Volatile.Read(ref _current);
            var server = _servers[index];
            using var request = build();
            request.RequestUri = new Uri(server, request.RequestUri!);
            TimeSpan? pause = null;
            try
            {
                using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable && MayRetry(attempt, ref firstFailure))
                {
                    var problem = await ReadProblemAsync(response, cancellationToken).ConfigureAwait(false);
                    if (problem.Code is ErrorCodes.NoLeader or ErrorCodes.ShuttingDown)
                    {
                        MoveOn(index);
                    }
                    pause = response.Headers.RetryAfter?.Delta;
                }
                else
                {
                    FollowLeader(index, response);
                    return await read(response, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (IsTransportFailure(ex, cancellationToken))
            {
                if (ClientTls.IsCertificateFailure(ex) || !MayRetry(attempt, ref firstFailure))
                {
                    throw Unavailable(server, ex);
                }
                MoveOn(index);
            }
            await Task.Delay(Backoff(attempt, pause, firstFailure!.Value), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whether one more try is allowed; the first failure starts the clock of the retry timeout.</summary>
    private bool MayRetry(int attempt, ref long? firstFailure)
    {
        firstFailure ??= Stopwatch.GetTimestamp();
        return attempt < Options.Retries && Stopwatch.GetElapsedTime(firstFailure.Value) < Options.RetryTimeout;
    }

    /// <summary>
    /// A cluster follower forwarded the request and named the leader: when the leader is one of this client's
    /// servers, later requests go to it directly (one hop less). A URL not in the list is ignored, so an answer can
    /// never send this client's credentials anywhere it was not told to.
    /// </summary>
    private void FollowLeader(int index, HttpResponseMessage response)
    {
        if (_servers.Length == 1 || !response.IsSuccessStatusCode || !response.Headers.TryGetValues(Headers.Leader, out var values)
            || !Uri.TryCreate(values.FirstOrDefault(), UriKind.Absolute, out var leader))
        {
            return;
        }
        var found = Array.FindIndex(_servers, s => Uri.Compare(s, leader, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0);
        if (found >= 0 && found != index)
        {
            Interlocked.CompareExchange(ref _current, found, index);
        }
    }

    /// <summary>Moves the client to the server after <paramref name="failed"/>, unless another request has moved it already.</summary>
    private void MoveOn(int failed) => Interlocked.CompareExchange(ref _current, (failed + 1) % _servers.Length, failed);

    /// <summary>
    /// No answer could be had, as opposed to an answer that refused: the transport failed, or gave up on
    /// its own (a connect timeout) while the caller had not cancelled.
    /// </summary>
    private static bool IsTransportFailure(Exception ex, CancellationToken cancellationToken)
        => ex is HttpRequestException or IOException
           || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    // Callers catch one documented family, and the message says which server(s) did not answer.
    private LeaseholdUnavailableException Unavailable(Uri server, Exception ex)
        => _servers.Length == 1 ? new(server, ex) : new(server, _servers, ex);

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
        var left = Options.RetryTimeout - Stopwatch.GetElapsedTime(firstFailure);
        return left <= TimeSpan.Zero ? TimeSpan.Zero : pause < left ? pause : left;
    }

    private static Uri WithTrailingSlash(Uri uri)
        => !uri.AbsolutePath.EndsWith('/') ? new UriBuilder(uri) { Path = uri.AbsolutePath + "/" }.Uri : uri;

    private static Uri CheckServer(Uri? server)
        => server is { IsAbsoluteUri: true } && server.Scheme is "http" or "https" ? server
            : throw new ArgumentException($"a Leasehold server is an absolute http:// or https:// URL, not '{server}'", nameof(server));

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        => await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false)
           ?? throw new LeaseholdException(ErrorCodes.Internal, (int)response.StatusCode, "the server answered an empty body");

    private static async Task<ProblemDto> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ProblemDto, cancellationToken).ConfigureAwait(false)
                   ?? Unexpected(response);
        }
        catch (JsonException)
        {
            return Unexpected(response);
        }
    }

    private static ProblemDto Unexpected(HttpResponseMessage response) => new()
    {
        Type = "about:blank",
        Title = "Unexpected response",
        Status = (int)response.StatusCode,
        Detail = $"HTTP {(int)response.StatusCode} without a problem body",
        Code = ErrorCodes.Internal,
    };

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }
}
