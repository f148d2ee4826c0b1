using Leasehold.Client;

namespace Leasehold.LoadGen;

/// <summary>
/// Leasehold through its own .NET client (<see cref="LeaseholdClient"/>), one client object per load client
/// (so one connection each): the protocol follows the URL's scheme, <c>leasehold://</c> for the native
/// protocol, <c>http://</c> for HTTP. Acquire = <see cref="LeaseholdClient.TryAcquireAsync"/> with the run's
/// ttl (so no session is opened per lease), release = disposing the handle, which releases.
/// </summary>
internal sealed class ClientTarget : ILockTarget
{
    private readonly LoadOptions _options;
    private readonly LeaseholdClient[] _clients;
    private readonly string _name;
    private readonly HttpClient? _statsHttp;
    private readonly LeaseClient? _stats;

    /// <param name="options">the options; client c is given every URL, starting with URL c % count</param>
    /// <param name="name">what the report calls the target, when the URL's scheme does not tell</param>
    /// <param name="httpUrl">one server's HTTP URL, for its counters (GET /v1/stats); null: not sampled</param>
    public ClientTarget(LoadOptions options, string? name = null, Uri? httpUrl = null)
    {
        if (httpUrl is not null)
        {
            _statsHttp = new HttpClient { BaseAddress = httpUrl, Timeout = TimeSpan.FromSeconds(30) };
            _stats = new LeaseClient(_statsHttp);
        }
        _options = options;
        _clients = new LeaseholdClient[Math.Max(1, options.Clients)];
        for (var c = 0; c < _clients.Length; c++)
        {
            // Every client is given all the nodes, as a user gives `--server a,b,c`, starting at node c % count: the
            // client itself finds the leader (a follower's forwarded answer or its no-leader names it) and stays there.
            var urls = options.Urls;
            var servers = Enumerable.Range(0, urls.Count).Select(n => urls[(c + n) % urls.Count]).ToList();
            _clients[c] = new LeaseholdClient(new LeaseholdClientOptions { Servers = servers, ApiKey = options.ApiKey, Retries = servers.Count > 1 ? 3 : 0 });
        }
        _name = name ?? (options.Urls[0].Scheme.StartsWith("leasehold", StringComparison.Ordinal) ? "leasehold native" : "leasehold http (client)");
    }

    public string Name => _name;

    public bool QueuesFairly => true;

    public bool HasFences => true;

    public object Prepare(int client, string path, double? waitSeconds)
        => AcquireOptions.ForPath(path) with
        {
            Wait = TimeSpan.FromSeconds(waitSeconds ?? 0),
            Ttl = TimeSpan.FromSeconds(_options.TtlSeconds ?? LoadOptions.RedisDefaultTtl),
        };

    public async Task<(Held? Lock, string? Error)> AcquireAsync(int client, object prepared, CancellationToken cancel)
    {
        try
        {
            var handle = await _clients[client].TryAcquireAsync((AcquireOptions)prepared, cancel);
            return handle is null ? (null, "acquire: locked") : (new Held(handle.Fence, handle), null);
        }
        catch (Exception e) when (e is LeaseholdException or HttpRequestException or IOException || (e is OperationCanceledException && !cancel.IsCancellationRequested))
        {
            return (null, $"acquire: {e.Message}");
        }
    }

    public async Task<string?> ReleaseAsync(int client, Held held, CancellationToken cancel)
    {
        // Disposing releases; a release the server refuses is not reported by the handle (by design: the lease is
        // gone either way), so errors here are transport failures only.
        await ((LeaseHandle)held.Handle).DisposeAsync();
        return null;
    }

    public async Task<string?> CheckReadyAsync(CancellationToken cancel)
    {
        try
        {
            await _clients[0].ListAsync("/", 1, cancel);
            return null;
        }
        catch (Exception e) when (e is LeaseholdException or HttpRequestException or IOException)
        {
            return $"{_options.Urls[0]}: {e.Message}";
        }
    }

    public Task<StatsReply?> StatsAsync(CancellationToken cancel) => _stats?.StatsAsync(cancel) ?? Task.FromResult<StatsReply?>(null);

    public void Dispose()
    {
        _statsHttp?.Dispose();
        foreach (var client in _clients)
        {
            client.Dispose();
        }
    }
}
