using Leasehold.Client;
using Leasehold.Server;
using Microsoft.AspNetCore.Builder;

namespace Leasehold.Cli.Tests.Lockable;

/// <summary>
/// The real server, in process, on a free loopback port, with the pool <c>/lab</c> declared from a
/// py-lockable resources file on this machine's hostname (as <see cref="CliServer"/>, one per test class).
/// </summary>
public sealed class LockablePoolServer : IAsyncLifetime
{
    private WebApplication? _app;

    public const string Pool = "lab";

    /// <summary>phone-1 (online android), phone-2 (offline android), busy-1 (online, os "busy": for holding).</summary>
    public static string Resources => $$$"""
        [
          {"id": "phone-1", "hostname": "{{{LockableFiles.Host}}}", "online": true, "os": "android", "loc": {"rack": 2}},
          {"id": "phone-2", "hostname": "{{{LockableFiles.Host}}}", "online": false, "os": "android"},
          {"id": "busy-1", "hostname": "{{{LockableFiles.Host}}}", "online": true, "os": "busy"}
        ]
        """;

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "leasehold-cli-lockable-" + Guid.NewGuid().ToString("N"));

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The pool as py-lockable's resource list: <c>BASE/v1/pools/lab/resources.json</c>.</summary>
    public string ListUrl => $"{BaseAddress}v1/pools/{Pool}/resources.json";

    public LeaseholdClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(DataDir);
        var file = Path.Combine(DataDir, "resources.json");
        await File.WriteAllTextAsync(file, Resources);
        _app = LeaseholdApp.Build(["--urls", "http://127.0.0.1:0", "--data-dir", Path.Combine(DataDir, "data"), "--pool", "/" + Pool,
            "--resources", file, "--Logging:LogLevel:Default=Warning"]);
        using var cts = new CancellationTokenSource(Tool.Timeout);
        await _app.StartAsync(cts.Token);
        BaseAddress = new Uri(_app.Urls.Single() + "/");
        Client = new LeaseholdClient(new LeaseholdClientOptions { Server = BaseAddress });
        // The pool is loaded by a hosted service: wait until it is there.
        var loaded = await CliServer.EventuallyAsync(async () => (await Client.GetResourceAsync("/lab/busy-1", cts.Token)).Attributes is not null, Tool.Timeout);
        Assert.True(loaded, "the pool was not loaded");
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
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
