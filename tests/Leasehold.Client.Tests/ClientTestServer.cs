using System.Net;
using System.Text;
using System.Text.Json;
using Leasehold.Protocol;
using Leasehold.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Client.Tests;

/// <summary>
/// The real server, in process, on a loopback port (0: a free one), with its own fresh data directory
/// (deleted on dispose). It can be stopped and started again on the same port, which is how the tests
/// show a client what a restart looks like. Everything goes through real sockets.
/// </summary>
public sealed class ClientTestServer : IAsyncDisposable
{
    /// <summary>The bound on every single wait in the tests.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly string[] _extraArgs;
    private readonly string? _pathPrefix;
    private readonly List<LeaseholdClient> _clients = [];
    private WebApplication? _app;

    private ClientTestServer(string dataDir, string? pathPrefix, string[] extraArgs)
    {
        DataDir = dataDir;
        _pathPrefix = pathPrefix;
        _extraArgs = extraArgs;
    }

    public string DataDir { get; }

    /// <summary>Where the server listens (with the path prefix, if any, and no final '/'); the same across <see cref="RestartAsync"/>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public int Port { get; private set; }

    /// <summary>Plain HTTP to the server, for what the client does not do (declaring resources, stats).</summary>
    public HttpClient Http { get; private set; } = null!;

    /// <summary>Starts a server; <paramref name="extraArgs"/> are more command-line settings, such as <c>--Leasehold:Durability=memory</c>.</summary>
    public static Task<ClientTestServer> StartAsync(params string[] extraArgs) => StartAsync(null, extraArgs);

