namespace Leasehold.Client;

/// <summary>
/// What to acquire: paths, or declared resources chosen from a pool by requirement. Everything the
/// HTTP API's <c>POST /v1/leases</c> takes.
/// </summary>
/// <example>
/// <code>
/// var byPath = AcquireOptions.ForPath("/lab/rack-2/phone-7") with { Ttl = TimeSpan.FromMinutes(5) };
/// var byRequirement = AcquireOptions.FromPool("/lab", """{"os": "android", "online": true}""") with { Wait = TimeSpan.FromMinutes(10) };
/// </code>
/// </example>
public sealed record AcquireOptions
{
    /// <summary>Paths to hold, all at once. Empty when <see cref="Groups"/> are given.</summary>
    public IReadOnlyList<string> Paths { get; init; } = [];

    /// <summary>Requirement groups for a pool allocation; all are granted together.</summary>
    public IReadOnlyList<PoolRequirement> Groups { get; init; } = [];

    /// <summary>Hold the paths shared rather than exclusive.</summary>
    public bool Shared { get; init; }

    /// <summary>The semaphore size (exclusive only).</summary>
    public int? Limit { get; init; }

    /// <summary>
    /// The lease's own time to live, renewed in the background while the handle lives. Without one the
    /// lease is bound to a session the handle keeps alive, so it still ends if this process dies.
    /// </summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary>How long to wait in the queue; zero tries once.</summary>
    public TimeSpan Wait { get; init; }

    public string? Owner { get; init; }

    public bool LockParents { get; init; } = true;

    public bool LockChildren { get; init; } = true;

    /// <summary>For pool allocations: renew and return the lease this owner already holds from the same pools.</summary>
    public bool Reuse { get; init; }

    public static AcquireOptions ForPath(string path) => new() { Paths = [path] };

    public static AcquireOptions ForPaths(params string[] paths) => new() { Paths = paths };

    /// <summary>One group: <paramref name="count"/> resources under <paramref name="pool"/> matching <paramref name="require"/> (JSON or <c>k=v&amp;…</c>).</summary>
    public static AcquireOptions FromPool(string pool, string? require = null, int count = 1)
        => new() { Groups = [new PoolRequirement(pool, require, count)] };
}

/// <summary>One requirement group: <see cref="Count"/> declared resources under <see cref="Pool"/> that match <see cref="Require"/>.</summary>
/// <param name="Pool">The pool's path.</param>
/// <param name="Require">A MongoDB-style query as JSON, or the <c>k=v&amp;k2=v2</c> shorthand; null matches any.</param>
/// <param name="Count">How many resources.</param>
public sealed record PoolRequirement(string Pool, string? Require = null, int Count = 1);
