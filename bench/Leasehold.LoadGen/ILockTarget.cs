namespace Leasehold.LoadGen;

/// <summary>A lock held by one client: the fencing value the target gave it and what releasing it takes.</summary>
internal sealed record Held(long Fence, object Handle);

/// <summary>
/// One system under load, behind the two calls a cycle makes. Requests are prepared once per client and
/// path, so a cycle builds nothing that a real client would not build. A failure comes back as a short
/// description (HTTP status, gRPC status, connection error); cancellation by the run throws.
/// Disposed asynchronously: the load generator's continuations run on the runtime's socket event threads, where a
/// target that waits for its connections to close (as a Redis client's synchronous dispose does) would hold them.
/// </summary>
internal interface ILockTarget : IDisposable, IAsyncDisposable
{
    /// <summary>Targets whose disposal does not wait on the network keep their synchronous one.</summary>
    ValueTask IAsyncDisposable.DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>What the report calls the target, e.g. "leasehold, 3 nodes".</summary>
    string Name { get; }

    /// <summary>Whether grants carry fencing tokens that only grow (Redis and the echo have none: not checked).</summary>
    bool HasFences => true;

    /// <summary>
    /// Whether waiters are granted in the order they queued (Leasehold's queue): a contended run then fails when the
    /// grants per client drift apart. Redis spins, the echo grants nothing, etcd's order is not what is measured.
    /// </summary>
    bool QueuesFairly => false;

    /// <summary>Builds what <see cref="AcquireAsync"/> sends for this client and path, once.</summary>
    object Prepare(int client, string path, double? waitSeconds);

    /// <summary>Acquires; the lock, or null and why not.</summary>
    Task<(Held? Lock, string? Error)> AcquireAsync(int client, object prepared, CancellationToken cancel);

    /// <summary>Releases; null when released, otherwise why not.</summary>
    Task<string?> ReleaseAsync(int client, Held held, CancellationToken cancel);

    /// <summary>Null when every node answers its readiness check, otherwise which one does not and how.</summary>
    Task<string?> CheckReadyAsync(CancellationToken cancel);

    /// <summary>Log counters of a single Leasehold server (GET /v1/stats); null for anything else.</summary>
    Task<StatsReply?> StatsAsync(CancellationToken cancel);
}
