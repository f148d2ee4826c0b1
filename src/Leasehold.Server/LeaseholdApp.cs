using Leasehold.Core;
using Leasehold.Protocol;
using Leasehold.Server.Cluster;
using Leasehold.Server.Connections;
using Leasehold.Server.Engine;
using Leasehold.Server.Http;
using Leasehold.Server.Limits;
using Leasehold.Server.Metrics;
using Leasehold.Server.Pools;
using Leasehold.Server.Security;
using Leasehold.Server.Tls;
using Leasehold.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Leasehold.Server;

/// <summary>Builds the server: configuration, services, endpoints. Program runs it; tests start it on port 0.</summary>
public static class LeaseholdApp
{
    public const string DefaultUrl = "http://127.0.0.1:8765";

    /// <summary>The process exit code when the server stopped because its engine writer died, or a cluster node's state machine or committer (EX_SOFTWARE).</summary>
    public const int WriterDiedExitCode = 70;

    /// <summary>
    /// Runs the server until it stops and returns the process exit code: 0, or <see cref="WriterDiedExitCode"/>
    /// when it stopped itself because its engine writer died.
    /// </summary>
    public static async Task<int> RunAsync(WebApplication app)
    {
        // Taken before running: the service provider is disposed when the application stops.
        var host = app.Services.GetRequiredService<EngineHost>();
        var node = app.Services.GetService<RaftNode>();
        await app.RunAsync().ConfigureAwait(false);
        return host.WriterFailure is null && node?.Failure is null ? 0 : WriterDiedExitCode;
    }

