using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Leasehold.Crash.Tests;

/// <summary>Body of <c>POST /v1/leases</c>, written by the test independently of the server's own types.</summary>
internal sealed record AcquireBody
{
    public string? Path { get; init; }

    public string[]? Paths { get; init; }

    public string? Owner { get; init; }

    public string? Mode { get; init; }

    public int? Limit { get; init; }

    public double? Ttl { get; init; }

    public double? Wait { get; init; }

    public long? Session { get; init; }

    public bool? LockParents { get; init; }

    public bool? LockChildren { get; init; }

    [JsonIgnore]
    public string[] AllPaths => Paths ?? [Path!];
}

internal sealed record LeaseView
{
    public long Id { get; init; }

    public string? Token { get; init; }

    public string? Owner { get; init; }

    public required string Mode { get; init; }

    public required string[] Paths { get; init; }

    public int? Limit { get; init; }

    public double? Ttl { get; init; }

    public long Fence { get; init; }

    public DateTimeOffset? ExpiresAt { get; init; }

    public long? Session { get; init; }

    public bool LockParents { get; init; }

    public bool LockChildren { get; init; }

    public override string ToString()
        => $"lease {Id} fence {Fence} {Mode}{(Limit is > 1 ? $"/{Limit}" : "")} [{string.Join(',', Paths)}]"
            + $"{(LockParents ? "" : " !parents")}{(LockChildren ? "" : " !children")}{(Session is { } s ? $" session {s}" : "")}{(Ttl is { } t ? $" ttl {t}" : "")} owner {Owner}";
}

internal sealed record ResourceView
{
    public required string Path { get; init; }

    public required LeaseView[] Holders { get; init; }

    public required JsonElement[] Queue { get; init; }
}

internal sealed record ResourceListView
{
    public required ResourceView[] Resources { get; init; }

    public bool Truncated { get; init; }
}

internal sealed record SessionView
{
    public long Id { get; init; }

    public string? Token { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }
}

/// <summary>An HTTP answer that arrived: status and body. A request without an answer throws instead.</summary>
internal readonly record struct Reply(HttpStatusCode Status, string Body)
{
    public T As<T>() => JsonSerializer.Deserialize<T>(Body, LeaseholdApi.Json)
        ?? throw new InvalidDataException($"{typeof(T).Name} expected, got: {Body}");

    public override string ToString() => $"{(int)Status} {Body}";
}

/// <summary>
/// A minimal black-box client. Any exception from a call (connection reset by the kill, refused, timed out)
/// means the outcome is unknown: the request may or may not have been applied.
/// </summary>
internal sealed class LeaseholdApi : IDisposable
{
    public const string TokenHeader = "Leasehold-Token";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly HttpClient _http;

    public LeaseholdApi(Uri baseAddress)
    {
        // A fresh handler per server process: no pooled connection to a killed server is ever reused. No proxy: 127.0.0.1 only.
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(5) })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(15),
        };
    }

    public Task<Reply> AcquireAsync(AcquireBody body) => SendAsync(HttpMethod.Post, "v1/leases", body: body);

    public Task<Reply> GetLeaseAsync(long id) => SendAsync(HttpMethod.Get, $"v1/leases/{Id(id)}");

    public Task<Reply> ReleaseAsync(long id, string token) => SendAsync(HttpMethod.Delete, $"v1/leases/{Id(id)}", token);

    public Task<Reply> ListAsync() => SendAsync(HttpMethod.Get, "v1/resources?prefix=/&limit=10000");

    public Task<Reply> OpenSessionAsync(double ttl) => SendAsync(HttpMethod.Post, "v1/sessions", body: new { ttl });

    public Task<Reply> KeepAliveAsync(long id, string token) => SendAsync(HttpMethod.Post, $"v1/sessions/{Id(id)}/keepalive", token);

    public Task<Reply> CloseSessionAsync(long id, string token) => SendAsync(HttpMethod.Delete, $"v1/sessions/{Id(id)}", token);

    private async Task<Reply> SendAsync(HttpMethod method, string relative, string? token = null, object? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(relative, UriKind.Relative));
        if (token is not null)
        {
            request.Headers.Add(TokenHeader, token);
        }
        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body, body.GetType(), Json), Encoding.UTF8, "application/json");
        }
        using var response = await _http.SendAsync(request);
        return new Reply(response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    public void Dispose() => _http.Dispose();
}
