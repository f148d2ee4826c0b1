using System.Net;
using Leasehold.Server;
using Leasehold.Server.Compat.IdServer;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Fuzz.Targets;

/// <summary>
/// The real server, built by <see cref="LeaseholdApp.Build"/> as the tests build it: HTTP on a free loopback port,
/// lockd's XML-RPC endpoint, an id pool served by the idserver front-end on free UDP and TCP ports, and a fresh
/// data directory (deleted on dispose) with the default durability.
/// </summary>
internal sealed class LiveServer : IAsyncDisposable
{
    public const string IdPool = "/ids";

    private readonly WebApplication _app;
    private readonly string _dataDir;

    private LiveServer(WebApplication app, string dataDir, Uri http, IPEndPoint udp, IPEndPoint tcp)
    {
        (_app, _dataDir, Http, Udp, Tcp) = (app, dataDir, http, udp, tcp);
    }

    public Uri Http { get; }

    public IPEndPoint Udp { get; }

    public IPEndPoint Tcp { get; }

    public static async Task<LiveServer> StartAsync()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "leasehold-fuzz-server-" + Guid.NewGuid().ToString("N"));
        var app = LeaseholdApp.Build(
        [
            "--urls", "http://127.0.0.1:0", "--data-dir", dataDir, "--Logging:LogLevel:Default=Error",
            $"--Leasehold:Pools:0:Path={IdPool}", "--Leasehold:Pools:0:Ids=id-0..id-4",
            $"--Leasehold:IdServer:Pool={IdPool}", "--Leasehold:IdServer:Host=127.0.0.1", "--Leasehold:IdServer:Port=0",
        ]);
        using var start = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(start.Token).ConfigureAwait(false);
        var endpoints = app.Services.GetRequiredService<IdServerEndpoints>();
        return new LiveServer(app, dataDir, new Uri(app.Urls.Single()), endpoints.Udp!, endpoints.Tcp!);
    }

    public async ValueTask DisposeAsync()
    {
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await _app.StopAsync(stop.Token).ConfigureAwait(false);
        }
        await _app.DisposeAsync().ConfigureAwait(false);
        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }
}