    /// <summary>
    /// Starts a server; with <paramref name="pathPrefix"/> (such as <c>/leasehold</c>) it answers only under
    /// that prefix, as it would behind a reverse proxy that forwards a sub-path, and 404 elsewhere.
    /// </summary>
    public static async Task<ClientTestServer> StartAsync(string? pathPrefix, params string[] extraArgs)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "leasehold-client-test-" + Guid.NewGuid().ToString("N"));
        var server = new ClientTestServer(dataDir, pathPrefix, extraArgs);
        try
        {
            // Both ports are the system's choice (a port picked here, free a moment ago, could be taken by another test
            // before the server bound it); a restart binds the same ones again.
            await server.StartOnAsync(0, 0);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The server's native address (<c>leasehold://127.0.0.1:port</c>); the same across <see cref="RestartAsync"/>.</summary>
    public Uri NativeAddress { get; private set; } = null!;

    /// <summary>The port of the native protocol.</summary>
    public int NativePort { get; private set; }

    /// <summary>The server's address for <paramref name="transport"/>.</summary>
    public Uri AddressOf(ClientTransport transport) => transport == ClientTransport.Native ? NativeAddress : BaseAddress;

    /// <summary>The port of <paramref name="transport"/>.</summary>
    public int PortOf(ClientTransport transport) => transport == ClientTransport.Native ? NativePort : Port;

    /// <summary>A client of this server over HTTP, disposed with it.</summary>
    public LeaseholdClient CreateClient(Action<LeaseholdClientOptions>? configure = null) => CreateClient(ClientTransport.Http, configure);

    /// <summary>A client of this server over <paramref name="transport"/>, disposed with it.</summary>
    public LeaseholdClient CreateClient(ClientTransport transport, Action<LeaseholdClientOptions>? configure = null)
    {
        var options = new LeaseholdClientOptions { Server = AddressOf(transport) };
        configure?.Invoke(options);
        var client = new LeaseholdClient(options);
        _clients.Add(client);
        return client;
    }

    /// <summary>Stops the server; its port stays unused until <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_app is null)
        {
            return;
        }
        var app = _app;
        _app = null;
        Http.Dispose();
        using (var cts = new CancellationTokenSource(Timeout))
        {
            await app.StopAsync(cts.Token);
        }
        await app.DisposeAsync();
    }

    /// <summary>Stops the server (if running) and starts a new one on the same port and data directory.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        // The same ports again. The system hands out ports of one range to listeners and to outgoing connections alike, so
        // another test's connection may hold one for a moment (seen in a clean-clone run): the bind is tried again, bounded.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartOnAsync(Port, NativePort);
                return;
            }
            catch (Exception ex) when (InUse(ex) && clock.Elapsed < Timeout && attempt < 100)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100));
            }
        }

        static bool InUse(Exception? ex)
        {
            for (; ex is not null; ex = ex.InnerException)
            {
                if (ex is Microsoft.AspNetCore.Connections.AddressInUseException
                    || ex is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse })
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>Declares a resource: <c>PUT /v1/resources{path}</c> with the attributes as the body.</summary>
    public async Task DeclareAsync(string path, string attributesJson)
    {
        using var content = new StringContent(attributesJson, Encoding.UTF8, "application/json");
        using var response = await Http.PutAsync(new Uri("v1/resources" + path, UriKind.Relative), content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"declaring {path}: {(int)response.StatusCode} {body}");
    }

    /// <summary>The running server's event hub (its open streams, the cut-offs it made).</summary>
    public Leasehold.Server.Events.EventHub Events => (_app ?? throw new InvalidOperationException("the server is stopped")).Services.GetRequiredService<Leasehold.Server.Events.EventHub>();

    /// <summary>The server's counters (<c>GET /v1/stats</c>).</summary>
    public async Task<StatsDto> StatsAsync()
    {
        using var response = await Http.GetAsync(new Uri("v1/stats", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stats = await JsonSerializer.DeserializeAsync(await response.Content.ReadAsStreamAsync(), ProtocolJsonContext.Default.StatsDto);
        return stats ?? throw new InvalidOperationException("empty stats");
    }

    private async Task StartOnAsync(int port, int nativePort)
    {
        var app = LeaseholdApp.Build([
            "--urls", $"http://127.0.0.1:{port}",
            $"--Leasehold:Native:Port={nativePort}",
            "--data-dir", DataDir,
            "--Logging:LogLevel:Default=Warning",
            .. _extraArgs,
        ], services =>
        {
            if (_pathPrefix is not null)
            {
                services.AddSingleton<IStartupFilter>(new PrefixOnly(_pathPrefix));
            }
        });
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            await app.StartAsync(cts.Token);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        _app = app;
        var root = new Uri(app.Urls.Single());
        Port = root.Port;
        BaseAddress = new Uri(root, _pathPrefix ?? "/");
        Http = new HttpClient { BaseAddress = new Uri(BaseAddress.AbsoluteUri.TrimEnd('/') + "/"), Timeout = Timeout };
        var native = app.Services.GetRequiredService<Leasehold.Server.Native.NativeListener>().EndPoints;
        NativePort = nativePort == 0 && native.Count > 0 ? native[0].Port : nativePort;
        NativeAddress = DeadNode.Loopback(ClientTransport.Native, NativePort);
        // Warm up: the first requests build the endpoints and run the writer for the first time, which
        // can take a moment; tests with one-second time limits should not pay for that.
        foreach (var url in new[] { "healthz", "v1/resources/warm-up", "v1/stats" })
        {
            using var response = await Http.GetAsync(new Uri(url, UriKind.Relative), cts.Token);
            response.EnsureSuccessStatusCode();
        }
        // The same for the client's paths, over both transports: acquire with a ttl and with a session, renew,
        // keep alive, release, close. The first acquire of a process can take most of a second.
        foreach (var address in await NativeListensAsync(cts.Token) ? new[] { BaseAddress, NativeAddress } : [BaseAddress])
        {
            using var client = new LeaseholdClient(new LeaseholdClientOptions { Server = address });
            foreach (var ttl in new TimeSpan?[] { TimeSpan.FromSeconds(30), null })
            {
                var lease = await client.AcquireAsync(AcquireOptions.ForPath("/warm-up") with { Ttl = ttl }, cts.Token);
                if (ttl is not null)
                {
                    await lease.RenewAsync(cancellationToken: cts.Token);
                }
                await lease.DisposeAsync();
            }
            var session = await client.OpenSessionAsync(TimeSpan.FromSeconds(30), null, cts.Token);
            await client.KeepSessionAliveAsync(session, cts.Token);
            await client.CloseSessionQuietlyAsync(session, cts.Token);
            await client.GetResourceAsync("/warm-up", cts.Token);
        }
    }

    /// <summary>Whether the native port takes connections (a server without the native protocol fails only the native tests).</summary>
    private async Task<bool> NativeListensAsync(CancellationToken cancellationToken)
    {
        using var probe = new System.Net.Sockets.TcpClient();
        try
        {
            await probe.ConnectAsync(IPAddress.Loopback, NativePort, cancellationToken);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    /// <summary>Serves only under the prefix, which it strips; anything else is 404.</summary>
    private sealed class PrefixOnly(string prefix) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                if (!context.Request.Path.StartsWithSegments(prefix, out var rest))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return;
                }
                // As a proxy that forwards the sub-path does: the server sees the request without the prefix.
                context.Request.Path = rest;
                if (context.Features.Get<IHttpRequestFeature>() is { } request && request.RawTarget.StartsWith(prefix, StringComparison.Ordinal))
                {
                    request.RawTarget = request.RawTarget[prefix.Length..];
                }
                await nextMiddleware(context);
            });
            next(app);
        };
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
        await StopAsync();
        if (Directory.Exists(DataDir))
        {
            Directory.Delete(DataDir, recursive: true);
        }
    }
}
