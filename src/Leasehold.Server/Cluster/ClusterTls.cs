using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Leasehold.Server.Tls;

namespace Leasehold.Server.Cluster;

/// <summary>
/// Mutual TLS between the nodes of a cluster (<c>Leasehold:Cluster:CertFile</c>, <c>KeyFile</c>, <c>CaFile</c>):
/// every Raft connection, in both directions, presents the node's certificate and accepts only a peer whose
/// certificate chains to the cluster's authority. Whoever holds such a certificate is a member; nobody else can
/// vote, append entries, install a snapshot or publish where followers forward. Requests a follower forwards to
/// an <c>https://</c> leader trust the same authority (besides the system's roots).
/// </summary>
internal sealed class ClusterTls
{
    private readonly X509Certificate2Collection _roots;

    private ClusterTls(LoadedCertificate node, X509Certificate2Collection roots)
    {
        Node = node;
        _roots = roots;
    }

    public LoadedCertificate Node { get; }

    /// <summary>The files of <paramref name="options"/>, read and checked; null when none is set. Bad or partial settings throw, naming them.</summary>
    /// <param name="options">The cluster's settings.</param>
    /// <param name="clientCaFile">The authority of API clients' certificates (<c>Leasehold:Tls:ClientCaFile</c>), if any:
    /// it must not be the cluster's, or every API client with a certificate could speak on the Raft port.</param>
    public static ClusterTls? Load(ClusterOptions options, string? clientCaFile = null)
    {
        if (options.CertFile is null && options.KeyFile is null && options.CaFile is null)
        {
            return null;
        }
        if (options.CertFile is null || options.KeyFile is null || options.CaFile is null)
        {
            throw new InvalidDataException($"{ClusterOptions.Section}:CertFile, KeyFile and CaFile go together (mutual TLS between the nodes needs all three)");
        }
        var node = CertificateFiles.LoadServer(options.CertFile, options.KeyFile);
        var roots = CertificateFiles.ReadCertificates(options.CaFile, "cluster authority");
        if (clientCaFile is not null && File.Exists(clientCaFile)
            && CertificateFiles.ReadCertificates(clientCaFile, "client authority").Any(c => roots.Any(r => r.Thumbprint == c.Thumbprint)))
        {
            throw new InvalidDataException($"{ClusterOptions.Section}:CaFile shares an authority with {Tls.TlsOptions.Section}:ClientCaFile: every API client with a certificate could then speak on the Raft port; give the cluster an authority of its own");
        }
        var tls = new ClusterTls(node, roots);
        if (!tls.Trusts(node.Certificate))
        {
            throw new InvalidDataException($"the certificate in {options.CertFile} is not signed by the authority in {options.CaFile}: the other nodes would refuse it");
        }
        return tls;
    }

    /// <summary>DotNext's TLS settings for the Raft transport: both sides present their certificate and check the other's.</summary>
    public DotNext.Net.Security.SslOptions RaftOptions()
    {
        var options = new DotNext.Net.Security.SslOptions();
        options.ServerOptions.ServerCertificateContext = Node.Context;
        options.ServerOptions.ClientCertificateRequired = true;
        options.ServerOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => Trusts(certificate);
        options.ClientOptions.ClientCertificateContext = Node.Context;
        // Peers are named by their authority, not by host name: a member's address may be any of its addresses.
        options.ClientOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) => Trusts(certificate);
        return options;
    }

    /// <summary>For forwarding to an https leader: the system's roots, or the cluster's authority.</summary>
    public bool TrustsServer(X509Certificate? certificate, SslPolicyErrors errors)
        => errors == SslPolicyErrors.None || ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None && Trusts(certificate));

    /// <summary>Whether <paramref name="certificate"/> chains to the cluster's authority (revocation is not checked: a private authority publishes no list).</summary>
    public bool Trusts(X509Certificate? certificate)
    {
        if (certificate is null)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
        // The certificate given is the handshake's (or this node's own): never disposed here; a copy made here is.
        if (certificate is X509Certificate2 given)
        {
            return chain.Build(given);
        }
        using var copy = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(copy);
    }
}
