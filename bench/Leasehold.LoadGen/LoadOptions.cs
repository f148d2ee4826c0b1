using System.Globalization;

namespace Leasehold.LoadGen;

internal enum Scenario
{
    Uncontended,
    Contended,
}

/// <summary>Command-line options. Every run is bounded: warmup + duration, then the clients stop.</summary>
internal sealed record LoadOptions
{
    public const string Usage = """
        Leasehold load generator: drives POST /v1/leases + DELETE /v1/leases/{id} from N concurrent clients.

        options:
          --url URL           server to load, loopback only (default http://127.0.0.1:8765)
          --clients N         concurrent clients, one connection each (default 64)
          --duration S        measured seconds (default 10)
          --warmup S          seconds run before measuring (default 2)
          --scenario NAME     uncontended: client c loops over /load/c{c}/{i % 16}
                              contended:   every client queues for /load/contended (with --wait)
          --wait S            wait sent with contended requests, seconds (default 30)
          --hold-ms MS        time to hold each lease before releasing it (default 0)
          --spawn             start the server itself on a free loopback port with a temporary data dir
          --server-dll PATH   the Leasehold.Server.dll to start with --spawn
          --server-arg ARG    one more argument for the spawned server, repeatable
                              (e.g. --server-arg --Leasehold:Durability=memory)
          --api-key KEY       send Authorization: Bearer KEY (a server with security on)
        """;

    public Uri Url { get; init; } = new("http://127.0.0.1:8765/");

    public int Clients { get; init; } = 64;

    public double DurationSeconds { get; init; } = 10;

    public double WarmupSeconds { get; init; } = 2;

    public Scenario Scenario { get; init; } = Scenario.Uncontended;

    public double WaitSeconds { get; init; } = 30;

    public int HoldMs { get; init; }

    public bool Spawn { get; init; }

    public string? ServerDll { get; init; }

    public IReadOnlyList<string> ServerArgs { get; init; } = [];

    /// <summary>The credential every request carries, for a server with security on; null: none.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Parses the arguments; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(string[] args, out LoadOptions options, out string error)
    {
        options = new LoadOptions();
        error = "";
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (name == "--spawn")
            {
                options = options with { Spawn = true };
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
                case "--url" when Uri.TryCreate(value.EndsWith('/') ? value : value + "/", UriKind.Absolute, out var url):
                    options = options with { Url = url };
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
                case "--scenario" when Enum.TryParse<Scenario>(value, ignoreCase: true, out var scenario):
                    options = options with { Scenario = scenario };
                    break;
                case "--server-dll":
                    options = options with { ServerDll = value };
                    break;
                case "--server-arg":
                    options = options with { ServerArgs = [.. options.ServerArgs, value] };
                    break;
                case "--api-key":
                    options = options with { ApiKey = value };
                    break;
                default:
                    error = $"bad option or value: {name} {value}";
                    return false;
            }
        }
        if (!options.Url.IsLoopback || options.Url.Scheme != Uri.UriSchemeHttp)
        {
            error = $"--url must be plain http on a loopback address, not {options.Url}";
            return false;
        }
        if (options.Spawn && string.IsNullOrEmpty(options.ServerDll))
        {
            error = "--spawn needs --server-dll PATH";
            return false;
        }
        return true;
    }

    private static bool TryParseSeconds(string text, double max, out double seconds)
        => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) && seconds >= 0 && seconds <= max;
}