    /// <summary>The .NET runtime's switch that runs socket completions on its event threads (read once, at the first socket).</summary>
    public const string InlineSocketCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// For a server process, before it opens any socket: unless the environment says otherwise, socket completions
    /// run on the runtime's event threads (one per core) instead of being handed to the thread pool. With
    /// <see cref="LeaseholdOptions.InlineScheduling"/> a request is then read, applied and answered on the thread
    /// that saw its bytes arrive, as in an event loop: a quarter less CPU per native request and a thread switch less
    /// (docs/performance.md). Safe because nothing the server runs on a socket's completion blocks its thread.
    /// Process-wide and fixed at the first socket, so only the entry points call it (tests keep the default);
    /// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0</c> turns it off.
    /// </summary>
    public static void PreferInlineSocketCompletions()
    {
        if (Environment.GetEnvironmentVariable(InlineSocketCompletionsVariable) is null)
        {
            Environment.SetEnvironmentVariable(InlineSocketCompletionsVariable, "1");
        }
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
        args = [.. args.Select(a => a switch
        {
            AcceptDataLossFlag => $"--{LeaseholdOptions.Section}:{nameof(LeaseholdOptions.AcceptDataLoss)}=true",
            Security.ProtectedMode.OpenFlag => $"--{Security.SecurityOptions.Section}:{nameof(Security.SecurityOptions.Open)}=true",
            _ => a,
        })];
        args = TakeConfigFile(args, out var configFile);
        args = Cluster.ClusterOptions.ExpandMembersFlag(args);
        // appsettings.json (and appsettings.{Environment}.json) are looked for beside the server's binary, not in
        // the working directory: a server started from anywhere reads the same file (docs/operations.md).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        AddSettingsSources(builder.Configuration, configFile);
        // `--data-dir DIR` is the short form of Leasehold:DataDir.
        // `--pool /lab --resources resources.json` is the short form of the first configured pool.
        builder.Configuration.AddCommandLine(args, new Dictionary<string, string>
        {
            ["--data-dir"] = "Leasehold:DataDir",
            ["--pool"] = "Leasehold:Pools:0:Path",
            ["--resources"] = "Leasehold:Pools:0:File",
            [TlsOptions.CertFlag] = TlsOptions.Section + ":" + nameof(TlsOptions.CertFile),
            [TlsOptions.KeyFlag] = TlsOptions.Section + ":" + nameof(TlsOptions.KeyFile),
            [Cluster.ClusterOptions.NodeFlag] = Cluster.ClusterOptions.Section + ":" + nameof(Cluster.ClusterOptions.Node),
        });
        // Before the default address: with TLS on and no address given, the default is https:// (TlsSetup).
        builder.AddLeaseholdTls();
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var options = builder.Configuration.GetSection(LeaseholdOptions.Section).Get<LeaseholdOptions>() ?? new LeaseholdOptions();
        var pools = builder.Configuration.GetSection(LeaseholdOptions.Section + ":Pools").Get<List<PoolOptions>>() ?? [];
        // An invalid resource file stops start-up with py-lockable's message, before anything is recovered.
        if (!PoolLoader.TryRead(pools, out _, out var poolError))
        {
            throw new InvalidDataException(poolError + UnknownKeysHint(builder.Configuration));
        }
        builder.Services.AddSingleton<IReadOnlyList<PoolOptions>>(pools);
        builder.Services.AddSingleton<PoolLoader>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PoolLoader>());
        Compat.IdServer.IdServerSettings? idServer;
        try
        {
            idServer = Compat.IdServer.IdServerSetup.AddIdServer(builder.Services, builder.Configuration, pools);
        }
        catch (InvalidDataException ex) when (ServerSettings.FindUnknown(builder.Configuration).Count > 0)
        {
            throw new InvalidDataException(ex.Message + UnknownKeysHint(builder.Configuration), ex);
        }
        // Authentication, the prefix rules, and protected mode's refusal to serve off loopback without them.
        var securityOn = Security.SecuritySetup.AddLeaseholdSecurity(builder, idServer?.Address);
        var limitsOptions = builder.Configuration.GetSection(Limits.LimitsOptions.Section).Get<Limits.LimitsOptions>() ?? new Limits.LimitsOptions();
        builder.Services.AddSingleton(limitsOptions);
        builder.Services.AddLeaseholdRateLimits(limitsOptions, securityOn);
        builder.Services.AddSingleton(options);
        builder.WebHost.ConfigureConnections(options, idServer?.MaxConnections ?? 0);
        var native = builder.Configuration.GetSection(Native.NativeOptions.Section).Get<Native.NativeOptions>() ?? new Native.NativeOptions();
        native.Validate();
        builder.Services.AddSingleton(native);
        builder.Services.AddSingleton<Native.HttpPipeline>();
        builder.Services.AddSingleton<Native.NativeShared>();
        builder.Services.AddSingleton<Native.NativeListener>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Native.NativeListener>());
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, ProtocolJsonContext.Default);
            json.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        });
        builder.Services.AddOpenApi(openApi => openApi
            .AddDocumentTransformer(DocumentInfo.DescribeAsync)
            .AddOperationTransformer(JsonBody.DescribeAsync)
            .AddOperationTransformer(RouteParameters.DescribeAsync)
            .AddOperationTransformer(QueryParameter.DescribeAsync)
            .AddOperationTransformer(TokenHeader.DescribeAsync)
            .AddOperationTransformer(ErrorResponses.DescribeAsync)
            .AddOperationTransformer(ResponseExamples.DescribeAsync));
        builder.Services.TryAddSingleton(TimeProvider.System);
        var eventOptions = builder.Configuration.GetSection(Events.EventOptions.Section).Get<Events.EventOptions>() ?? new Events.EventOptions();
        builder.Services.AddSingleton(new Events.EventHub(eventOptions));
        builder.Services.AddLeaseholdHealth();
        builder.Services.AddLeaseholdMetrics();
        // Starts the engine host's flusher when the server starts (in StartingAsync, ahead of every StartAsync), and answers
        // waiting requests when stopping starts: they would hold the shutdown open until their wait runs out. Registered
        // after the native listener, so its StoppingAsync (lifecycle callbacks stop in reverse order) runs before that
        // listener closes its connections.
        builder.Services.AddHostedService<EngineLifecycle>();
        configureServices?.Invoke(builder.Services);

        // Recovery runs here, before the server listens: a damaged or busy data directory stops start-up.
        // DataStore.Open creates the directory, readable by this user alone.
        var dataDir = Path.GetFullPath(options.DataDir);
        var durability = options.ToDurability();
        var limits = new EngineLimits { HistorySize = options.HistorySize, HistoryBytes = options.HistoryBytes };
        var clusterOptions = builder.Configuration.GetSection(Cluster.ClusterOptions.Section).Get<Cluster.ClusterOptions>() ?? new Cluster.ClusterOptions();
        DataStore? store = null;
        if (clusterOptions.Enabled)
        {
            // A cluster node keeps its state in the Raft log under the data directory (docs/cluster.md).
            Cluster.ClusterSetup.AddCluster(builder, clusterOptions, dataDir, durability, limits, limitsOptions, idServer?.EndPoint);
        }
        else
        {
            if (Directory.Exists(Path.Combine(dataDir, "raft")))
            {
                throw new InvalidDataException($"the data directory {dataDir} holds a cluster node's Raft log; start it as that node ({ClusterOptions.NodeFlag}, docs/cluster.md) or use another directory");
            }
            store = durability.Policy == FlushPolicy.Memory ? null : DataStore.Open(dataDir, limits, acceptDataLoss: options.AcceptDataLoss, preallocate: true);
            builder.Services.AddSingleton(sp => new EngineHost(
                store?.Engine ?? MemoryEngine(limits, sp.GetRequiredService<TimeProvider>()), store, durability,
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<EngineHost>>(), sp.GetRequiredService<Events.EventHub>())
            {
                Quotas = new Limits.Quotas(limitsOptions),
                Metrics = sp.GetRequiredService<Metrics.LeaseholdMetrics>(),
            });
        }

        var app = builder.Build();
        LogSettings(app.Logger, builder.Configuration);
        if (store is not null)
        {
            LogRecovery(app.Logger, dataDir, store.Report);
        }

        var host = app.Services.GetRequiredService<EngineHost>();
        // A dead writer would leave a process that answers nothing: stop it, with a failure exit code (RunAsync).
        host.WriterDied += _ => app.Lifetime.StopApplication();
        app.Lifetime.ApplicationStarted.Register(() =>
            app.Logger.LogInformation("Leasehold listening on {Urls}, data in {DataDir} ({Durability})", string.Join(", ", app.Urls), dataDir, durability.Policy));

        // First: the whole pipeline after this point, routing included, is what the native protocol's CALL runs.
        var pipeline = app.Services.GetRequiredService<Native.HttpPipeline>();
        app.Use(next => pipeline.Next = next);
        // Outermost of what a request runs, so every answer (a refusal before routing too) is counted once.
        app.UseRequestMetrics(app.Services.GetRequiredService<Metrics.LeaseholdMetrics>());
        app.UseRouting();
        app.UseProblemResponses();
        // A native CALL of a route that streams would never answer: refused before it is run or forwarded.
        Native.NativeCall.UseNativeCallGuard(app);
        // The dashboard's static files, public and served by any node itself: before forwarding, credentials and limits.
        Dashboard.DashboardFiles.UseDashboard(app);
        var node = app.Services.GetService<Cluster.RaftNode>();
        if (node is not null)
        {
            // A node whose state is no longer the cluster's must not vote, lead or answer: stop it (RunAsync's exit code says so).
            node.Died += _ => app.Lifetime.StopApplication();
            // Ahead of credentials and limits: the leader checks them on what is forwarded to it.
            app.UseLeaderForwarding(node);
        }
        app.UseCredentialCheck();
        if (RateLimits.Any(limitsOptions, securityOn))
        {
            app.UseRateLimiter();
        }
        app.MapOpenApi();
        app.MapHealthEndpoints();
        app.MapMetricsEndpoint();
        app.MapGet("/v1/stats", async (EngineHost engineHost) => Results.Json(await engineHost.StatsAsync(), ProtocolJsonContext.Default.StatsDto))
            .RequireRight(Right.Read)
            .WithTags("Health").WithName("GetStats").Produces<StatsDto>()
            .WithSummary("Counters: leases, sessions, waiters, logged commands, fsyncs, bytes allocated");
        if (node is not null)
        {
            app.MapClusterEndpoints(node);
        }
        app.MapWhoAmIEndpoints();
        app.MapLeaseEndpoints();
        app.MapResourceEndpoints();
        app.MapSessionEndpoints();
        app.MapPoolEndpoints();
        app.MapEventEndpoints();
        app.MapGroup("/v1/admin").MapAdminEndpoints();
        app.MapLockerEndpoints();
        app.MapLockdEndpoints();
        return app;
    }

    /// <summary>The command-line option naming a settings file read on top of appsettings.json.</summary>
    public const string ConfigFlag = "--config";

    /// <summary>Takes <c>--config FILE</c> (or <c>--config=FILE</c>) out of the arguments; the file must exist.</summary>
    private static string[] TakeConfigFile(string[] args, out string? configFile)
    {
        configFile = null;
        var rest = new List<string>(args.Length);
        for (var i = 0; i < args.Length; i++)
        {
            string? value;
            if (args[i] == ConfigFlag)
            {
                if (i + 1 >= args.Length)
                {
                    throw new InvalidDataException($"{ConfigFlag} needs a file");
                }
                value = args[++i];
            }
            else if (args[i].StartsWith(ConfigFlag + "=", StringComparison.Ordinal))
            {
                value = args[i][(ConfigFlag.Length + 1)..];
            }
            else
            {
                rest.Add(args[i]);
                continue;
            }
            // Relative to the working directory, as any file named on a command line.
            configFile = Path.GetFullPath(value);
            if (!File.Exists(configFile))
            {
                // A named file that is missing is a mistake, not a reason to run on defaults.
                throw new FileNotFoundException($"settings file {configFile} ({ConfigFlag}) does not exist", configFile);
            }
        }
        return [.. rest];
    }

    /// <summary>
    /// Below everything: the log levels that keep per-request lines out of a default run (whether or not an
    /// appsettings.json is found). Above appsettings.json, below environment and command line: the --config file.
    /// </summary>
    private static void AddSettingsSources(ConfigurationManager configuration, string? configFile)
    {
        var sources = configuration.Sources;
        sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                // The request lines' category. Enabled at any level, ASP.NET Core gives every request a log scope and
                // an Activity even when it logs nothing: about a tenth of the HTTP path's allocations (docs/performance.md).
                ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "None",
            },
        });
        if (configFile is null)
        {
            return;
        }
        var lastJson = -1;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is Microsoft.Extensions.Configuration.Json.JsonConfigurationSource)
            {
                lastJson = i;
            }
        }
        // Re-read when it changes, as appsettings.json is: the security settings (keys, principals, rules) apply
        // anew; every other setting is bound at start-up only (docs/operations.md).
        var source = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource { Path = configFile, Optional = false, ReloadOnChange = true };
        source.ResolveFileProvider();
        sources.Insert(lastJson + 1, source);
    }

    /// <summary>
    /// For a refusal caused by a setting: the unknown keys, since a misspelt one is the likely cause and the
    /// start-up warning that names them comes too late (the server stops before its logging starts).
    /// </summary>
    private static string UnknownKeysHint(IConfiguration configuration)
    {
        var unknown = ServerSettings.FindUnknown(configuration);
        return unknown.Count == 0
            ? ""
            : "; unknown settings, ignored: " + string.Join(", ", unknown.Select(u => u.Suggestion is null ? u.Key : $"{u.Key} (did you mean {u.Suggestion}?)"));
    }

    /// <summary>
    /// Memory mode's engine: nothing is replayed, so its event revision starts at the start's Unix time in
    /// microseconds, not 0: an id a client saw from an earlier run is never one of this run's (docs/events.md).
    /// </summary>
    private static LockEngine MemoryEngine(EngineLimits limits, TimeProvider time)
        => LockEngine.Restore(new EngineState(0, 0, 0, 0, [], [], [], Revision: (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / 10), limits);

    private static void LogSettings(ILogger logger, ConfigurationManager configuration)
    {
        // The files actually read (appsettings.{Environment}.json included), so an operator sees which one counted.
        var files = configuration.Sources.OfType<Microsoft.Extensions.Configuration.FileConfigurationSource>()
            .Select(source => source.FileProvider?.GetFileInfo(source.Path ?? "") is { Exists: true, PhysicalPath: { } path } ? path : null)
            .OfType<string>()
            .ToList();
        var changed = ServerSettings.NonDefault(configuration);
        logger.LogInformation("Settings from {Files}; not at their default: {Settings}",
            files.Count == 0 ? "defaults, environment and command line" : string.Join(", ", files),
            changed.Count == 0 ? "none" : string.Join(", ", changed));
        foreach (var (key, suggestion) in ServerSettings.FindUnknown(configuration))
        {
            // Nothing reads it, so what the operator meant is not in effect: say so, with the likely intended key.
            logger.LogWarning("Unknown setting {Key} is ignored{Hint}", key, suggestion is null ? "" : $" (did you mean {suggestion}?)");
        }
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
