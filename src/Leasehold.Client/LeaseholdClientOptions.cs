using System.Security.Cryptography.X509Certificates;

namespace Leasehold.Client;

/// <summary>Settings of a <see cref="LeaseholdClient"/>, bindable from configuration (section <c>Leasehold</c>).</summary>
public sealed class LeaseholdClientOptions
{
    /// <summary>
    /// The server, <c>leasehold://127.0.0.1:8766</c> unless set (the environment variable <c>LEASEHOLD_SERVER</c> is the CLI's way).
    /// The scheme says how it is reached: <c>leasehold://host:port</c> over the native protocol (one connection, pushes,
    /// sessions bound to it), <c>leaseholds://</c> the same over TLS, <c>http://</c> or <c>https://</c> over HTTP.
    /// The same as a <see cref="Servers"/> of this one address; used only while <see cref="Servers"/> is empty.
    /// </summary>
    public Uri Server { get; set; } = new(DefaultServer);

    /// <summary>The server when none is set: the native port of this machine.</summary>
    public const string DefaultServer = "leasehold://127.0.0.1:8766";

    /// <summary>
    /// The nodes of a cluster, in the order to try them (bind as <c>Leasehold:Servers:0</c>, <c>:1</c>, ...). Requests go to
    /// one of them; when it cannot be reached (refused, reset, the connection not made within <see cref="ConnectTimeout"/>)
    /// or answers 503 <c>no-leader</c> or <c>shutting-down</c>, the request moves to the next and is retried there, within
    /// <see cref="Retries"/> and <see cref="RetryTimeout"/>; later requests stay with the node that answered.
    /// Empty (the default): <see cref="Server"/> alone.
    /// </summary>
    public IList<Uri> Servers { get; set; } = [];

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

    /// <summary>
    /// How many times a request is retried after a transport error or a 503 (each retry on the next of <see cref="Servers"/>
    /// when the failure says the node cannot serve). An acquire is retried too: it carries an idempotency key, the same on
    /// every try, so a retry gets the lease an earlier try was granted instead of a second one.
    /// </summary>
    public int Retries { get; set; } = 3;

    /// <summary>
    /// How long a request goes on retrying, counted from its first failure (a waiting acquire's wait does not count):
    /// no retry starts later. A 503's <c>Retry-After</c> is honoured within it.
    /// </summary>
    public TimeSpan RetryTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long making a connection may take before the node counts as unreachable and the next of <see cref="Servers"/> is
    /// tried (a node that is off does not refuse: it does not answer at all).
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The clock of every wait and deadline of the client: keep-alives and renewals, when <see cref="LeaseHandle.LostToken"/>
    /// fires, retry pauses and <see cref="RetryTimeout"/>, the native connection's heartbeat, idle close and connect timeout.
    /// <see cref="TimeProvider.System"/> unless set; a test sets a fake one to move the client's time on without waiting.
    /// Not used by the HTTP handler's own connect timeout (<see cref="ConnectTimeout"/> over <c>http(s)://</c>), which
    /// runs on the system's clock. With dependency injection, a registered <see cref="System.TimeProvider"/> is used
    /// unless this is set to another one.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>The addresses requests go to: <see cref="Servers"/>, or <see cref="Server"/> when that is empty.</summary>
    internal IReadOnlyList<Uri> Addresses => Servers is { Count: > 0 } list ? [.. list] : [Server];

    /// <summary>
    /// A PEM file of the authorities that vouch for an <c>https://</c> or <c>leaseholds://</c> server: with it, the server's certificate must
    /// chain to one of them (and no longer to the system's trusted roots). For a server whose certificate comes
    /// from a private authority, such as one made with <c>leasehold certs ca</c>. Null: the system's roots.
    /// </summary>
    public string? CaFile { get; set; }

    /// <summary>
    /// A PEM file with this client's certificate (optionally followed by its intermediate authorities), presented
    /// to a server that asks for one (docs/tls.md); the server then names the caller after the certificate's CN.
    /// Needs <see cref="ClientCertificateKeyFile"/> unless the key is in the same file.
    /// </summary>
    public string? ClientCertificateFile { get; set; }

    /// <summary>The PEM file with the unencrypted private key of <see cref="ClientCertificateFile"/>; null: the key is in that file.</summary>
    public string? ClientCertificateKeyFile { get; set; }

    /// <summary>
    /// This client's certificate with its private key, for code that has one at hand (from a store, a vault);
    /// used instead of <see cref="ClientCertificateFile"/>.
    /// </summary>
    public X509Certificate2? ClientCertificate { get; set; }
}
