using System.Text;
using Leasehold.Client;
using Leasehold.Protocol;
using Leasehold.Server;
using Microsoft.AspNetCore.Builder;

namespace Leasehold.Cli.Tests;

/// <summary>
/// The real server, in process, on a free loopback port, with its own fresh data directory (deleted on
/// dispose); one per test class (a class fixture), so classes run in parallel. The tool runs as a separate
/// process against it, through real sockets.
/// </summary>
public sealed class CliServer : IAsyncLifetime
{
    private WebApplication? _app;

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "leasehold-cli-test-" + Guid.NewGuid().ToString("N"));

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The native protocol's address (<c>leasehold://127.0.0.1:port/</c>), its port picked before the server starts.</summary>
    public Uri NativeAddress { get; private set; } = null!;

    /// <summary>For checks from the test's side: holders, queues.</summary>
    public LeaseholdClient Client { get; private set; } = null!;

    /// <summary>Plain HTTP, for what the client does not do (declaring resources).</summary>
    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var nativePort = Tool.ClosedPort();
        NativeAddress = new Uri($"leasehold://127.0.0.1:{nativePort}/");
        _app = LeaseholdApp.Build([
            "--urls", "http://127.0.0.1:0", $"--Leasehold:Native:Port={nativePort}", "--data-dir", DataDir, "--Logging:LogLevel:Default=Warning",
        ]);
        using var cts = new CancellationTokenSource(Tool.Timeout);
        await _app.StartAsync(cts.Token);
        BaseAddress = new Uri(_app.Urls.Single() + "/");
        Client = new LeaseholdClient(new LeaseholdClientOptions { Server = BaseAddress });
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = Tool.Timeout };
        // Warm up, so the first test does not pay for the first requests.
        await Client.GetResourceAsync("/warm-up", cts.Token);
    }

    /// <summary>The server's event hub: the streams open on it.</summary>
    public Leasehold.Server.Events.EventHub Events
        => Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Leasehold.Server.Events.EventHub>(_app!.Services);

    /// <summary>A fresh path prefix for one test: tests share the server, never paths.</summary>
    public static string UniquePath(string name) => $"/t{Guid.NewGuid():N}/{name}";

    /// <summary>Declares a resource with attributes (a JSON object).</summary>
    public async Task DeclareAsync(string path, string attributesJson)
    {
        using var content = new StringContent(attributesJson, Encoding.UTF8, "application/json");
        using var response = await Http.PutAsync(new Uri("v1/resources/" + path.TrimStart('/'), UriKind.Relative), content);
        response.EnsureSuccessStatusCode();
    }

    public async Task<LeaseDto[]> HoldersAsync(string path) => (await Client.GetResourceAsync(path)).Holders;

    /// <summary>Polls until <paramref name="condition"/> holds, at most <paramref name="within"/>; false if it never did.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            if (await condition())
            {
                return true;
            }
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }
            await Task.Delay(50);
        }
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        Http?.Dispose();
        if (_app is not null)
        {
            using (var cts = new CancellationTokenSource(Tool.Timeout))
            {
                await _app.StopAsync(cts.Token);
            }
            await _app.DisposeAsync();
        }
        if (Directory.Exists(DataDir))
        {
            Directory.Delete(DataDir, recursive: true);
        }
    }
}
