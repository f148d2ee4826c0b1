using Leasehold.Core;
using Leasehold.Protocol;
using Leasehold.Server.Connections;
using Leasehold.Server.Engine;
using Leasehold.Server.Http;
using Leasehold.Server.Pools;
using Leasehold.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Leasehold.Server;

/// <summary>Builds the server: configuration, services, endpoints. Program runs it; tests start it on port 0.</summary>
public static class LeaseholdApp
{
    public const string DefaultUrl = "http://127.0.0.1:8765";

    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        // `--data-dir DIR` is the short form of Leasehold:DataDir.
        // `--pool /lab --resources resources.json` is the short form of the first configured pool.
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string>
        {
            ["--data-dir"] = "Leasehold:DataDir",
            ["--pool"] = "Leasehold:Pools:0:Path",
            ["--resources"] = "Leasehold:Pools:0:File",
        });
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var options = builder.Configuration.GetSection(LeaseholdOptions.Section).Get<LeaseholdOptions>() ?? new LeaseholdOptions();
        var pools = builder.Configuration.GetSection(LeaseholdOptions.Section + ":Pools").Get<List<PoolOptions>>() ?? [];
        // An invalid resource file stops start-up with py-lockable's message, before anything is recovered.
        if (!PoolLoader.TryRead(pools, out _, out var poolError))
        {
            throw new InvalidDataException(poolError);
        }
        builder.Services.AddSingleton<IReadOnlyList<PoolOptions>>(pools);
        builder.Services.AddSingleton<PoolLoader>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PoolLoader>());
        var idServer = Compat.IdServer.IdServerSetup.AddIdServer(builder.Services, builder.Configuration, pools);
        builder.Services.AddSingleton(options);
        builder.WebHost.ConfigureConnections(options, idServer?.MaxConnections ?? 0);
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ProtocolJsonContext.Default);
            json.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        });
        builder.Services.AddOpenApi(openApi => openApi.AddOperationTransformer(JsonBody.DescribeAsync));
        builder.Services.TryAddSingleton(TimeProvider.System);
        configureServices?.Invoke(builder.Services);

        // Recovery runs here, before the server listens: a damaged or busy data directory stops start-up.
        var dataDir = Path.GetFullPath(options.DataDir);
        Directory.CreateDirectory(dataDir);
        var durability = options.ToDurability();
        var limits = new EngineLimits { HistorySize = options.HistorySize };
        var store = durability.Policy == FlushPolicy.Memory ? null : DataStore.Open(dataDir, limits);
        builder.Services.AddSingleton(sp => new EngineHost(
            store?.Engine ?? new LockEngine(limits), store, durability,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<EngineHost>>()));

        var app = builder.Build();
        if (store is not null)
        {
            var report = store.Report;
            app.Logger.LogInformation(
                "Recovered {Directory}: snapshot of record {Snapshot}, {Replayed} log records replayed in {Elapsed} ms, {Truncated} torn bytes cut",
                dataDir, report.SnapshotIndex, report.RecordsReplayed, (long)report.Elapsed.TotalMilliseconds, report.TruncatedBytes);
        }

        var host = app.Services.GetRequiredService<EngineHost>();
        // Waiting requests would hold the shutdown open until their wait runs out: answer them first.
        app.Lifetime.ApplicationStopping.Register(() => host.DropWaitersAsync().Wait(TimeSpan.FromSeconds(5)));
        app.Lifetime.ApplicationStarted.Register(() =>
            app.Logger.LogInformation("Leasehold listening on {Urls}, data in {DataDir} ({Durability})", string.Join(", ", app.Urls), dataDir, durability.Policy));

        app.UseProblemResponses();
        app.MapOpenApi();
        app.MapGet("/healthz", () => Results.Json(new HealthDto { Status = "ok" }, ProtocolJsonContext.Default.HealthDto))
            .WithTags("Health").WithSummary("Liveness");
        app.MapGet("/v1/stats", async (EngineHost engineHost) => Results.Json(
                await engineHost.ExecuteAsync(w => new StatsDto
                {
                    Leases = w.Engine.Leases.Count,
                    Sessions = w.Engine.Sessions.Count,
                    Waiters = w.Engine.QueueLength,
                    LastFence = w.Engine.LastFence,
                    LoggedCommands = engineHost.LoggedCommands,
                    Syncs = engineHost.Syncs,
                    Durability = engineHost.Policy.ToString().ToLowerInvariant(),
                }),
                ProtocolJsonContext.Default.StatsDto))
            .WithTags("Health").WithSummary("Counters: leases, sessions, waiters, logged commands, fsyncs");
        app.MapLeaseEndpoints();
        app.MapResourceEndpoints();
        app.MapSessionEndpoints();
        app.MapPoolEndpoints();
        app.MapLockerEndpoints();
        app.MapLockdEndpoints();
        return app;
    }
}
