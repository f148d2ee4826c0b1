using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Leasehold.LoadGen;

/// <summary>
/// The processes of one target started for a run, on free loopback ports, each node with its own
/// temporary data directory under one temporary folder: a Leasehold server, a Leasehold cluster or an
/// etcd cluster. Ready when every node answers its readiness check; stopped, and the folder removed,
/// on dispose (the folder and its logs are kept when starting failed).
/// </summary>
internal sealed class Deployment : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly List<SpawnedProcess> _processes = [];
    private readonly DirectoryInfo _dir;
    private bool _keep;

    private Deployment(DirectoryInfo dir) => _dir = dir;

    public IReadOnlyList<Uri> Urls { get; private set; } = [];

    /// <summary>A Leasehold deployment's HTTP URLs (what readiness and the leader's address are asked at), whatever <see cref="Urls"/> speaks.</summary>
    public IReadOnlyList<Uri> HttpUrls { get; private set; } = [];

    /// <summary>What was started, for the report.</summary>
    public string Description { get; private set; } = "";

    /// <summary>How many processes were started.</summary>
    public int Processes => _processes.Count;

    /// <summary>CPU time of all the target's processes so far.</summary>
    public TimeSpan CpuTime => _processes.Aggregate(TimeSpan.Zero, (sum, p) => sum + p.CpuTime);

    /// <summary>
    /// One Leasehold server (NodeCount 1), or a cluster: each node the ordinary server with
    /// --Leasehold:Cluster:Node (its Raft endpoint) and --Leasehold:Cluster:Members:i (every member's, itself
    /// included), its own --urls and --data-dir.
    /// </summary>
    public static async Task<Deployment> StartLeaseholdAsync(LoadOptions options, CancellationToken cancel)
    {
        var serverDll = Path.GetFullPath(options.ServerDll!);
        if (!File.Exists(serverDll))
        {
            throw new FileNotFoundException($"server dll not found: {serverDll}", serverDll);
        }
        var nodes = options.NodeCount;
        // per node: HTTP, native; then one Raft port per node for a cluster
        var ports = FreeLoopbackPorts(nodes == 1 ? 2 : 3 * nodes);
        var deployment = new Deployment(Directory.CreateTempSubdirectory("leasehold-load-"));
        try
        {
            var raft = nodes == 1 ? [] : ports[(2 * nodes)..].Select(p => $"127.0.0.1:{p}").ToArray();
            var urls = new List<Uri>();
            var nativeUrls = new List<Uri>();
            for (var n = 0; n < nodes; n++)
            {
                var url = $"http://127.0.0.1:{ports[n]}";
                urls.Add(new Uri(url + "/"));
                nativeUrls.Add(new Uri($"leasehold://127.0.0.1:{ports[nodes + n]}/"));
                var args = new List<string>
                {
                    serverDll, "--urls", url, "--data-dir", deployment.NodeDir(n, nodes),
                    string.Create(CultureInfo.InvariantCulture, $"--Leasehold:Native:Port={ports[nodes + n]}"),
                };
                if (nodes > 1)
                {
                    args.Add($"--Leasehold:Cluster:Node={raft[n]}");
                    args.AddRange(raft.Select((endpoint, i) => string.Create(CultureInfo.InvariantCulture, $"--Leasehold:Cluster:Members:{i}={endpoint}")));
                }
                args.AddRange(options.ServerArgs);
                deployment.Start("dotnet", args, n, nodes, options.ServerEnv);
            }
            deployment.Urls = options.Protocol is Protocol.Native or Protocol.NativeRaw ? nativeUrls : urls;
            deployment.HttpUrls = urls;
            deployment.Description = nodes == 1
                ? $"leasehold server {string.Join(' ', options.ServerArgs)} on {urls[0]} and {nativeUrls[0]}"
                : $"leasehold cluster of {nodes} {string.Join(' ', options.ServerArgs)}: http {string.Join(", ", urls)}; native {string.Join(", ", nativeUrls)}; raft {string.Join(", ", raft)}";
            await deployment.WaitReadyAsync(new LeaseholdTarget(options with { Urls = urls, Protocol = Protocol.RawHttp }), cancel);
            if (nodes > 1)
            {
                await VerifyOneClusterAsync(options with { Urls = urls, Protocol = Protocol.RawHttp }, cancel);
            }
            return deployment;
        }
        catch (Exception e)
        {
            // independent servers: their logs say only that the Cluster settings were unknown
            await deployment.FailAsync(keepLogs: e is not NotOneClusterException);
            throw;
        }
    }

    /// <summary>
    /// An etcd cluster of NodeCount members on loopback, started together with a
    /// static --initial-cluster, default settings otherwise (every commit fsynced, as etcd always does).
    /// </summary>
    public static async Task<Deployment> StartEtcdAsync(LoadOptions options, CancellationToken cancel)
    {
        if (!CanRun(options.EtcdPath))
        {
            throw new FileNotFoundException($"{options.EtcdPath} not found: install etcd (Debian: apt-get install etcd-server) or pass --etcd PATH", options.EtcdPath);
        }
        var members = options.NodeCount;
        var ports = FreeLoopbackPorts(2 * members);
        var deployment = new Deployment(Directory.CreateTempSubdirectory("leasehold-load-etcd-"));
        try
        {
            var names = Enumerable.Range(1, members).Select(i => $"n{i}").ToArray();
            var clientUrls = ports[..members].Select(p => $"http://127.0.0.1:{p}").ToArray();
            var peerUrls = ports[members..].Select(p => $"http://127.0.0.1:{p}").ToArray();
            var initialCluster = string.Join(',', names.Select((name, i) => $"{name}={peerUrls[i]}"));
            var token = $"leasehold-bench-{Environment.ProcessId}-{Stopwatch.GetTimestamp()}";
            for (var n = 0; n < members; n++)
            {
                deployment.Start(options.EtcdPath,
                [
                    "--name", names[n],
                    "--data-dir", deployment.NodeDir(n, members),
                    "--listen-client-urls", clientUrls[n],
                    "--advertise-client-urls", clientUrls[n],
                    "--listen-peer-urls", peerUrls[n],
                    "--initial-advertise-peer-urls", peerUrls[n],
                    "--initial-cluster", initialCluster,
                    "--initial-cluster-token", token,
                    "--initial-cluster-state", "new",
                    "--logger", "zap",
                    "--log-outputs", "stderr",
                ], n, members);
            }
            var urls = clientUrls.Select(u => new Uri(u + "/")).ToArray();
            deployment.Urls = urls;
            deployment.Description = $"etcd cluster of {members} ({options.EtcdPath}): clients {string.Join(", ", clientUrls)}; peers {string.Join(", ", peerUrls)}";
            await deployment.WaitReadyAsync(new EtcdTarget(options with { Urls = urls }), cancel);
            return deployment;
        }
        catch
        {
            await deployment.FailAsync(keepLogs: true);
            throw;
        }
    }

    /// <summary>
    /// One redis-server on a free loopback port with a temporary directory: in memory (no snapshots, no
    /// append-only file), or with <see cref="LoadOptions.RedisFsync"/> an append-only file fsynced on every
    /// write (appendfsync always), Redis's most durable mode.
    /// </summary>
    public static async Task<Deployment> StartRedisAsync(LoadOptions options, CancellationToken cancel)
    {
        if (!CanRun(options.RedisPath))
        {
            throw new FileNotFoundException($"{options.RedisPath} not found: install Redis (Debian: apt-get install redis-server) or pass --redis PATH", options.RedisPath);
        }
        var port = FreeLoopbackPorts(1)[0];
        var deployment = new Deployment(Directory.CreateTempSubdirectory("leasehold-load-redis-"));
        try
        {
            var dir = deployment.NodeDir(0, 1);
            Directory.CreateDirectory(dir);
            List<string> args =
            [
                "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", dir,
                "--save", "", "--daemonize", "no", "--protected-mode", "yes",
            ];
            args.AddRange(options.RedisFsync ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]);
            deployment.Start(options.RedisPath, args, 0, 1);
            var url = new Uri($"tcp://127.0.0.1:{port}/");
            deployment.Urls = [url];
            deployment.Description = $"redis-server ({(options.RedisFsync ? "appendonly yes, appendfsync always" : "in memory")}) on {url}";
            await deployment.WaitReadyAsync(new RedisTarget(options with { Urls = [url] }), cancel);
            return deployment;
        }
        catch
        {
            await deployment.FailAsync(keepLogs: true);
            throw;
        }
    }

    /// <summary>The echo server (<see cref="EchoServer"/>): this load generator started again as a child process.</summary>
    public static async Task<Deployment> StartEchoAsync(LoadOptions options, CancellationToken cancel)
    {
        var port = FreeLoopbackPorts(1)[0];
        var deployment = new Deployment(Directory.CreateTempSubdirectory("leasehold-load-echo-"));
        try
        {
            var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell this program's path");
            var args = new List<string>();
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                args.Add(typeof(Deployment).Assembly.Location);
            }
            args.AddRange(["--echo-server", port.ToString(CultureInfo.InvariantCulture)]);
            if (options.EchoKestrel)
            {
                args.Add(EchoServer.Kestrel);
            }
            deployment.Start(self, args, 0, 1);
            var url = new Uri($"tcp://127.0.0.1:{port}/");
            deployment.Urls = [url];
            deployment.Description = $"echo server ({(options.EchoKestrel ? "Kestrel connection handler" : "sockets")}) on {url}";
            await deployment.WaitReadyAsync(new EchoTarget(options with { Urls = [url] }), cancel);
            return deployment;
        }
        catch
        {
            await deployment.FailAsync(keepLogs: true);
            throw;
        }
    }

    /// <summary>
    /// Checks that the nodes are one cluster and not independent servers (a server built without the
    /// cluster ignores the Cluster settings and would start alone): a lease taken through the first node
    /// must make the other nodes answer 409 locked for the same path.
    /// </summary>
    private static async Task VerifyOneClusterAsync(LoadOptions options, CancellationToken cancel)
    {
        await using var target = new LeaseholdTarget(options with { Clients = options.Urls.Count, TtlSeconds = 30 });
        var probe = target.Prepare(0, "/load/cluster-check", null);
        var (held, error) = await target.AcquireAsync(0, probe, cancel);
        if (held is null)
        {
            throw new InvalidOperationException($"cluster check through {options.Urls[0]}: {error}");
        }
        try
        {
            for (var n = 1; n < options.Urls.Count; n++)
            {
                var (other, otherError) = await target.AcquireAsync(n, probe, cancel);
                if (other is not null)
                {
                    throw new NotOneClusterException(
                        $"{options.Urls[n]} granted a path that {options.Urls[0]} holds: the nodes are independent servers, not one cluster (a server built without the cluster?)");
                }
                if (otherError != "acquire: HTTP 409")
                {
                    throw new InvalidOperationException($"cluster check through {options.Urls[n]}: {otherError} (expected HTTP 409, locked)");
                }
            }
        }
        finally
        {
            await target.ReleaseAsync(0, held, cancel);
        }
    }

    /// <summary>Whether <paramref name="program"/> is a file, or a name found on PATH.</summary>
    private static bool CanRun(string program)
        => program.Contains('/')
            ? File.Exists(program)
            : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Any(dir => File.Exists(Path.Combine(dir, program)));

    private string NodeDir(int n, int nodes) => Path.Combine(_dir.FullName, nodes == 1 ? "data" : $"n{n + 1}");

    private void Start(string fileName, IEnumerable<string> args, int n, int nodes, IReadOnlyList<string>? environment = null)
    {
        var log = Path.Combine(_dir.FullName, nodes == 1 ? "server.log" : $"n{n + 1}.log");
        _processes.Add(SpawnedProcess.Start(fileName, args, log, environment));
    }

    private async Task WaitReadyAsync(ILockTarget probe, CancellationToken cancel)
    {
        await using var _ = probe;
        var deadline = Stopwatch.StartNew();
        string? notReady = "not asked yet";
        while (deadline.Elapsed < StartTimeout)
        {
            if (_processes.FirstOrDefault(p => p.HasExited) is { } exited)
            {
                throw new InvalidOperationException($"a node exited with code {exited.ExitCode}; see {exited.LogPath}");
            }
            notReady = await probe.CheckReadyAsync(cancel);
            if (notReady is null)
            {
                return;
            }
            await Task.Delay(100, cancel);
        }
        throw new TimeoutException($"not ready within {StartTimeout.TotalSeconds} s ({notReady}); logs in {_dir.FullName}");
    }

    /// <summary>Free loopback ports, all held open at once so that no two are the same.</summary>
    private static int[] FreeLoopbackPorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var listener in listeners)
            {
                listener.Start();
            }
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    private ValueTask FailAsync(bool keepLogs)
    {
        _keep = keepLogs;
        return DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
        _processes.Clear();
        if (_keep)
        {
            Console.Error.WriteLine($"logs kept in {_dir.FullName}");
            return;
        }
        try
        {
            _dir.Delete(recursive: true);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"could not remove {_dir.FullName}: {e.Message}");
        }
    }
}

/// <summary>The spawned Leasehold nodes answered as independent servers, not as one cluster.</summary>
internal sealed class NotOneClusterException(string message) : InvalidOperationException(message);
