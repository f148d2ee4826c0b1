using System.Diagnostics;
using System.Diagnostics.Metrics;
using Leasehold.Core;
using Leasehold.Core.Pools;
using Leasehold.Protocol.Native;

namespace Leasehold.Server.Metrics;

/// <summary>
/// Every instrument of the server's one <c>Meter("Leasehold")</c>, in one place (docs/metrics.md lists them with
/// their Prometheus names). Each server owns its meter (tests run several in one process; the exporter reads only
/// its own server's, see <see cref="MetricsSetup"/>). Recording takes value-type tags only (no closure, no array):
/// nothing is allocated per request whether or not anyone scrapes. Labels are bounded: routes are templates, codes
/// are the catalogue's, message types and reasons are enums, pools are the configured ones.
/// </summary>
public sealed class LeaseholdMetrics : IDisposable
{
    public const string MeterName = "Leasehold";

    // Latencies from 50 µs to 10 s; commands per fsync from 1 to 4096 (the writer's batch limit).
    private static readonly double[] SecondsBuckets =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    // Waiting and holding last from milliseconds to days.
    private static readonly double[] LongSecondsBuckets =
        [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];

    private static readonly long[] CountBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];

    private readonly Counter<long> _httpRequests;
    private readonly Histogram<double> _httpDuration;
    private readonly Counter<long> _nativeMessages;
    private readonly Counter<long> _nativeErrors;
    private readonly Counter<long> _grants;
    private readonly Histogram<double> _queueWait;
    private readonly Counter<long> _leaseEnds;
    private readonly Histogram<double> _leaseHold;
    private readonly Counter<long> _sessionEnds;
    private readonly Histogram<double> _logWrite;
    private readonly Histogram<double> _logFsync;
    private readonly Histogram<long> _commandsPerFsync;

    public LeaseholdMetrics()
    {
        Meter = new Meter(MeterName);
        _httpRequests = Meter.CreateCounter<long>("leasehold.http.requests", "{request}",
            "HTTP requests answered, by route template, method, status and problem code");
        _httpDuration = Meter.CreateHistogram("leasehold.http.request.duration", "s",
            "Time to answer an HTTP request, by route template", advice: Seconds(SecondsBuckets));
        _nativeMessages = Meter.CreateCounter<long>("leasehold.native.messages", "{message}",
            "Native protocol (LHP/1) request frames received, by message type");
        _nativeErrors = Meter.CreateCounter<long>("leasehold.native.errors", "{error}",
            "Native protocol ERROR frames sent, by error code");
        _grants = Meter.CreateCounter<long>("leasehold.grants", "{lease}",
            "Leases granted: at once, or to a request that waited in the queue");
        _queueWait = Meter.CreateHistogram("leasehold.queue.wait", "s",
            "How long granted waiters queued before their grant", advice: Seconds(LongSecondsBuckets));
        _leaseEnds = Meter.CreateCounter<long>("leasehold.lease.ends", "{lease}",
            "Leases ended, by reason: released, expired, session-ended, revoked");
        _leaseHold = Meter.CreateHistogram("leasehold.lease.hold", "s",
            "How long ended leases were held, by reason", advice: Seconds(LongSecondsBuckets));
        _sessionEnds = Meter.CreateCounter<long>("leasehold.session.ends", "{session}",
            "Sessions ended, by reason: closed, expired, revoked");
        _logWrite = Meter.CreateHistogram("leasehold.log.write.duration", "s",
            "Time to write one drain of batches to the log (before any fsync)", advice: Seconds(SecondsBuckets));
        _logFsync = Meter.CreateHistogram("leasehold.log.fsync.duration", "s",
            "Time of one fsync of the log", advice: Seconds(SecondsBuckets));
        _commandsPerFsync = Meter.CreateHistogram("leasehold.log.commands_per_fsync", "{command}",
            "Commands made durable by one fsync (group commit)", advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = CountBuckets });
        Meter.CreateObservableGauge("leasehold.leases", () => State.Leases, "{lease}", "Leases held");
        Meter.CreateObservableGauge("leasehold.sessions", () => State.Sessions, "{session}", "Sessions open");
        Meter.CreateObservableGauge("leasehold.waiters", () => State.Waiters, "{waiter}", "Requests waiting in the queue");
        Meter.CreateObservableGauge("leasehold.pool.resources", () => PoolMeasurements(held: false), "{resource}",
            "Declared resources under each configured pool");
        Meter.CreateObservableGauge("leasehold.pool.held", () => PoolMeasurements(held: true), "{resource}",
            "Declared resources under each configured pool that are held");
    }

    public Meter Meter { get; }

    /// <summary>The engine's counts, taken on the writer at most once a second, when scraped (<see cref="EngineGauges"/>).</summary>
    internal EngineCounts State { get; set; } = EngineCounts.Empty;

    private static InstrumentAdvice<double> Seconds(double[] buckets) => new() { HistogramBucketBoundaries = buckets };

    private IEnumerable<Measurement<int>> PoolMeasurements(bool held)
    {
        // Only at a scrape: allocating here costs no request anything.
        var pools = State.Pools;
        var measurements = new Measurement<int>[pools.Length];
        for (var i = 0; i < pools.Length; i++)
        {
            measurements[i] = new Measurement<int>(held ? pools[i].Held : pools[i].Resources, new KeyValuePair<string, object?>("pool", pools[i].Pool));
        }
        return measurements;
    }

    /// <summary>One HTTP request answered. <paramref name="route"/> is the endpoint's template; <paramref name="code"/> the problem's, or null.</summary>
    public void HttpRequest(string route, string method, int status, string? code, double seconds)
    {
        var tags = new TagList
        {
            { "route", route },
            { "method", MethodLabel(method) },
            { "status", StatusText(status) },
            { "code", code ?? "" },
        };
        _httpRequests.Add(1, tags);
        _httpDuration.Record(seconds, new KeyValuePair<string, object?>("route", route));
    }

    /// <summary>
    /// The <c>method</c> label: one of a fixed set, <c>other</c> for anything else, so that a client sending made-up
    /// methods (HTTP allows any token) cannot make the metric's series grow without bound.
    /// </summary>
    internal static string MethodLabel(string method) => method switch
    {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };

    public void NativeMessage(FrameType type) => _nativeMessages.Add(1, new KeyValuePair<string, object?>("type", TypeName(type)));

    public void NativeError(string code) => _nativeErrors.Add(1, new KeyValuePair<string, object?>("code", code));

    /// <summary>A lease granted; <paramref name="waitedMs"/> is null for one granted at once.</summary>
    public void Granted(long? waitedMs)
    {
        _grants.Add(1, new KeyValuePair<string, object?>("from", waitedMs is null ? "immediate" : "queue"));
        if (waitedMs is { } ms)
        {
            _queueWait.Record(ms / 1000.0);
        }
    }

    /// <summary>A lease or session ended; <paramref name="heldMs"/> is how long a lease was held, when known.</summary>
    public void Ended(EndedKind kind, EndReason reason, long? heldMs)
    {
        if (kind == EndedKind.Session)
        {
            _sessionEnds.Add(1, new KeyValuePair<string, object?>("reason", SessionReason(reason)));
            return;
        }
        var tag = new KeyValuePair<string, object?>("reason", LeaseReason(reason));
        _leaseEnds.Add(1, tag);
        if (heldMs is { } ms)
        {
            _leaseHold.Record(ms / 1000.0, tag);
        }
    }

    public void LogWritten(long startTimestamp) => _logWrite.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);

    public void LogSynced(long startTimestamp, long commands)
    {
        _logFsync.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);
        _commandsPerFsync.Record(commands);
    }

    public void Dispose() => Meter.Dispose();

    private static readonly string[] StatusTexts = [.. Enumerable.Range(0, 600).Select(s => s.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    private static string StatusText(int status) => (uint)status < (uint)StatusTexts.Length ? StatusTexts[status] : "other";

    internal static string LeaseReason(EndReason reason) => reason switch
    {
        EndReason.Released => "released",
        EndReason.Expired => "expired",
        EndReason.SessionEnded => "session-ended",
        EndReason.Revoked => "revoked",
        _ => "other",
    };

    internal static string SessionReason(EndReason reason) => reason switch
    {
        EndReason.Released => "closed",
        EndReason.Expired => "expired",
        EndReason.Revoked => "revoked",
        _ => "other",
    };

    internal static string TypeName(FrameType type) => type switch
    {
        FrameType.Hello => "HELLO",
        FrameType.Ping => "PING",
        FrameType.Acquire => "ACQUIRE",
        FrameType.Cancel => "CANCEL",
        FrameType.Release => "RELEASE",
        FrameType.Renew => "RENEW",
        FrameType.GetLease => "GET_LEASE",
        FrameType.SessionOpen => "SESSION_OPEN",
        FrameType.SessionKeepAlive => "SESSION_KEEPALIVE",
        FrameType.SessionClose => "SESSION_CLOSE",
        FrameType.Watch => "WATCH",
        FrameType.Call => "CALL",
        _ => "unknown",
    };
}

/// <summary>The engine's counts at one moment, taken on the writer.</summary>
internal sealed record EngineCounts(int Leases, int Sessions, int Waiters, PoolCount[] Pools)
{
    public static readonly EngineCounts Empty = new(0, 0, 0, []);
}

/// <summary>A configured pool: its declared resources and how many of them are held.</summary>
internal readonly record struct PoolCount(string Pool, int Resources, int Held);
