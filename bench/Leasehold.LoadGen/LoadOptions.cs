using System.Globalization;

namespace Leasehold.LoadGen;

internal enum Scenario
{
    Uncontended,
    Contended,
}

/// <summary>
/// The system under load: a Leasehold server (one node or a cluster), an etcd cluster's Lock API, one Redis
/// (SET NX PX + compare-and-delete), or a loopback echo server (the physical bound).
/// </summary>
internal enum TargetKind
{
    Leasehold,
    Etcd,
    Redis,
    Echo,
}

/// <summary>How a Leasehold server is spoken to: its native protocol or HTTP (both through the .NET client), raw HTTP, or raw native frames.</summary>
internal enum Protocol
{
    RawHttp,
    Native,
    Http,
    NativeRaw,
}

/// <summary>Command-line options. Every run is bounded: warmup + duration, then the clients stop.</summary>
internal sealed record LoadOptions
{
    public const string Usage = """
        Leasehold load generator: N concurrent clients, each a closed loop of acquire + release.
        Against Leasehold: POST /v1/leases + DELETE /v1/leases/{id} (raw HTTP), or the .NET client over the
        native protocol (a leasehold:// URL, or --protocol native) or HTTP (--protocol http). Against etcd
        (--target etcd), what etcd's own lock tools do over gRPC: LeaseGrant + Lock, then Unlock + LeaseRevoke.
        Against Redis (--target redis), through StackExchange.Redis: SET key token NX PX ttl, then a
        compare-and-delete script (a taken key is retried at once until the wait ends: Redis spins).
        Against a loopback echo server (--target echo): two round trips of 64 and 32 bytes per cycle.

        options:
          --target NAME       leasehold (default), etcd, redis or echo
          --url URL           a node to load, loopback only, repeatable: client c uses URL c % count
                              (default http://127.0.0.1:8765; leasehold://127.0.0.1:8766 for the native
                              protocol; for etcd a client URL such as http://127.0.0.1:2379; for redis and
                              echo tcp://127.0.0.1:PORT)
          --protocol NAME     Leasehold: raw-http (default: the load generator's own minimal HTTP client),
                              native-raw (native frames written with the protocol's codec, no client
                              library: one connection per load client, HELLO, then ACQUIRE and RELEASE),
                              native or http (both through Leasehold's .NET client, one per load client)
          --clients N         concurrent clients, one connection each (default 64; etcd: one gRPC channel per node)
          --duration S        measured seconds (default 10)
          --warmup S          seconds run before measuring (default 2)
          --scenario NAME     uncontended: client c loops over /load/c{c}/{i % 16}
                              contended:   every client queues for /load/contended (with --wait)
          --wait S            wait sent with contended requests, seconds (default 30)
          --hold-ms MS        time to hold each lease before releasing it (default 0)
          --ttl S             time to live of each lease, seconds (default: Leasehold none, etcd 60)
          --spawn             start the target itself on free loopback ports with temporary data dirs
          --nodes N           with --spawn: how many nodes (Leasehold: 1 = one server, 3 = a cluster;
                              etcd: members; default 1 for Leasehold, 3 for etcd)
          --send-to MODE      several nodes: spread (default: client c uses node c % nodes; Leasehold's
                              followers forward to the leader, etcd's pass proposals on through Raft) or
                              leader (every client to the leader: Leasehold's GET /v1/cluster of the first
                              node names it, etcd's Maintenance.Status of each member)
          --server-dll PATH   the Leasehold.Server.dll to start with --spawn
          --server-arg ARG    one more argument for each spawned Leasehold server, repeatable
                              (e.g. --server-arg --Leasehold:Durability=memory)
          --server-env NAME=VALUE
                              one more environment variable for each spawned Leasehold server only, repeatable
                              (e.g. --server-env DOTNET_gcServer=0: the load generator keeps its own settings)
          --etcd PATH         the etcd binary to start with --spawn --target etcd (default etcd, from PATH)
          --redis PATH        the redis-server binary to start with --spawn --target redis (default from PATH)
          --redis-fsync       with --spawn --target redis: appendonly yes + appendfsync always (default:
                              in memory, no persistence)
          --echo-kestrel      with --spawn --target echo: the echo server is a Kestrel connection handler on
                              the socket transport set as Leasehold's native port sets it (default: plain
                              sockets), to tell the transport's cost from the server's own
          --api-key KEY       send Authorization: Bearer KEY (a Leasehold server with security on)
        """;

    public TargetKind Target { get; init; } = TargetKind.Leasehold;

    /// <summary>The spawned echo server runs on Kestrel's socket transport rather than on plain sockets.</summary>
    public bool EchoKestrel { get; init; }

