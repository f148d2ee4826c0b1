namespace Leasehold.Client;

/// <summary>Settings of a <see cref="LeaseholdClient"/>, bindable from configuration (section <c>Leasehold</c>).</summary>
public sealed class LeaseholdClientOptions
{
    /// <summary>The server, <c>http://127.0.0.1:8765</c> unless set (the environment variable <c>LEASEHOLD_SERVER</c> is the CLI's way).</summary>
    public Uri Server { get; set; } = new("http://127.0.0.1:8765");

    /// <summary>The owner name given with every request that has none of its own.</summary>
    public string? Owner { get; set; }

    /// <summary>
    /// The time to live of the session that holds a lease acquired without a <see cref="AcquireOptions.Ttl"/>.
    /// If this process dies, such a lease ends at most this long after its last keep-alive.
    /// </summary>
    public TimeSpan SessionTtl { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The credential sent with every request as <c>Authorization: Bearer</c>: an API key (<c>lh_…</c>, made by
    /// <c>leasehold admin keys create</c>) or a JSON Web Token from the identity provider the server trusts.
    /// Null: no credentials (a server with security off, or rules that let anonymous callers in).
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>How many times a safe request (read, renew, keep-alive, release) is retried after a transport error or a 503.</summary>
    public int Retries { get; set; } = 3;
}
