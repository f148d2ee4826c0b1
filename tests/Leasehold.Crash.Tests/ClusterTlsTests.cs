using System.Net;
using System.Net.Http.Json;
using Leasehold.Server.Tls;

namespace Leasehold.Crash.Tests;

/// <summary>
/// Mutual TLS between cluster nodes: members with certificates of the cluster's authority form a cluster and
/// serve; a node with another authority's certificate cannot take part; a cluster beyond loopback without TLS
/// is refused at start-up.
/// </summary>
public sealed class ClusterTlsTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private readonly string _root = Directory.CreateTempSubdirectory("leasehold-cluster-tls-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>An authority and one node certificate per name, as PEM files in <c>_root/certs</c>; returns the CA file.</summary>
    private string MakeCertificates(string authority, params string[] names)
    {
        var dir = Path.Combine(_root, "certs");
        Directory.CreateDirectory(dir);
        var now = DateTimeOffset.UtcNow.AddMinutes(-5);
        using var ca = CertificateMaker.MakeAuthority(authority, now);
        PemFiles.Write(ca, dir, authority, overwrite: true);
        foreach (var name in names)
        {
            using var node = CertificateMaker.Issue(ca, name, ["localhost"], [IPAddress.Loopback], client: false, now, now.AddDays(1));
            PemFiles.Write(node, dir, name, overwrite: true);
        }
        return PemFiles.CertificatePath(dir, authority);
    }

    private string[] TlsArgs(string name, string caFile) =>
    [
        $"--Leasehold:Cluster:CertFile={PemFiles.CertificatePath(Path.Combine(_root, "certs"), name)}",
        $"--Leasehold:Cluster:KeyFile={PemFiles.KeyPath(Path.Combine(_root, "certs"), name)}",
        $"--Leasehold:Cluster:CaFile={caFile}",
    ];

    [Fact]
    public async Task Members_of_one_authority_form_a_cluster_and_a_stranger_cannot_join()
    {
        var ca = MakeCertificates("cluster-ca", "n0", "n1");
        var other = MakeCertificates("other-ca", "n2");
        using var cluster = new ClusterNodes(3, _root, i => TlsArgs($"n{i}", i == 2 ? other : ca));

        await Task.WhenAll(Enumerable.Range(0, 3).Select(i => cluster[i].StartAsync(Deadline)));
        var leader = await cluster.LeaderAsync(Deadline);
        var follower = leader == 0 ? 1 : 0;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var granted = await http.PostAsJsonAsync(new Uri(cluster[follower].BaseAddress, "v1/leases"), new { paths = new[] { "/tls/a" }, owner = "me" });

        Assert.NotEqual(2, leader);
        Assert.Equal(HttpStatusCode.Created, granted.StatusCode);
        // The stranger never learns of a leader: nothing it sends is accepted, and nothing is sent to it.
        using var stranger = await http.GetAsync(new Uri(cluster[2].BaseAddress, "readyz"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, stranger.StatusCode);
        using var through = await http.PostAsJsonAsync(new Uri(cluster[2].BaseAddress, "v1/leases"), new { paths = new[] { "/tls/b" }, owner = "me" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, through.StatusCode);
    }

    /// <summary>
    /// A caller named by its client certificate cannot be forwarded (the certificate does not travel): over HTTPS a
    /// follower redirects it to the leader (307), natively its CALL gets no-leader naming the leader, and the .NET
    /// client, given every node, goes there.
    /// </summary>
    [Fact]
    public async Task A_caller_named_by_its_client_certificate_is_sent_to_the_leader_over_https_and_natively()
    {
        var dir = Path.Combine(_root, "certs");
        Directory.CreateDirectory(dir);
        var now = DateTimeOffset.UtcNow.AddMinutes(-5);
        using var ca = CertificateMaker.MakeAuthority("api-ca", now);
        PemFiles.Write(ca, dir, "api-ca", overwrite: true);
        using (var serverCert = CertificateMaker.Issue(ca, "server", ["localhost"], [IPAddress.Loopback], client: false, now, now.AddDays(1)))
        {
            PemFiles.Write(serverCert, dir, "server", overwrite: true);
        }
        using var alice = CertificateMaker.Issue(ca, "alice", [], [], client: true, now, now.AddDays(1));
        string[] tls = ["--tls-cert", PemFiles.CertificatePath(dir, "server"), "--tls-key", PemFiles.KeyPath(dir, "server"),
            "--Leasehold:Tls:ClientCaFile=" + PemFiles.CertificatePath(dir, "api-ca"),
            "--Leasehold:Security:Rules:0:Who:0=alice", "--Leasehold:Security:Rules:0:Rights:0=lock", "--Leasehold:Security:Rules:0:Rights:1=read"];
        using var cluster = new ClusterNodes(3, _root, _ => tls, https: true) { ProbeCertificate = alice };
        await Task.WhenAll(Enumerable.Range(0, 3).Select(i => cluster[i].StartAsync(Deadline)));
        var leader = await cluster.LeaderAsync(Deadline);
        var follower = (leader + 1) % 3;

        var handler = ServerProcess.Handler(alice);
        handler.AllowAutoRedirect = false;
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
        // The follower must know whom to send callers to (readiness names the leader to a reader).
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            using (var ready = await http.GetAsync(new Uri(cluster[follower].BaseAddress, "readyz")))
            {
                if ((await ready.Content.ReadAsStringAsync()).Contains("\"leaderUrl\":\"https", StringComparison.Ordinal))
                {
                    break;
                }
            }
            Assert.True(waited.Elapsed < Deadline, $"follower {follower} names no leader");
            await Task.Delay(50);
        }
        var body = new { paths = new[] { "/tls/alice" }, owner = "alice", ttl = 600 };
        using (var redirected = await http.PostAsJsonAsync(new Uri(cluster[follower].BaseAddress, "v1/leases"), body))
        {
            Assert.Equal(HttpStatusCode.TemporaryRedirect, redirected.StatusCode);
            Assert.Equal(new Uri(cluster[leader].BaseAddress, "v1/leases"), redirected.Headers.Location);
        }
        using (var granted = await http.PostAsJsonAsync(new Uri(cluster[leader].BaseAddress, "v1/leases"), body))
        {
            Assert.Equal(HttpStatusCode.Created, granted.StatusCode);
        }

        // Natively: the follower's answer to a CALL names the leader, and the client given both nodes is served there.
        var options = new Leasehold.Client.LeaseholdClientOptions
        {
            Servers = [new Uri($"leaseholds://127.0.0.1:{cluster[follower].NativePort}"), new Uri($"leaseholds://127.0.0.1:{cluster[leader].NativePort}")],
            ClientCertificate = alice,
            CaFile = PemFiles.CertificatePath(dir, "api-ca"),
        };
        using var client = new Leasehold.Client.LeaseholdClient(options);
        var resource = await client.GetResourceAsync("/tls/alice");
        var holder = Assert.Single(resource.Holders);
        Assert.Equal("alice", holder.Owner);
        Assert.Equal("alice", holder.Principal);
    }

    [Fact]
    public async Task A_node_certificate_of_another_authority_is_refused_at_start()
    {
        var ca = MakeCertificates("cluster-ca", "n0");
        MakeCertificates("other-ca", "n1");
        using var node = new ServerProcess(Path.Combine(_root, "node"),
            ["--cluster-node", "127.0.0.1:1", "--cluster-members", "127.0.0.1:1", .. TlsArgs("n1", ca)])
        {
            FixedPort = ServerProcess.FreePort(),
        };

        var code = await node.StartExpectingRefusalAsync(Deadline);

        Assert.Equal(2, code);
        Assert.Contains("is not signed by the authority", node.OutputTail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cluster_authority_shared_with_api_client_certificates_is_refused_at_start()
    {
        var ca = MakeCertificates("cluster-ca", "n0");
        using var node = new ServerProcess(Path.Combine(_root, "node"),
            ["--cluster-node", "127.0.0.1:1", "--cluster-members", "127.0.0.1:1", .. TlsArgs("n0", ca), $"--Leasehold:Tls:ClientCaFile={ca}",
             $"--Leasehold:Tls:CertFile={PemFiles.CertificatePath(Path.Combine(_root, "certs"), "n0")}",
             $"--Leasehold:Tls:KeyFile={PemFiles.KeyPath(Path.Combine(_root, "certs"), "n0")}"])
        {
            FixedPort = ServerProcess.FreePort(),
        };

        var code = await node.StartExpectingRefusalAsync(Deadline);

        Assert.Equal(2, code);
        Assert.True(node.OutputTail.Contains("shares an authority with Leasehold:Tls:ClientCaFile", StringComparison.Ordinal), node.OutputTail);
    }

    [Fact]
    public async Task A_cluster_beyond_loopback_without_tls_is_refused_at_start()
    {
        using var node = new ServerProcess(Path.Combine(_root, "node"),
            ["--cluster-node", "127.0.0.1:7001", "--cluster-members", "127.0.0.1:7001,192.0.2.10:7001,192.0.2.11:7001",
             "--Leasehold:Cluster:PublicUrl=http://192.0.2.9:8765"])
        {
            FixedPort = ServerProcess.FreePort(),
        };

        var code = await node.StartExpectingRefusalAsync(Deadline);

        Assert.Equal(2, code);
        Assert.Contains("needs mutual TLS between its nodes", node.OutputTail, StringComparison.Ordinal);
    }
}
