using System.Net;
using Leasehold.Server.Tls;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace Leasehold.Server.Native;

/// <summary>
/// The native port: a Kestrel server of its own (so HTTP's addresses stay HTTP's), on the same addresses as HTTP,
/// with the same TLS and the same connection limit, started once HTTP listens and stopped before it.
/// </summary>
public sealed partial class NativeListener(
    NativeOptions options,
    IConfiguration configuration,
    IServiceProvider services,
    IOptions<KestrelServerOptions> http,
    LeaseholdOptions server,
    ILoggerFactory loggers) : IHostedLifecycleService
{
    /// <summary>Cluster member metadata: this node's native URL, which a follower's <c>no-leader</c> names.</summary>
    public const string EndPointMetadata = "leasehold-native";

    private readonly List<ListenOptions> _listens = [];
    private KestrelServer? _server;
    private IDisposable? _securityWatch;

    /// <summary>Where the native port listens (bound ports filled in), empty when it is off or not started.</summary>
    public IReadOnlyList<IPEndPoint> EndPoints { get; private set; } = [];

    /// <summary>The first address as a URL (<c>leasehold://</c> or <c>leaseholds://</c> with TLS), null when off.</summary>
    public string? Url { get; private set; }

    /// <summary>The port asked for: the setting, or HTTP's port + 1 (0 when HTTP's is 0); null when off.</summary>
    public static int? PortFor(NativeOptions options, IEnumerable<string> urls)
    {
        if (!options.Enabled || options.Port == -1)
        {
            return null;
        }
        if (options.Port is { } port)
        {
            return port;
        }
        foreach (var url in urls)
        {
            var address = BindingAddress.Parse(url);
            return address.Port == 0 ? 0 : address.Port + 1;
        }
        return NativeProtocolPort;
    }

    private const int NativeProtocolPort = Protocol.Native.NativeProtocol.DefaultPort;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        var urls = (configuration["urls"] ?? LeaseholdApp.DefaultUrl).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (PortFor(options, urls) is not { } port)
        {
            return;
        }
        var kestrel = new KestrelServerOptions { ApplicationServices = services };
        kestrel.Limits.MaxConcurrentConnections = http.Value.Limits.MaxConcurrentConnections;
        var tls = services.GetService<NativeTls>();
        var seen = new HashSet<IPEndPoint>();
        foreach (var url in urls)
        {
            var address = BindingAddress.Parse(url);
            var ip = address.Host switch
            {
                "localhost" => IPAddress.Loopback,
                "*" or "+" or "" => IPAddress.IPv6Any,
                var literal when IPAddress.TryParse(literal.Trim('[', ']'), out var parsed) => parsed,
                _ => IPAddress.IPv6Any,
            };
            if (!seen.Add(new IPEndPoint(ip, port)))
            {
                continue;
            }
            kestrel.Listen(ip, port, listen =>
            {
                if (tls is not null)
                {
                    var https = new HttpsConnectionAdapterOptions();
                    tls.Configure(https);
                    listen.UseHttps(https);
                }
                listen.UseConnectionHandler<NativeConnectionHandler>();
                _listens.Add(listen);
            });
        }
        // Its own socket transport, which runs the connection's code on the thread that completed the socket's
        // read or write instead of handing it to the thread pool: a native request is then read, applied on the
        // writer (inline when the writer is idle), answered and sent without a hop between threads. Safe because
        // nothing on the native path blocks (waits are awaited). Leasehold:InlineScheduling turns it off, here and for HTTP.
        // A native connection reads straight into a pooled buffer instead of first waiting for data with a zero-byte
        // read: one system call less per request (a few percent of a request's CPU, most of which is the kernel's),
        // for a 4 KiB block held by each idle connection (bounded by Leasehold:MaxConnections, which the native port shares).
        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions
        {
            UnsafePreferInlineScheduling = server.InlineScheduling,
            WaitForDataBeforeAllocatingBuffer = false,
        }), loggers);
        var shared = services.GetRequiredService<NativeShared>();
        _securityWatch = services.GetRequiredService<IOptionsMonitor<Security.SecurityOptions>>().OnChange(_ => shared.OnSecurityChanged());
        _server = new KestrelServer(Options.Create(kestrel), transport, loggers);
        await _server.StartAsync(new NoHttp(), cancellationToken).ConfigureAwait(false);
        EndPoints = [.. _listens.Select(l => l.IPEndPoint!)];
        var first = EndPoints[0];
        var host = first.Address.Equals(IPAddress.IPv6Any) || first.Address.Equals(IPAddress.Any) ? "localhost" : first.Address.ToString();
        Url = $"{(tls is null ? "leasehold" : "leaseholds")}://{(first.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && host != "localhost" ? $"[{host}]" : host)}:{first.Port}";
        LogListening(loggers.CreateLogger<NativeListener>(), string.Join(", ", EndPoints.Select(e => $"{(tls is null ? "leasehold" : "leaseholds")}://{e}")));
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        if (_server is { } server)
        {
            // Kestrel would wait (up to the host's shutdown timeout) for each connection to end on its own.
            services.GetRequiredService<NativeShared>().CloseAll();
            await server.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        _securityWatch?.Dispose();
        _server?.Dispose();
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Leasehold native protocol listening on {Urls}")]
    private static partial void LogListening(ILogger logger, string urls);

    /// <summary>The native server serves no HTTP: its endpoints all run a connection handler.</summary>
    private sealed class NoHttp : Microsoft.AspNetCore.Hosting.Server.IHttpApplication<object>
    {
        public object CreateContext(Microsoft.AspNetCore.Http.Features.IFeatureCollection contextFeatures) => new();

        public Task ProcessRequestAsync(object context) => Task.CompletedTask;

        public void DisposeContext(object context, Exception? exception)
        {
        }
    }
}
