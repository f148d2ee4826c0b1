namespace Leasehold.DistributedLock;

/// <summary>How the locks of a <see cref="LeaseholdDistributedSynchronizationProvider"/> (or one lock) are held.</summary>
public sealed record LeaseholdDistributedLockOptions
{
    /// <summary>The default <see cref="Prefix"/>.</summary>
    public const string DefaultPrefix = "/distributed-lock";

    /// <summary>
    /// The path under which names are placed: a lock named <c>n</c> is <c>{Prefix}/locks/{segment of n}</c>, a
    /// reader-writer lock <c>{Prefix}/reader-writer-locks/{segment}</c> (and <c>{Prefix}/upgrade-gates/{segment}</c> for
    /// writers and upgradeable readers), a semaphore <c>{Prefix}/semaphores/{segment}</c>; see
    /// <see cref="LeaseholdLockNames.ToSegment"/>. A final <c>/</c> is ignored; <c>/</c> alone puts the kinds at the root.
    /// </summary>
    public string Prefix { get; init; } = DefaultPrefix;

    /// <summary>
    /// The lease's own time to live, renewed every third of it while the handle lives. Null (the default): the lease is
    /// bound to a session of the client's <c>SessionTtl</c>, kept alive while the handle lives (over <c>leasehold://</c>,
    /// by the connection itself). Either way a process that dies leaves its locks for at most that long. Only sessions make a
    /// cancelled or failed acquire leave nothing held: with a ttl, a lease granted as the request was given up stays held
    /// (unrenewed) until the ttl runs out.
    /// </summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary>The owner shown to people as the holder (<c>leasehold status</c>, history); null: the client's <c>Owner</c>.</summary>
    public string? Owner { get; init; }

    internal string PathOf(string kind, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Prefix is not ['/', ..])
        {
            throw new ArgumentException($"the prefix of distributed locks is a path starting with '/', not '{Prefix}'", nameof(Prefix));
        }
        var prefix = Prefix.TrimEnd('/');
        return $"{prefix}/{kind}/{LeaseholdLockNames.ToSegment(name)}";
    }
}
