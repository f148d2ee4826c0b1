using StackExchange.Redis;

namespace Leasehold.LoadGen;

/// <summary>
/// Redis as a lock service, the usual single-instance recipe: acquire = <c>SET key token NX PX ttl</c>,
/// release = a compare-and-delete script (delete only while the key still holds our token), through
/// StackExchange.Redis. Each load client has a connection (a multiplexer) of its own, as each Leasehold
/// client has its own connection. Redis has no queue and no fence: a request that finds the key taken
/// tries again at once until its wait ends (it spins), and the fence it reports is 0 (not checked).
/// </summary>
internal sealed class RedisTarget : ILockTarget
{
    private const string CompareAndDelete = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

    private readonly LoadOptions _options;
    private readonly ConnectionMultiplexer?[] _connections;
    private readonly TimeSpan _ttl;
    private readonly string _name;
    private byte[]? _scriptSha;

    public RedisTarget(LoadOptions options, string? name = null)
    {
        _options = options;
        _connections = new ConnectionMultiplexer?[Math.Max(1, options.Clients)];
        _ttl = TimeSpan.FromSeconds(options.TtlSeconds ?? LoadOptions.RedisDefaultTtl);
        _name = name ?? "redis";
    }

    public string Name => _name;

    public bool HasFences => false;

    private sealed record Prepared(RedisKey Key, RedisValue Token, TimeSpan Wait);

    public object Prepare(int client, string path, double? waitSeconds)
        => new Prepared(path, $"c{client}-{Guid.NewGuid():N}", TimeSpan.FromSeconds(waitSeconds ?? 0));

    public async Task<(Held? Lock, string? Error)> AcquireAsync(int client, object prepared, CancellationToken cancel)
    {
        var request = (Prepared)prepared;
        var db = (await ConnectAsync(client)).GetDatabase();
        var deadline = DateTime.UtcNow + request.Wait;
        try
        {
            while (true)
            {
                if (await db.StringSetAsync(request.Key, request.Token, _ttl, When.NotExists))
                {
                    return (new Held(0, request), null);
                }
                cancel.ThrowIfCancellationRequested();
                if (DateTime.UtcNow >= deadline)
                {
                    return (null, "acquire: taken");
                }
            }
        }
        catch (RedisException e)
        {
            return (null, $"acquire: {e.Message}");
        }
    }

    public async Task<string?> ReleaseAsync(int client, Held held, CancellationToken cancel)
    {
        var request = (Prepared)held.Handle;
        var db = (await ConnectAsync(client)).GetDatabase();
        try
        {
            // EVALSHA of the script loaded once (what StackExchange.Redis's LoadedLuaScript does).
            var deleted = (long)await db.ScriptEvaluateAsync(_scriptSha!, [request.Key], [request.Token]);
            return deleted == 1 ? null : "release: the key no longer held our token";
        }
        catch (RedisException e)
        {
            return $"release: {e.Message}";
        }
    }

    public async Task<string?> CheckReadyAsync(CancellationToken cancel)
    {
        try
        {
            var server = (await ConnectAsync(0)).GetServer(Endpoint);
            _scriptSha ??= await server.ScriptLoadAsync(CompareAndDelete);
            await server.PingAsync();
            return null;
        }
        catch (RedisException e)
        {
            return $"{Endpoint}: {e.Message}";
        }
    }

    public Task<StatsReply?> StatsAsync(CancellationToken cancel) => Task.FromResult<StatsReply?>(null);

    private string Endpoint => $"{_options.Urls[0].Host}:{_options.Urls[0].Port}";

    private async ValueTask<ConnectionMultiplexer> ConnectAsync(int client)
    {
        if (_connections[client] is { } existing)
        {
            return existing;
        }
        var options = new ConfigurationOptions
        {
            EndPoints = { Endpoint },
            AbortOnConnectFail = true,
            ConnectRetry = 1,
            ConnectTimeout = 5000,
            SyncTimeout = (int)((_options.WaitSeconds + 30) * 1000),
            AsyncTimeout = (int)((_options.WaitSeconds + 30) * 1000),
        };
        var connection = await ConnectionMultiplexer.ConnectAsync(options);
        if (Interlocked.CompareExchange(ref _connections[client], connection, null) is { } raced)
        {
            await connection.DisposeAsync();
            return raced;
        }
        return connection;
    }

    public void Dispose()
    {
        foreach (var connection in _connections)
        {
            connection?.Dispose();
        }
    }

    /// <summary>Closes every connection at once, without blocking a thread (a multiplexer's dispose says QUIT and waits).</summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_connections.OfType<ConnectionMultiplexer>().Select(c => c.DisposeAsync().AsTask()));
        Array.Clear(_connections);
    }
}
