using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Leasehold.Protocol;
using Microsoft.Extensions.Options;

namespace Leasehold.Client;

/// <summary>
/// A client of one Leasehold server. Thread-safe; keep one per server (or get it from dependency
/// injection with <c>services.AddLeaseholdClient()</c>).
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

    /// <summary>For dependency injection: the <see cref="HttpClient"/> comes from the factory.</summary>
    public LeaseholdClient(HttpClient http, IOptions<LeaseholdClientOptions> options)
    {
        _http = http;
        Options = options.Value;
        // Requests use relative URIs ("v1/leases"): without a final '/', a base such as
        // http://host/leasehold would lose its last segment.
        _http.BaseAddress = WithTrailingSlash(_http.BaseAddress ?? Options.Server);
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
            var sent = Stopwatch.GetTimestamp();
            using var response = await _http.PostAsJsonAsync("v1/leases", request, ProtocolJsonContext.Default.AcquireRequest, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Created)
            {
                var lease = await ReadAsync(response, ProtocolJsonContext.Default.LeaseDto, cancellationToken).ConfigureAwait(false);
                await stopWaiting.CancelAsync().ConfigureAwait(false);
                // Since when the lease is surely alive, by this process's clock: a session from the last
                // keep-alive sent; a ttl lease from its grant, which came no earlier than the request
                // was sent plus the time the server says it waited.
                var aliveSince = session is not null
                    ? await waiting.ConfigureAwait(false)
                    : sent + (long)(lease.Waited * Stopwatch.Frequency);
                var handle = new LeaseHandle(this, lease, session, aliveSince);
                session = null;
                return handle;
            }
            var problem = await ReadProblemAsync(response, cancellationToken).ConfigureAwait(false);
            return problem.Code == ErrorCodes.Locked ? null : throw LeaseholdException.From(problem);
        }
        catch (Exception ex) when (IsTransportFailure(ex, cancellationToken))
        {
            throw Unavailable(ex);
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

    /// <summary>
    /// Sends a request that is safe to repeat, retrying transport errors and 503 with backoff. An acquire
    /// never goes through here: repeating it could grant twice.
    /// </summary>
    private async Task<T> SendAsync<T>(HttpMethod method, string uri, string? token, Func<HttpContent>? content, JsonTypeInfo<T>? type, CancellationToken cancellationToken)
    {
        try
        {
            return await SendWithRetriesAsync(method, uri, token, content, type, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransportFailure(ex, cancellationToken))
        {
            throw Unavailable(ex);
        }
    }

    /// <summary>
    /// No answer could be had, as opposed to an answer that refused: the transport failed, or gave up on
    /// its own (a connect timeout) while the caller had not cancelled.
    /// </summary>
    private static bool IsTransportFailure(Exception ex, CancellationToken cancellationToken)
        => ex is HttpRequestException or IOException
           || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    // Callers catch one documented family, and the message says which server did not answer.
    private LeaseholdUnavailableException Unavailable(Exception ex) => new(_http.BaseAddress ?? Options.Server, ex);

    private async Task<T> SendWithRetriesAsync<T>(HttpMethod method, string uri, string? token, Func<HttpContent>? content, JsonTypeInfo<T>? type, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, uri) { Content = content?.Invoke() };
            if (token is not null)
            {
                request.Headers.Add(Headers.Token, token);
            }
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex) when (attempt < Options.Retries && !ClientTls.IsCertificateFailure(ex))
            {
                await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                continue;
            }
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.ServiceUnavailable && attempt < Options.Retries)
                {
                    await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                if (!response.IsSuccessStatusCode)
                {
                    throw LeaseholdException.From(await ReadProblemAsync(response, cancellationToken).ConfigureAwait(false));
                }
                return type is null ? default! : await ReadAsync(response, type, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static Uri WithTrailingSlash(Uri uri)
        => uri.IsAbsoluteUri && !uri.AbsolutePath.EndsWith('/') ? new UriBuilder(uri) { Path = uri.AbsolutePath + "/" }.Uri : uri;

    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(100 * (1 << Math.Min(attempt, 6)));

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
