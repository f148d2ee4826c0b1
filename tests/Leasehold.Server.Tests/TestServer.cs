using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Server.Tests;

/// <summary>
/// The real server, in process, on a free loopback port, with its own fresh data directory (deleted on
/// dispose). Everything the tests do goes through real sockets.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    /// <summary>The bound on every single wait in the tests.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly List<HttpClient> _clients = [];
    private readonly bool _ownsDataDir;
    private readonly Func<HttpMessageHandler>? _handler;

    private TestServer(WebApplication app, string dataDir, Uri baseAddress, bool ownsDataDir, Func<HttpMessageHandler>? handler)
    {
        App = app;
        _handler = handler;
        DataDir = dataDir;
        _ownsDataDir = ownsDataDir;
        BaseAddress = baseAddress;
        Client = CreateClient();
    }

    /// <summary>The running application, for tests that compare the API with what is mapped.</summary>
    public WebApplication App { get; }

    public string DataDir { get; }

    public Uri BaseAddress { get; }

    /// <summary>A client for the test's main actor. <see cref="CreateClient"/> makes more.</summary>
    public HttpClient Client { get; }

    public static Task<TestServer> StartAsync() => StartAsync([]);

    /// <summary>
    /// Starts with <paramref name="extraArgs"/> after the usual ones (e.g. <c>--pool</c>, <c>--resources</c>).
    /// With <paramref name="dataDir"/> the server runs on that directory and leaves it on dispose (the caller
    /// owns it, so a later server can restart on it); without, on a fresh one it deletes.
    /// <paramref name="configureServices"/> replaces services, e.g. the clock. <paramref name="handler"/> makes the
    /// clients' handlers (one that trusts the server's certificate, for <c>--urls https://...</c>).
    /// </summary>
    public static async Task<TestServer> StartAsync(
        IReadOnlyList<string> extraArgs, string? dataDir = null, Action<IServiceCollection>? configureServices = null, Func<HttpMessageHandler>? handler = null)
    {
        var ownsDataDir = dataDir is null;
        dataDir ??= Path.Combine(Path.GetTempPath(), "leasehold-test-" + Guid.NewGuid().ToString("N"));
        var app = LeaseholdApp.Build(["--urls", "http://127.0.0.1:0", "--data-dir", dataDir, "--Logging:LogLevel:Default=Warning", .. extraArgs], configureServices);
        using var cts = new CancellationTokenSource(Timeout);
        try
        {
            await app.StartAsync(cts.Token);
        }
        catch
        {
            await app.DisposeAsync();
            if (ownsDataDir)
            {
                DeleteDirectory(dataDir);
            }
            throw;
        }
        var server = new TestServer(app, dataDir, new Uri(app.Urls.Single()), ownsDataDir, handler);
        try
        {
            // Warm up: the first requests build the endpoints and run the writer and the log for the first
            // time, which can take a moment; tests with sub-second time limits should not pay for that.
            foreach (var url in new[] { "/healthz", "/v1/resources/warm-up", "/v1/resources?prefix=/warm-up" })
            {
                using var response = await server.Client.GetAsync(new Uri(url, UriKind.Relative), cts.Token);
                response.EnsureSuccessStatusCode();
            }
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Where the native protocol listens (its port 0 bound, like HTTP's).</summary>
    public System.Net.IPEndPoint NativeEndPoint => App.Services.GetRequiredService<Leasehold.Server.Native.NativeListener>().EndPoints[0];

    public HttpClient CreateClient()
    {
        var client = new HttpClient(_handler?.Invoke() ?? new SocketsHttpHandler(), disposeHandler: true) { BaseAddress = BaseAddress, Timeout = Timeout };
        _clients.Add(client);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
        using (var cts = new CancellationTokenSource(Timeout))
        {
            await App.StopAsync(cts.Token);
        }
        await App.DisposeAsync();
        if (_ownsDataDir)
        {
            DeleteDirectory(DataDir);
        }
    }

    private static void DeleteDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }
}
