using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using V3Lockpb;

namespace Leasehold.LoadGen;

/// <summary>
/// etcd's Lock API over gRPC, the way `etcdctl lock` and the concurrency package use it: acquire = grant
/// a lease (the ttl) + Lock(name, lease), release = Unlock(key) + revoke the lease. Client c talks to
/// member c % members, over one gRPC channel (one HTTP/2 connection) per member, as etcd's own client
/// does. The fence is the Lock reply's header revision, which only grows from one holder of a name
/// to the next. The stubs are dotnet-etcd's generated ones, called directly (no retries, no balancer).
/// </summary>
internal sealed class EtcdTarget : ILockTarget
{
    private readonly LoadOptions _options;
    private readonly GrpcChannel[] _channels;
    private readonly Lease.LeaseClient[] _leases;
    private readonly V3Lockpb.Lock.LockClient[] _locks;

    private readonly string? _name;

    public EtcdTarget(LoadOptions options, string? name = null)
    {
        _options = options;
        _name = name;
        var count = options.Urls.Count;
        _channels = new GrpcChannel[count];
        _leases = new Lease.LeaseClient[count];
        _locks = new V3Lockpb.Lock.LockClient[count];
        for (var n = 0; n < count; n++)
        {
            _channels[n] = GrpcChannel.ForAddress(options.Urls[n], new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler
                {
                    PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
                    UseProxy = false,
                    UseCookies = false,
                    AllowAutoRedirect = false,
                },
                DisposeHttpClient = true,
            });
            _leases[n] = new Lease.LeaseClient(_channels[n]);
            _locks[n] = new V3Lockpb.Lock.LockClient(_channels[n]);
        }
    }

    public string Name => _name ?? $"etcd, {_channels.Length} member{(_channels.Length == 1 ? "" : "s")}";

    /// <summary>
    /// The client URL of the member that leads: each member's Maintenance.Status names the leader's member
    /// id and its own; the one where they agree is the leader (the same answer `etcdctl endpoint status` shows).
    /// </summary>
    public static async Task<(Uri? Leader, string? Error)> FindLeaderAsync(IReadOnlyList<Uri> members, CancellationToken cancel)
    {
        var errors = new List<string>();
        foreach (var url in members)
        {
            using var channel = GrpcChannel.ForAddress(url);
            try
            {
                var status = await new Maintenance.MaintenanceClient(channel).StatusAsync(
                    new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: cancel);
                if (status.Leader != 0 && status.Leader == status.Header.MemberId)
                {
                    return (url, null);
                }
            }
            catch (RpcException e)
            {
                errors.Add($"{url}: {Describe(e, cancel)}");
            }
        }
        return (null, $"no etcd member says it leads{(errors.Count > 0 ? ": " + string.Join("; ", errors) : "")}");
    }

    private sealed record Prepared(ByteString Name, TimeSpan Deadline);

    private sealed record Owned(long LeaseId, ByteString Key);

    public object Prepare(int client, string path, double? waitSeconds)
        // a contended request waits as long as Leasehold's wait; an uncontended one as long as the HTTP timeout
        => new Prepared(ByteString.CopyFromUtf8(path), TimeSpan.FromSeconds(waitSeconds ?? _options.WaitSeconds + 30));

    public async Task<(Held? Lock, string? Error)> AcquireAsync(int client, object prepared, CancellationToken cancel)
    {
        var request = (Prepared)prepared;
        var n = client % _channels.Length;
        long leaseId;
        try
        {
            var grant = await _leases[n].LeaseGrantAsync(
                new LeaseGrantRequest { TTL = _options.TtlSeconds ?? LoadOptions.EtcdDefaultTtl },
                deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancel);
            if (!string.IsNullOrEmpty(grant.Error))
            {
                return (null, $"lease grant: {grant.Error}");
            }
            leaseId = grant.ID;
        }
        catch (RpcException e)
        {
            return (null, $"lease grant: {Describe(e, cancel)}");
        }
        try
        {
            var locked = await _locks[n].LockAsync(
                new LockRequest { Name = request.Name, Lease = leaseId },
                deadline: DateTime.UtcNow + request.Deadline, cancellationToken: cancel);
            return (new Held(locked.Header.Revision, new Owned(leaseId, locked.Key)), null);
        }
        catch (RpcException e)
        {
            var error = $"lock: {Describe(e, cancel)}";
            await RevokeQuietlyAsync(n, leaseId);
            return (null, error);
        }
    }

    public async Task<string?> ReleaseAsync(int client, Held held, CancellationToken cancel)
    {
        var owned = (Owned)held.Handle;
        var n = client % _channels.Length;
        try
        {
            await _locks[n].UnlockAsync(new UnlockRequest { Key = owned.Key }, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancel);
        }
        catch (RpcException e)
        {
            var error = $"unlock: {Describe(e, cancel)}";
            await RevokeQuietlyAsync(n, owned.LeaseId);
            return error;
        }
        try
        {
            await _leases[n].LeaseRevokeAsync(new LeaseRevokeRequest { ID = owned.LeaseId }, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: cancel);
            return null;
        }
        catch (RpcException e)
        {
            return $"lease revoke: {Describe(e, cancel)}";
        }
    }

    /// <summary>Frees a lease after a failed step, so a failure leaves no lock behind for the ttl.</summary>
    private async Task RevokeQuietlyAsync(int n, long leaseId)
    {
        try
        {
            await _leases[n].LeaseRevokeAsync(new LeaseRevokeRequest { ID = leaseId }, deadline: DateTime.UtcNow.AddSeconds(5));
        }
        catch (RpcException)
        {
            // the lease ends by its ttl
        }
    }

    /// <summary>The status of a failed call; our own cancellation becomes an OperationCanceledException.</summary>
    private static string Describe(RpcException e, CancellationToken cancel)
    {
        cancel.ThrowIfCancellationRequested();
        return $"gRPC {e.StatusCode} {e.Status.Detail}";
    }

    /// <summary>GET /health on each member's client URL: 200 with "health":"true" once it has a leader.</summary>
    public async Task<string?> CheckReadyAsync(CancellationToken cancel)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        foreach (var url in _options.Urls)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(url, "health"), cancel);
                var body = await response.Content.ReadAsStringAsync(cancel);
                if (!response.IsSuccessStatusCode || !body.Contains("\"true\"", StringComparison.Ordinal))
                {
                    return $"{url}health answers {(int)response.StatusCode} {body.Trim()}";
                }
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancel.IsCancellationRequested))
            {
                return $"{url}health: {e.Message}; is etcd running? (or use --spawn)";
            }
        }
        return null;
    }

    public Task<StatsReply?> StatsAsync(CancellationToken cancel) => Task.FromResult<StatsReply?>(null);

    public void Dispose()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }
}
