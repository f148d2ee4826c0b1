using System.Net;
using Leasehold.LoadGen;

if (args is ["--help" or "-h"])
{
    Console.WriteLine(LoadOptions.Usage);
    return 0;
}
if (!LoadOptions.TryParse(args, out var options, out var error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(LoadOptions.Usage);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

ServerProcess? server = null;
try
{
    if (options.Spawn)
    {
        server = await ServerProcess.StartAsync(options.ServerDll!, options.ServerArgs, cancel.Token);
        options = options with { Url = server.Url };
        Console.WriteLine($"started server {options.ServerDll} {string.Join(' ', options.ServerArgs)} on {server.Url}");
    }

    using var handler = new SocketsHttpHandler
    {
        MaxConnectionsPerServer = options.Clients + 1, // one spare for the /v1/stats samples
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
    };
    using var http = new HttpClient(handler)
    {
        BaseAddress = options.Url,
        Timeout = TimeSpan.FromSeconds(options.WaitSeconds + 30),
    };
    if (options.ApiKey is { } key)
    {
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
    }
    var client = new LeaseClient(http);
    if (!await client.IsHealthyAsync(cancel.Token))
    {
        Console.Error.WriteLine($"{options.Url}healthz does not answer 200; is the server running? (or use --spawn --server-dll PATH)");
        return 2;
    }
    var serverCpu = server is null ? null : (Func<TimeSpan>)(() => server.CpuTime);
    return await new LoadRunner(options, client).RunAsync(serverCpu, cancel.Token);
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("cancelled");
    return 130;
}
finally
{
    server?.Dispose();
}
