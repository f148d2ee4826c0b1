using Leasehold.LoadGen;

// Before the first socket: socket completions run on the runtime's event threads, without a hand-over to the thread
// pool, unless the environment says otherwise. The echo server (the physical bound) runs as Leasehold's server does;
// the load clients, whatever their target, spend less of the machine the target shares with them (a pool thread
// woken per answer was most of their CPU), and nothing in their loops blocks a thread.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}
if (args is ["--echo-server", var echoPort] && int.TryParse(echoPort, out var port))
{
    return await EchoServer.RunAsync(port);
}
if (args is ["--echo-server", var kestrelPort, EchoServer.Kestrel] && int.TryParse(kestrelPort, out port))
{
    return await EchoServer.RunKestrelAsync(port);
}
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

Deployment? deployment = null;
try
{
    if (options.Spawn)
    {
        try
        {
            deployment = options.Target switch
            {
                TargetKind.Etcd => await Deployment.StartEtcdAsync(options, cancel.Token),
                TargetKind.Redis => await Deployment.StartRedisAsync(options, cancel.Token),
                TargetKind.Echo => await Deployment.StartEchoAsync(options, cancel.Token),
                _ => await Deployment.StartLeaseholdAsync(options, cancel.Token),
            };
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or FileNotFoundException or System.ComponentModel.Win32Exception)
        {
            // a target that would not start (its logs are kept and named) or nodes that are not one cluster
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        options = options with { Urls = deployment.Urls };
        Console.WriteLine($"started {deployment.Description}");
    }

    string? name = null;
    if (options.SendToLeader && options.Urls.Count > 1)
    {
        var (leader, leaderError) = options.Target == TargetKind.Etcd
            ? await EtcdTarget.FindLeaderAsync(options.Urls, cancel.Token)
            : await LeaseholdTarget.FindLeaderAsync(deployment?.HttpUrls[0] ?? options.Urls[0], cancel.Token);
        if (leader is null)
        {
            Console.Error.WriteLine(leaderError);
            return 2;
        }
        name = options.Target == TargetKind.Etcd
            ? $"etcd, {options.Urls.Count} members, all to the leader"
            : $"leasehold, {options.Urls.Count} nodes, all to the leader";
        options = options with { Urls = [leader] };
    }
    await using ILockTarget target = options.Target switch
    {
        TargetKind.Etcd => new EtcdTarget(options, name),
        TargetKind.Redis => new RedisTarget(options, options.RedisFsync ? "redis (appendfsync always)" : "redis (in memory)"),
        TargetKind.Echo => new EchoTarget(options),
        _ when options.Protocol == Protocol.RawHttp => new LeaseholdTarget(options, name),
        _ when options.Protocol == Protocol.NativeRaw => new NativeRawTarget(options, deployment?.HttpUrls is [var stats] ? stats : null),
        _ => new ClientTarget(options, name, deployment?.HttpUrls is [var one] ? one : null),
    };
    if (await target.CheckReadyAsync(cancel.Token) is { } notReady)
    {
        Console.Error.WriteLine(notReady);
        return 2;
    }
    var targetCpu = deployment is null ? null : (Func<TimeSpan>)(() => deployment.CpuTime);
    return await new LoadRunner(options, target).RunAsync(targetCpu, deployment?.Processes ?? 0, cancel.Token);
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("cancelled");
    return 130;
}
finally
{
    if (deployment is not null)
    {
        await deployment.DisposeAsync();
    }
}
