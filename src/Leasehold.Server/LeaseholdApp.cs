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

    /// <summary>The process exit code when the server stopped because its engine writer died (EX_SOFTWARE).</summary>
    public const int WriterDiedExitCode = 70;

    /// <summary>
    /// Runs the server until it stops and returns the process exit code: 0, or <see cref="WriterDiedExitCode"/>
    /// when it stopped itself because its engine writer died.
    /// </summary>
    public static async Task<int> RunAsync(WebApplication app)
    {
        // Taken before running: the service provider is disposed when the application stops.
        var host = app.Services.GetRequiredService<EngineHost>();
        await app.RunAsync().ConfigureAwait(false);
        return host.WriterFailure is null ? 0 : WriterDiedExitCode;
    }

    /// <summary>The command-line flag for <see cref="LeaseholdOptions.AcceptDataLoss"/>.</summary>
    public const string AcceptDataLossFlag = "--accept-data-loss";

    /// <summary>The one line that says why start-up was refused, with the way out when losing data is one.</summary>
    public static string DescribeRefusal(Exception ex)
    {
        var hint = ex is CorruptDataException { LossAcceptable: true }
            ? $" (to start from what is left and lose the rest: {AcceptDataLossFlag})"
            : "";
        return $"leasehold: cannot start: {ex.Message}{hint}";
    }

    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        // A bare flag would take the next argument as its value (the command-line provider reads `--key value`).
        args = [.. args.Select(a => a == AcceptDataLossFlag ? $"--{LeaseholdOptions.Section}:{nameof(LeaseholdOptions.AcceptDataLoss)}=true" : a)];
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
        builder.Services.AddLeaseholdHealth();
        configureServices?.Invoke(builder.Services);

        // Recovery runs here, before the server listens: a damaged or busy data directory stops start-up.
        // DataStore.Open creates the directory, readable by this user alone.
        var dataDir = Path.GetFullPath(options.DataDir);
        var durability = options.ToDurability();
        var limits = new EngineLimits { HistorySize = options.HistorySize };
        var store = durability.Policy == FlushPolicy.Memory ? null : DataStore.Open(dataDir, limits, acceptDataLoss: options.AcceptDataLoss);
        builder.Services.AddSingleton(sp => new EngineHost(
            store?.Engine ?? new LockEngine(limits), store, durability,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<EngineHost>>()));

        var app = builder.Build();
        if (store is not null)
        {
            LogRecovery(app.Logger, dataDir, store.Report);
        }

        var host = app.Services.GetRequiredService<EngineHost>();
        // A dead writer would leave a process that answers nothing: stop it, with a failure exit code (RunAsync).
        host.WriterDied += _ => app.Lifetime.StopApplication();
        // Waiting requests would hold the shutdown open until their wait runs out: answer them first.
        // (A dead writer has answered them already, and can run nothing more.)
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            if (host.WriterFailure is null)
            {
                host.DropWaitersAsync().Wait(TimeSpan.FromSeconds(5));
            }
        });
        app.Lifetime.ApplicationStarted.Register(() =>
            app.Logger.LogInformation("Leasehold listening on {Urls}, data in {DataDir} ({Durability})", string.Join(", ", app.Urls), dataDir, durability.Policy));

        app.UseProblemResponses();
        app.MapOpenApi();
        app.MapHealthEndpoints();
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

    private static void LogRecovery(ILogger logger, string dataDir, RecoveryReport report)
    {
        logger.LogInformation(
            "Recovered {Directory}: snapshot of record {Snapshot}, {Replayed} log records replayed in {Elapsed} ms, {Truncated} torn bytes cut",
            dataDir, report.SnapshotIndex, report.RecordsReplayed, (long)report.Elapsed.TotalMilliseconds, report.TruncatedBytes);
        if (report.TornSegment is not null)
        {
            // Never acknowledged (a synced record is not torn), but the operator should know bytes were dropped.
            logger.LogWarning("Cut a torn tail of {Bytes} bytes from {File} at offset {Offset}: a write interrupted by a crash",
                report.TruncatedBytes, Path.GetFileName(report.TornSegment), report.TornOffset);
        }
        foreach (var loss in report.Lost)
        {
            logger.LogWarning("Data lost, started anyway ({Flag}): {Loss}", AcceptDataLossFlag, loss);
        }
        foreach (var note in report.Notes)
        {
            logger.LogWarning("Data directory: {Note}", note);
        }
    }
}
