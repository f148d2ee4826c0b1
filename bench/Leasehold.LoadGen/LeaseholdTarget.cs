using System.Net;

namespace Leasehold.LoadGen;

/// <summary>
/// Leasehold over HTTP: one node, or the nodes of a cluster with client c sending everything to node
/// c % nodes (a follower forwards to the leader). Each node gets its own connection pool, one keep-alive
/// connection per client.
/// </summary>
internal sealed class LeaseholdTarget : ILockTarget
{
    private readonly LoadOptions _options;
    private readonly HttpClient[] _http;
    private readonly LeaseClient[] _nodes;
    private readonly string? _name;

    /// <param name="options">the options; one node per URL</param>
    /// <param name="name">what the report calls the target, when the URLs do not tell (all sent to a cluster's leader)</param>
    public LeaseholdTarget(LoadOptions options, string? name = null)
    {
        _options = options;
        _name = name;
        var count = options.Urls.Count;
        _http = new HttpClient[count];
        _nodes = new LeaseClient[count];
        for (var n = 0; n < count; n++)
        {
            var handler = new SocketsHttpHandler
            {
                // the clients this node serves, plus a spare for the /v1/stats samples
                MaxConnectionsPerServer = (options.Clients + count - 1) / count + 1,
                PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
                UseProxy = false,
                UseCookies = false,
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.None,
            };
            _http[n] = new HttpClient(handler, disposeHandler: true)
            {
                BaseAddress = options.Urls[n],
                Timeout = TimeSpan.FromSeconds(options.WaitSeconds + 30),
            };
            if (options.ApiKey is { } key)
            {
                _http[n].DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            }
            _nodes[n] = new LeaseClient(_http[n]);
        }
    }

    public string Name => _name ?? (_nodes.Length == 1 ? "leasehold" : $"leasehold, {_nodes.Length} nodes");

    public bool QueuesFairly => true;

    /// <summary>The leader's HTTP URL as the first node sees it (GET /v1/cluster: leaderUrl), or null and why not.</summary>
    public static async Task<(Uri? Leader, string? Error)> FindLeaderAsync(Uri node, CancellationToken cancel)
    {
        using var http = new HttpClient { BaseAddress = node, Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await http.GetAsync(new Uri("v1/cluster", UriKind.Relative), cancel);
            var body = await response.Content.ReadAsStringAsync(cancel);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return (null, $"{node}v1/cluster answers {(int)response.StatusCode}: {body}");
            }
            using var json = System.Text.Json.JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("leaderUrl", out var url) && url.GetString() is { } text
                && Uri.TryCreate(text.EndsWith('/') ? text : text + "/", UriKind.Absolute, out var leader)
                ? (leader, null)
                : (null, $"{node}v1/cluster names no leader URL: {body}");
        }
        catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException || (e is TaskCanceledException && !cancel.IsCancellationRequested))
        {
            return (null, $"{node}v1/cluster: {e.Message}");
        }
    }

    public object Prepare(int client, string path, double? waitSeconds) => LeaseClient.Body(path, waitSeconds, _options.TtlSeconds);

    public async Task<(Held? Lock, string? Error)> AcquireAsync(int client, object prepared, CancellationToken cancel)
    {
        try
        {
            var (lease, status) = await Node(client).AcquireAsync((byte[])prepared, cancel);
            return lease?.Token is null ? (null, $"acquire: HTTP {(int)status}") : (new Held(lease.Fence, lease), null);
        }
        catch (Exception e) when (IsRequestFailure(e, cancel))
        {
            return (null, $"acquire: {e.Message}");
        }
    }

    public async Task<string?> ReleaseAsync(int client, Held held, CancellationToken cancel)
    {
        try
        {
            var status = await Node(client).ReleaseAsync((LeaseReply)held.Handle, cancel);
            return status == HttpStatusCode.NoContent ? null : $"release: HTTP {(int)status}";
        }
        catch (Exception e) when (IsRequestFailure(e, cancel))
        {
            return $"release: {e.Message}";
        }
    }

    public async Task<string?> CheckReadyAsync(CancellationToken cancel)
    {
        for (var n = 0; n < _nodes.Length; n++)
        {
            if (!await _nodes[n].IsReadyAsync(cancel))
            {
                return $"{_options.Urls[n]}readyz does not answer 200; is the server running? (or use --spawn --server-dll PATH)";
            }
        }
        return null;
    }

    public Task<StatsReply?> StatsAsync(CancellationToken cancel)
        => _nodes.Length == 1 ? _nodes[0].StatsAsync(cancel) : Task.FromResult<StatsReply?>(null);

    private LeaseClient Node(int client) => _nodes[client % _nodes.Length];

    /// <summary>A failed request (connection error, or HttpClient's own timeout) rather than our cancellation.</summary>
    private static bool IsRequestFailure(Exception e, CancellationToken cancel)
        => e is HttpRequestException || (e is TaskCanceledException && !cancel.IsCancellationRequested);

    public void Dispose()
    {
        foreach (var http in _http)
        {
            http.Dispose();
        }
    }
}
