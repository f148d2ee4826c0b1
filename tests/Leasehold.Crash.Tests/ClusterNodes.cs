using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Leasehold.Crash.Tests;

/// <summary>
/// A cluster of real server processes on 127.0.0.1: each node with its own HTTP and Raft ports (free ones,
/// fixed for its life, since the others address it by them) and its own data directory under the root
/// folder given. Nodes can be killed (SIGKILL), frozen (SIGSTOP) and thawed (SIGCONT), and restarted
/// on their data. Dispose kills them all.
/// </summary>
internal sealed partial class ClusterNodes : IDisposable
{
    private readonly ServerProcess[] _nodes;

    public ClusterNodes(int count, string root, params string[] extraArgs)
        : this(count, root, _ => extraArgs)
    {
    }

    /// <summary>
    /// A cluster whose nodes each get arguments of their own (<paramref name="argsOf"/> of the node's index) too; with
    /// <paramref name="https"/>, each serves HTTPS (its TLS settings among those arguments).
    /// </summary>
    public ClusterNodes(int count, string root, Func<int, string[]> argsOf, bool https = false)
    {
        // Every port of every node chosen together, distinct, and kept across restarts: a node that is down leaves its
        // ports free, and a port chosen later for another node could be one of them.
        var ports = ServerProcess.FreePorts(3 * count);
        var raftPorts = ports[..count];
        var members = string.Join(',', raftPorts.Select(p => $"127.0.0.1:{p}"));
        _nodes = [.. Enumerable.Range(0, count).Select(i => new ServerProcess(
            Path.Combine(root, $"node{i}"),
            ["--cluster-node", $"127.0.0.1:{raftPorts[i]}", "--cluster-members", members, .. argsOf(i)])
        {
            FixedPort = ports[count + i],
            FixedNativePort = ports[(2 * count) + i],
            Https = https,
        })];
        RaftPorts = raftPorts;
    }

    public IReadOnlyList<int> RaftPorts { get; }

    /// <summary>The client certificate <see cref="LeaderAsync"/> presents (with security on, readiness names roles only to readers).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ProbeCertificate { get; init; }

    public int Count => _nodes.Length;

    public ServerProcess this[int index] => _nodes[index];

    public IEnumerable<Uri> Addresses => _nodes.Select(n => n.BaseAddress);

    public async Task StartAllAsync(TimeSpan deadline)
    {
        await Task.WhenAll(_nodes.Select(n => n.StartAsync(deadline)));
        await LeaderAsync(deadline);
    }

    /// <summary>The index of the node that leads and serves, once one does (polled over /readyz).</summary>
    public async Task<int> LeaderAsync(TimeSpan deadline, int? except = null)
    {
        using var http = new HttpClient(ServerProcess.Handler(ProbeCertificate)) { Timeout = TimeSpan.FromSeconds(1) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            for (var i = 0; i < _nodes.Length; i++)
            {
                if (i == except || _nodes[i].ProcessId is null || Frozen.Contains(i))
                {
                    continue;
                }
                if (await RoleAsync(http, i) == "leader")
                {
                    return i;
                }
            }
            if (clock.Elapsed > deadline)
            {
                throw new TimeoutException($"no node led within {deadline.TotalSeconds} s. Outputs:{Environment.NewLine}{string.Join(Environment.NewLine + "----" + Environment.NewLine, _nodes.Select(n => n.OutputTail))}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>The role a node's readiness reports, or null if it does not answer.</summary>
    public async Task<string?> RoleAsync(HttpClient http, int index)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(_nodes[index].BaseAddress, "readyz"));
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return body.RootElement.TryGetProperty("cluster", out var cluster) ? cluster.GetProperty("role").GetString() : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Nodes stopped with SIGSTOP and not yet continued.</summary>
    public HashSet<int> Frozen { get; } = [];

    public void Freeze(int index)
    {
        Signal(index, SigStop);
        Frozen.Add(index);
    }

    public void Thaw(int index)
    {
        Signal(index, SigCont);
        Frozen.Remove(index);
    }

    private void Signal(int index, int signal)
    {
        var pid = _nodes[index].ProcessId ?? throw new InvalidOperationException($"node {index} is not running");
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public void Dispose()
    {
        foreach (var index in Frozen.ToList())
        {
            Thaw(index);
        }
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
    }

    private const int SigCont = 18;
    private const int SigStop = 19;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