    public IReadOnlyList<Uri> Urls { get; init; } = [new("http://127.0.0.1:8765/")];

    public int Clients { get; init; } = 64;

    public double DurationSeconds { get; init; } = 10;

    public double WarmupSeconds { get; init; } = 2;

    public Scenario Scenario { get; init; } = Scenario.Uncontended;

    public double WaitSeconds { get; init; } = 30;

    public int HoldMs { get; init; }

    /// <summary>The lease time to live sent with each acquire; null: Leasehold gets none, etcd gets <see cref="EtcdDefaultTtl"/>.</summary>
    public int? TtlSeconds { get; init; }

    public const int EtcdDefaultTtl = 60;

    /// <summary>The ttl of a Redis key, and of a lease taken through the .NET client, when --ttl is not given.</summary>
    public const int RedisDefaultTtl = 60;

    public Protocol Protocol { get; init; } = Protocol.RawHttp;

    public string RedisPath { get; init; } = "redis-server";

    public bool RedisFsync { get; init; }

    public bool Spawn { get; init; }

    /// <summary>Nodes to spawn; null: the target's default (Leasehold 1, etcd 3).</summary>
    public int? Nodes { get; init; }

    public string? ServerDll { get; init; }

    /// <summary>Leasehold cluster: send everything to the leader instead of spreading clients over the nodes.</summary>
    public bool SendToLeader { get; init; }

    public IReadOnlyList<string> ServerArgs { get; init; } = [];

    /// <summary>Environment variables (NAME=VALUE) set for the spawned Leasehold servers only.</summary>
    public IReadOnlyList<string> ServerEnv { get; init; } = [];

    public string EtcdPath { get; init; } = "etcd";

    /// <summary>The credential every request carries, for a server with security on; null: none.</summary>
    public string? ApiKey { get; init; }

    public int NodeCount => Nodes ?? (Target == TargetKind.Etcd ? 3 : 1);

