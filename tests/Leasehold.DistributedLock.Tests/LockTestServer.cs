using System.Net;
using System.Net.Sockets;
using Leasehold.Client;
using Leasehold.Server;
using Microsoft.AspNetCore.Builder;

namespace Leasehold.DistributedLock.Tests;

/// <summary>How a client reaches the test server: the URL scheme it is given.</summary>
public enum Transport
{
    /// <summary><c>http://</c>: one HTTP request per call.</summary>
    Http,

    /// <summary><c>leasehold://</c>: the native protocol, one multiplexed connection per client.</summary>
    Native,
}

/// <summary>
/// The real server, in process, on loopback ports (HTTP on 0, the native protocol on one free a moment ago), with its
/// own fresh data directory (deleted on dispose). Clients reach it through real sockets.
/// </summary>
public sealed class LockTestServer : IAsyncDisposable
{
    /// <summary>The bound on every single wait in the tests.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly List<LeaseholdClient> _clients = [];
    private WebApplication? _app;

    private LockTestServer(string dataDir)
    {
        DataDir = dataDir;
    }

    public string DataDir { get; }

    public Uri HttpAddress { get; private set; } = null!;

    public Uri NativeAddress { get; private set; } = null!;

    public Uri AddressOf(Transport transport) => transport == Transport.Native ? NativeAddress : HttpAddress;

    public static async Task<LockTestServer> StartAsync()
    {
        var server = new LockTestServer(Path.Combine(Path.GetTempPath(), "leasehold-dlock-test-" + Guid.NewGuid().ToString("N")));
        try
        {
            await server.StartOnAsync(FreePort());
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client of this server over <paramref name="transport"/>, disposed with the server.</summary>
    public LeaseholdClient CreateClient(Transport transport, Action<LeaseholdClientOptions>? configure = null)
    {
        var options = new LeaseholdClientOptions { Server = AddressOf(transport) };
        configure?.Invoke(options);
        var client = new LeaseholdClient(options);
        lock (_clients)
        {
            _clients.Add(client);
        }
        return client;
    }

    private async Task StartOnAsync(int nativePort)
    {
        var app = LeaseholdApp.Build([
            "--urls", "http://127.0.0.1:0",
            $"--Leasehold:Native:Port={nativePort}",
            "--data-dir", DataDir,
            "--Logging:LogLevel:Default=Warning",
        ]);
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
        HttpAddress = new Uri(new Uri(app.Urls.Single()), "/");
        NativeAddress = new Uri($"leasehold://127.0.0.1:{nativePort}");
        // Warm up both transports (the first acquire of a process can take most of a second), so that tests with short
        // waits measure the locks, not the first request's start-up.
        foreach (var address in new[] { HttpAddress, NativeAddress })
        {
            using var client = new LeaseholdClient(new LeaseholdClientOptions { Server = address });
            foreach (var ttl in new TimeSpan?[] { TimeSpan.FromSeconds(30), null })
            {
                var lease = await client.AcquireAsync(AcquireOptions.ForPath("/warm-up") with { Ttl = ttl }, cts.Token);
                await lease.DisposeAsync();
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public async ValueTask DisposeAsync()
    {
        lock (_clients)
        {
            _clients.ForEach(c => c.Dispose());
        }
        if (_app is { } app)
        {
            _app = null;
            using (var cts = new CancellationTokenSource(Timeout))
            {
                await app.StopAsync(cts.Token);
            }
            await app.DisposeAsync();
        }
        if (Directory.Exists(DataDir))
        {
            Directory.Delete(DataDir, recursive: true);
        }
    }
}
