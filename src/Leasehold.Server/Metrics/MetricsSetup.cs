using Leasehold.Server.Security;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Leasehold.Server.Metrics;

/// <summary>
/// <c>GET /metrics</c> in Prometheus' text format, through OpenTelemetry's Prometheus exporter reading the server's
/// <see cref="LeaseholdMetrics"/> meter (docs/metrics.md says why this exporter). With security on it needs the
/// <c>read</c> right on the whole tree, as <c>/v1/stats</c> does.
/// </summary>
public static class MetricsSetup
{
    public const string Path = "/metrics";

    public static IServiceCollection AddLeaseholdMetrics(this IServiceCollection services)
    {
        var metrics = new LeaseholdMetrics();
        // A factory, so the container disposes the meter with the server.
        services.AddSingleton(_ => metrics);
        services.AddSingleton<EngineGauges>();
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("leasehold"))
            .WithMetrics(builder => builder
                .AddMeter(LeaseholdMetrics.MeterName)
                // Every server in a process has a meter of that name (tests run several): this one's only.
                .AddView(instrument => ReferenceEquals(instrument.Meter, metrics.Meter) ? null : MetricStreamConfiguration.Drop)
                // No cached answer: two scrapes in a row see every change between them.
                .AddPrometheusExporter(exporter => exporter.ScrapeResponseCacheDurationMilliseconds = 0));
        return services;
    }

    public static void MapMetricsEndpoint(this WebApplication app)
    {
        var gauges = app.Services.GetRequiredService<EngineGauges>();
        app.MapPrometheusScrapingEndpoint(Path, meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (context, next) =>
        {
            if (await Access.DenyAsync(context, Right.Read, PathScope.Root) is { } denied)
            {
                await denied.ExecuteAsync(context);
                return;
            }
            await gauges.RefreshAsync(context.RequestAborted);
            await next(context);
        }), optionsName: null)
            // GET (and HEAD) only, as every other read: another method is 405 like on any route.
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]))
            .WithTags("Health").WithSummary("Metrics in Prometheus' text format (docs/metrics.md)");
    }
}