    /// <summary>Parses the arguments; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(string[] args, out LoadOptions options, out string error)
    {
        options = new LoadOptions();
        error = "";
        List<Uri>? urls = null;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (name == "--spawn")
            {
                options = options with { Spawn = true };
                continue;
            }
            if (name == "--redis-fsync")
            {
                options = options with { RedisFsync = true };
                continue;
            }
            if (name == "--echo-kestrel")
            {
                options = options with { EchoKestrel = true };
                continue;
            }
            if (i + 1 >= args.Length)
            {
                error = $"{name} needs a value";
                return false;
            }
            var value = args[++i];
            switch (name)
            {
                case "--target" when Enum.TryParse<TargetKind>(value, ignoreCase: true, out var target) && Enum.IsDefined(target):
                    options = options with { Target = target };
                    break;
                case "--url" when Uri.TryCreate(value.EndsWith('/') ? value : value + "/", UriKind.Absolute, out var url):
                    (urls ??= []).Add(url);
                    break;
                case "--clients" when int.TryParse(value, CultureInfo.InvariantCulture, out var clients) && clients is > 0 and <= 4096:
                    options = options with { Clients = clients };
                    break;
                case "--duration" when TryParseSeconds(value, 3600, out var duration) && duration > 0:
                    options = options with { DurationSeconds = duration };
                    break;
                case "--warmup" when TryParseSeconds(value, 3600, out var warmup):
                    options = options with { WarmupSeconds = warmup };
                    break;
                case "--wait" when TryParseSeconds(value, 3600, out var wait):
                    options = options with { WaitSeconds = wait };
                    break;
                case "--hold-ms" when int.TryParse(value, CultureInfo.InvariantCulture, out var hold) && hold is >= 0 and <= 60_000:
                    options = options with { HoldMs = hold };
                    break;
                case "--ttl" when int.TryParse(value, CultureInfo.InvariantCulture, out var ttl) && ttl is >= 5 and <= 86_400:
                    options = options with { TtlSeconds = ttl };
                    break;
                case "--scenario" when Enum.TryParse<Scenario>(value, ignoreCase: true, out var scenario) && Enum.IsDefined(scenario):
                    options = options with { Scenario = scenario };
                    break;
                case "--nodes" when int.TryParse(value, CultureInfo.InvariantCulture, out var nodes) && nodes is >= 1 and <= 7:
                    options = options with { Nodes = nodes };
                    break;
                case "--send-to" when value is "spread" or "leader":
                    options = options with { SendToLeader = value == "leader" };
                    break;
                case "--server-dll":
                    options = options with { ServerDll = value };
                    break;
                case "--server-arg":
                    options = options with { ServerArgs = [.. options.ServerArgs, value] };
                    break;
                case "--server-env" when value.IndexOf('=') > 0:
                    options = options with { ServerEnv = [.. options.ServerEnv, value] };
                    break;
                case "--etcd":
                    options = options with { EtcdPath = value };
                    break;
                case "--redis":
                    options = options with { RedisPath = value };
                    break;
                case "--protocol" when value is "raw-http" or "native" or "http" or "native-raw":
                    options = options with
                    {
                        Protocol = value switch { "native" => Protocol.Native, "http" => Protocol.Http, "native-raw" => Protocol.NativeRaw, _ => Protocol.RawHttp },
                    };
                    break;
                case "--api-key":
                    options = options with { ApiKey = value };
                    break;
                default:
                    error = $"bad option or value: {name} {value}";
                    return false;
            }
        }
        if (urls is not null)
        {
            options = options with { Urls = urls };
        }
        else if (!options.Spawn && options.Target is TargetKind.Redis or TargetKind.Echo)
        {
            error = "give the server with --url tcp://127.0.0.1:PORT, or --spawn";
            return false;
        }
        else if (options.Protocol is Protocol.Native or Protocol.NativeRaw)
        {
            options = options with { Urls = [new("leasehold://127.0.0.1:8766/")] };
        }
        if (urls is not null && urls.Any(u => u.Scheme == "leasehold"))
        {
            if (options.Protocol == Protocol.Http)
            {
                error = "a leasehold:// URL is the native protocol: give no --protocol http with it";
                return false;
            }
            if (options.Protocol != Protocol.NativeRaw)
            {
                options = options with { Protocol = Protocol.Native };
            }
        }
        var scheme = options.Target switch
        {
            TargetKind.Redis or TargetKind.Echo => "tcp",
            TargetKind.Leasehold when options.Protocol is Protocol.Native or Protocol.NativeRaw => "leasehold",
            _ => Uri.UriSchemeHttp,
        };
        if (urls is not null && urls.FirstOrDefault(u => !u.IsLoopback || u.Scheme != scheme) is { } bad)
        {
            error = $"--url must be {scheme}:// on a loopback address for this target, not {bad}";
            return false;
        }
        if (options.Target is TargetKind.Redis or TargetKind.Echo && options.NodeCount != 1)
        {
            error = "redis and echo run as one process: --nodes is 1 for them";
            return false;
        }
        if (options.Target == TargetKind.Echo && options.Scenario == Scenario.Contended)
        {
            error = "the echo server holds no lock: it runs the uncontended scenario only";
            return false;
        }
        if (!options.Spawn && (options.ServerArgs.Count > 0 || options.ServerEnv.Count > 0))
        {
            error = "--server-arg and --server-env are for the servers --spawn starts";
            return false;
        }
        if (options.EchoKestrel && (options.Target != TargetKind.Echo || !options.Spawn))
        {
            error = "--echo-kestrel is for --spawn --target echo";
            return false;
        }
        if (options.Target != TargetKind.Redis && (options.RedisFsync || options.RedisPath != "redis-server"))
        {
            error = "--redis and --redis-fsync are for --target redis";
            return false;
        }
        if (options.SendToLeader && options.Protocol != Protocol.RawHttp)
        {
            error = "--send-to leader is for raw-http (the .NET client finds the leader itself)";
            return false;
        }
        if (options.Target != TargetKind.Leasehold && options.Protocol != Protocol.RawHttp)
        {
            error = "--protocol is for --target leasehold";
            return false;
        }
        if (options.Spawn && urls is not null)
        {
            error = "--spawn starts its own nodes: give no --url with it";
            return false;
        }
        if (!options.Spawn && options.Nodes is not null)
        {
            error = "--nodes is for --spawn; without it, give one --url per node";
            return false;
        }
        if (options.Spawn && options.Target == TargetKind.Leasehold && string.IsNullOrEmpty(options.ServerDll))
        {
            error = "--spawn needs --server-dll PATH";
            return false;
        }
        if (options.Target == TargetKind.Leasehold && options.Spawn && options.NodeCount == 2)
        {
            error = "a Leasehold cluster needs 3 or more nodes (2 cannot lose one); --nodes 1 is one server";
            return false;
        }
        if (options.SendToLeader && options.Target is not (TargetKind.Leasehold or TargetKind.Etcd))
        {
            error = "--send-to is for --target leasehold or etcd";
            return false;
        }
        if (options.Target != TargetKind.Leasehold && (options.ServerDll is not null || options.ServerArgs.Count > 0 || options.ServerEnv.Count > 0 || options.ApiKey is not null))
        {
            error = "--server-dll, --server-arg, --server-env and --api-key are for --target leasehold";
            return false;
        }
        return true;
    }

    private static bool TryParseSeconds(string text, double max, out double seconds)
        => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) && seconds >= 0 && seconds <= max;
}
