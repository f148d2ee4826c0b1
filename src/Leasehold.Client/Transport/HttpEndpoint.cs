using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Leasehold.Protocol;

namespace Leasehold.Client.Transport;

/// <summary>A server reached over HTTP (<c>http://</c>, <c>https://</c>): one request per call, through the client's <see cref="HttpClient"/>.</summary>
internal sealed class HttpEndpoint(HttpClient http, Uri address) : Endpoint(address)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json") { CharSet = "utf-8" };

    // Requests use relative URIs ("v1/leases") resolved against the server: without a final '/', a base such as
    // http://host/leasehold would lose its last segment.
    private readonly Uri _base = !address.AbsolutePath.EndsWith('/') ? new UriBuilder(address) { Path = address.AbsolutePath + "/" }.Uri : address;

    public override async Task<Reply<LeaseDto>> AcquireAsync(AcquireRequest request, OpenSession? session, CancellationToken cancellationToken)
    {
        if (session is not null)
        {
            request = request with { Session = session.Id };
        }
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(_base, "v1/leases"))
        {
            Content = JsonContent.Create(request, ProtocolJsonContext.Default.AcquireRequest),
        };
        using var response = await http.SendAsync(message, cancellationToken).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.Created
            ? Reply<LeaseDto>.Of(await ReadAsync(response, ProtocolJsonContext.Default.LeaseDto, cancellationToken).ConfigureAwait(false), Leader(response))
            : await RefusedAsync<LeaseDto>(response, cancellationToken).ConfigureAwait(false);
    }

    public override Task<Reply<LeaseDto>> RenewAsync(long id, string token, TimeSpan? ttl, CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Post, $"v1/leases/{Id(id)}/renew", token,
            ttl is { } t ? JsonSerializer.SerializeToUtf8Bytes(new RenewRequest { Ttl = t.TotalSeconds }, ProtocolJsonContext.Default.RenewRequest) : null,
            ProtocolJsonContext.Default.LeaseDto, cancellationToken);

    public override async Task<Reply<bool>> ReleaseAsync(long id, string token, CancellationToken cancellationToken)
        => Done(await SendAsync<object>(HttpMethod.Delete, $"v1/leases/{Id(id)}", token, null, null, cancellationToken).ConfigureAwait(false));

    public override Task<Reply<LeaseDto>> GetLeaseAsync(long id, CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Get, $"v1/leases/{Id(id)}", null, null, ProtocolJsonContext.Default.LeaseDto, cancellationToken);

    public override async Task<Reply<OpenSession>> OpenSessionAsync(TimeSpan ttl, string? owner, CancellationToken cancellationToken)
    {
        var reply = await SendAsync(HttpMethod.Post, "v1/sessions", null,
            JsonSerializer.SerializeToUtf8Bytes(new SessionRequest { Ttl = ttl.TotalSeconds, Owner = owner }, ProtocolJsonContext.Default.SessionRequest),
            ProtocolJsonContext.Default.SessionDto, cancellationToken).ConfigureAwait(false);
        return new Reply<OpenSession>(reply.Value is { } session ? new OpenSession(session, null) : null, reply.Problem, reply.RetryAfter, reply.Leader);
    }

    public override Task<Reply<SessionDto>> KeepAliveAsync(long id, string token, CancellationToken cancellationToken)
        => SendAsync(HttpMethod.Post, $"v1/sessions/{Id(id)}/keepalive", token, null, ProtocolJsonContext.Default.SessionDto, cancellationToken);

    public override async Task<Reply<bool>> CloseSessionAsync(long id, string token, CancellationToken cancellationToken)
        => Done(await SendAsync<object>(HttpMethod.Delete, $"v1/sessions/{Id(id)}", token, null, null, cancellationToken).ConfigureAwait(false));

    public override Task<Reply<T>> CallAsync<T>(HttpMethod method, string uri, byte[]? body, JsonTypeInfo<T>? type, CancellationToken cancellationToken)
        => SendAsync(method, uri, null, body, type, cancellationToken);

    private async Task<Reply<T>> SendAsync<T>(HttpMethod method, string uri, string? token, byte[]? body, JsonTypeInfo<T>? type, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(_base, uri));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body) { Headers = { ContentType = Json } };
        }
        if (token is not null)
        {
            request.Headers.Add(Headers.Token, token);
        }
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            return await RefusedAsync<T>(response, cancellationToken).ConfigureAwait(false);
        }
        return Reply<T>.Of(type is null ? default! : await ReadAsync(response, type, cancellationToken).ConfigureAwait(false), Leader(response));
    }

    private static Reply<bool> Done(Reply<object> reply) => new(reply.Problem is null, reply.Problem, reply.RetryAfter, reply.Leader);

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    /// <summary>The leader a cluster follower named when it forwarded the request (<c>Leasehold-Leader</c>), on success only.</summary>
    private static Uri? Leader(HttpResponseMessage response)
        => response.Headers.TryGetValues(Headers.Leader, out var values) && Uri.TryCreate(values.FirstOrDefault(), UriKind.Absolute, out var leader) ? leader : null;

    private static async Task<Reply<T>> RefusedAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
        => Reply<T>.Refused(await ReadProblemAsync(response, cancellationToken).ConfigureAwait(false), response.Headers.RetryAfter?.Delta);

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        => await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false)
           ?? throw new LeaseholdException(ErrorCodes.Internal, (int)response.StatusCode, "the server answered an empty body");

    private static async Task<ProblemDto> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ProblemDto, cancellationToken).ConfigureAwait(false)
                   ?? Problems.Unexpected((int)response.StatusCode, $"HTTP {(int)response.StatusCode} without a problem body");
        }
        catch (JsonException)
        {
            return Problems.Unexpected((int)response.StatusCode, $"HTTP {(int)response.StatusCode} without a problem body");
        }
    }
}

/// <summary>Problems the client makes up when the server's answer is not one.</summary>
internal static class Problems
{
    public static ProblemDto Unexpected(int status, string detail) => new()
    {
        Type = "about:blank",
        Title = "Unexpected response",
        Status = status,
        Detail = detail,
        Code = ErrorCodes.Internal,
    };
}
