using System.Text.Json.Serialization.Metadata;
using Leasehold.Protocol;

namespace Leasehold.Client.Transport;

/// <summary>
/// One answer of one server to one try of a request: the value, or the problem it was refused with. A 503's wish to
/// be asked again later (<see cref="RetryAfter"/>) and a node's naming of the leader (<see cref="Leader"/>) travel with it.
/// </summary>
internal readonly record struct Reply<T>(T? Value, ProblemDto? Problem, TimeSpan? RetryAfter = null, Uri? Leader = null)
{
    /// <summary>The native connection that answered, where pushes about what it granted will come; null over HTTP.</summary>
    public NativeConnection? Connection { get; init; }

    public static Reply<T> Of(T value, Uri? leader = null) => new(value, null, null, leader);

    public static Reply<T> Refused(ProblemDto problem, TimeSpan? retryAfter = null, Uri? leader = null) => new(default, problem, retryAfter, leader);
}

/// <summary>
/// A session the client opened: the server's answer, and the native connection it is bound to (kept alive by the
/// server while that connection lives), if any.
/// </summary>
internal sealed class OpenSession(SessionDto session, NativeConnection? boundTo)
{
    public SessionDto Dto { get; } = session;

    public long Id => Dto.Id;

    public string Token => Dto.Token!;

    public TimeSpan Ttl => TimeSpan.FromSeconds(Dto.Ttl);

    /// <summary>The connection keeping the session alive; null once it is lost (then keep-alives are sent, as over HTTP).</summary>
    public NativeConnection? BoundTo { get; set; } = boundTo;

    /// <summary>
    /// How long the session surely lives after a moment the client knows it was alive. A session kept alive by the client
    /// lives its ttl from the keep-alive sent. One bound to a connection is kept alive by the server every third of its ttl
    /// (docs/protocol.md), so from a moment the connection surely stood, its last keep-alive may have been a third of a ttl
    /// (and a scheduling slack) earlier: it surely lives two thirds of its ttl, less that slack.
    /// </summary>
    public TimeSpan Lifetime => BoundTo is null ? Ttl : Ttl * 2 / 3 - BoundSlack;

    private static readonly TimeSpan BoundSlack = TimeSpan.FromMilliseconds(100);
}

/// <summary>
/// One server of the client's list, reached by the transport its URL's scheme names. Each method is one try on this
/// server: a transport failure throws (<see cref="HttpRequestException"/>, <see cref="IOException"/>, ...), and the
/// client decides whether to try again, here or elsewhere.
/// </summary>
internal abstract class Endpoint(Uri address) : IDisposable
{
    /// <summary>The server's address, as configured.</summary>
    public Uri Address { get; } = address;

    public abstract Task<Reply<LeaseDto>> AcquireAsync(AcquireRequest request, OpenSession? session, CancellationToken cancellationToken);

    public abstract Task<Reply<LeaseDto>> RenewAsync(long id, string token, TimeSpan? ttl, CancellationToken cancellationToken);

    public abstract Task<Reply<bool>> ReleaseAsync(long id, string token, CancellationToken cancellationToken);

    public abstract Task<Reply<LeaseDto>> GetLeaseAsync(long id, CancellationToken cancellationToken);

    public abstract Task<Reply<OpenSession>> OpenSessionAsync(TimeSpan ttl, string? owner, CancellationToken cancellationToken);

    public abstract Task<Reply<SessionDto>> KeepAliveAsync(long id, string token, CancellationToken cancellationToken);

    public abstract Task<Reply<bool>> CloseSessionAsync(long id, string token, CancellationToken cancellationToken);

    /// <summary>
    /// Any other route: <paramref name="uri"/> is relative to the server (<c>v1/resources?prefix=%2F</c>), <paramref name="body"/>
    /// JSON or null; the answer is read with <paramref name="type"/> (null: the body is not read).
    /// </summary>
    public abstract Task<Reply<T>> CallAsync<T>(HttpMethod method, string uri, byte[]? body, JsonTypeInfo<T>? type, CancellationToken cancellationToken);

    public virtual void Dispose()
    {
    }
}
