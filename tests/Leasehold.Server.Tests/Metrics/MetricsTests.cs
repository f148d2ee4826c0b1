using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Leasehold.Protocol.Native;
using Leasehold.Server.Tests.Native;

namespace Leasehold.Server.Tests.Metrics;

/// <summary>
/// <c>GET /metrics</c> on the real server: after real traffic (HTTP and native), each counter moved by exactly
/// what was sent; the gauges and histograms are there; the Grafana dashboard queries only what is exported.
/// </summary>
public sealed partial class MetricsTests : ServerTestBase
{
    private const string Leases = "/v1/leases/";

    [Fact]
    public async Task Http_counters_move_by_exactly_the_requests_sent()
    {
        var before = await Scrape.TakeAsync(Client);
        var a = await AcquireOkAsync("""{"path": "/metrics/a", "ttl": 60}""");
        await AcquireOkAsync("""{"path": "/metrics/b", "ttl": 60}""");
        using (var refused = await AcquireAsync("""{"path": "/metrics/a"}"""))
        {
            await AssertProblemAsync(refused, HttpStatusCode.Conflict, "locked");
        }
        using (var unknown = await GetAsync("/v1/no-such-route"))
        {
            await AssertProblemAsync(unknown, HttpStatusCode.NotFound, "not-found");
        }
        await ReleaseOkAsync(a);
        var after = await Scrape.TakeAsync(Client);

        double Delta(string name, params string[] labels) => after.Sum(name, labels) - before.Sum(name, labels);
        Assert.Equal(2, Delta("leasehold_http_requests_total", $"route={Leases}", "method=POST", "status=201", "code="));
        Assert.Equal(1, Delta("leasehold_http_requests_total", $"route={Leases}", "method=POST", "status=409", "code=locked"));
        Assert.Equal(1, Delta("leasehold_http_requests_total", "route=unmatched", "status=404", "code=not-found"));
        Assert.Equal(1, Delta("leasehold_http_requests_total", "route=/v1/leases/{id}", "method=DELETE", "status=204", "code="));
        Assert.Equal(2, Delta("leasehold_grants_total", "from=immediate"));
        Assert.Equal(0, Delta("leasehold_grants_total", "from=queue"));
        Assert.Equal(1, Delta("leasehold_lease_ends_total", "reason=released"));
        Assert.Equal(1, Delta("leasehold_lease_hold_seconds_count", "reason=released"));
        // Every request counted is timed (the scrape before, counted once it was answered, too).
        Assert.Equal(6, Delta("leasehold_http_requests_total"));
        Assert.Equal(6, Delta("leasehold_http_request_duration_seconds_count"));
    }

    [Fact]
    public async Task Made_up_methods_are_counted_as_other_so_they_add_no_series()
    {
        var before = await Scrape.TakeAsync(Client);
        foreach (var method in new[] { "BREW", "WHEN", "BREW" })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), new Uri("/v1/stats", UriKind.Relative));
            using var response = await Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        }
        var after = await Scrape.TakeAsync(Client);
        Assert.Equal(3, after.Sum("leasehold_http_requests_total", "method=other") - before.Sum("leasehold_http_requests_total", "method=other"));
        Assert.DoesNotContain(after.Samples, s => s.Labels.TryGetValue("method", out var m) && m is "BREW" or "WHEN");
    }

    [Fact]
    public async Task Queue_grants_expiries_and_sessions_are_counted_by_reason()
    {
        var before = await Scrape.TakeAsync(Client);
        var holder = await AcquireOkAsync("""{"path": "/metrics/q", "ttl": 60}""");
        var waiting = AcquireAsync("""{"path": "/metrics/q", "wait": 15}""");
        await WaitForQueueAsync("/metrics/q", 1);
        await ReleaseOkAsync(holder);
        using (var granted = await Bounded(waiting))
        {
            await ReadJsonAsync(granted, HttpStatusCode.Created);
        }
        await AcquireOkAsync("""{"path": "/metrics/short", "ttl": 0.2}""");
        using (var opened = await PostAsync("/v1/sessions", """{"ttl": 30}"""))
        {
            var session = await ReadJsonAsync(opened, HttpStatusCode.Created);
            using var closed = await SendAsync(HttpMethod.Delete, $"/v1/sessions/{session.GetProperty("id").GetInt64()}", session.GetProperty("token").GetString());
            Assert.Equal(HttpStatusCode.NoContent, closed.StatusCode);
        }
        Scrape after = before;
        await WaitUntilAsync(async () =>
        {
            after = await Scrape.TakeAsync(Client);
            return after.Sum("leasehold_lease_ends_total", "reason=expired") > before.Sum("leasehold_lease_ends_total", "reason=expired");
        }, "the short lease's expiry is counted");

        double Delta(string name, params string[] labels) => after.Sum(name, labels) - before.Sum(name, labels);
        Assert.Equal(2, Delta("leasehold_grants_total", "from=immediate"));
        Assert.Equal(1, Delta("leasehold_grants_total", "from=queue"));
        Assert.Equal(1, Delta("leasehold_queue_wait_seconds_count"));
        Assert.True(Delta("leasehold_queue_wait_seconds_sum") > 0, "the waiter waited");
        Assert.Equal(1, Delta("leasehold_lease_ends_total", "reason=released"));
        Assert.Equal(1, Delta("leasehold_lease_ends_total", "reason=expired"));
        Assert.Equal(1, Delta("leasehold_lease_hold_seconds_count", "reason=expired"));
        Assert.Equal(1, Delta("leasehold_session_ends_total", "reason=closed"));

        // The gauges are counted on the writer at most once a second: within a few seconds they show the one lease left.
        await WaitUntilAsync(async () =>
        {
            var now = await Scrape.TakeAsync(Client);
            return now.Sum("leasehold_leases") == 1 && now.Sum("leasehold_waiters") == 0 && now.Sum("leasehold_sessions") == 0;
        }, "the gauges show one lease, no waiter, no session");
    }

    [Fact]
    public async Task Native_messages_are_counted_by_type_and_errors_by_code()
    {
        var before = await Scrape.TakeAsync(Client);
        var (connection, _) = await RawNative.OpenAsync(Server.NativeEndPoint);
        await using (connection)
        {
            await connection.SendAsync(2, new AcquireMessage { Paths = ["/metrics/native"], WaitMs = 0, TtlMs = -1 });
            Assert.Equal(FrameType.Lease, (await connection.ReceiveAsync()).Type);
            await connection.SendAsync(3, new AcquireMessage { Paths = ["/metrics/native"], WaitMs = 0, TtlMs = -1 });
            Assert.Equal("locked", (await connection.ReceiveAsync()).Error().Code);
            await connection.SendAsync(4, new PingMessage([]));
            Assert.Equal(FrameType.Pong, (await connection.ReceiveAsync()).Type);
        }
        var after = await Scrape.TakeAsync(Client);

        double Delta(string name, params string[] labels) => after.Sum(name, labels) - before.Sum(name, labels);
        Assert.Equal(1, Delta("leasehold_native_messages_total", "type=HELLO"));
        Assert.Equal(2, Delta("leasehold_native_messages_total", "type=ACQUIRE"));
        Assert.Equal(1, Delta("leasehold_native_messages_total", "type=PING"));
        Assert.Equal(1, Delta("leasehold_native_errors_total", "code=locked"));
        Assert.Equal(1, Delta("leasehold_native_errors_total"));
        Assert.Equal(1, Delta("leasehold_grants_total", "from=immediate"));
    }

    [Fact]
    public async Task Fsync_durability_records_each_fsync_and_the_commands_it_made_durable()
    {
        var stats = await GetJsonAsync("/v1/stats");
        Assert.Equal("fsync", stats.GetProperty("durability").GetString());
        var before = await Scrape.TakeAsync(Client);
        var logged = stats.GetProperty("loggedCommands").GetInt64();
        for (var i = 0; i < 5; i++)
        {
            await AcquireOkAsync($$"""{"path": "/metrics/fsync/{{i}}"}""");
        }
        var after = await Scrape.TakeAsync(Client);
        var loggedAfter = (await GetJsonAsync("/v1/stats")).GetProperty("loggedCommands").GetInt64();

        double Delta(string name) => after.Sum(name) - before.Sum(name);
        Assert.Equal(5, loggedAfter - logged);
        // Under fsync durability an answer leaves only after its fsync: every logged command is in one.
        Assert.Equal(loggedAfter - logged, Delta("leasehold_log_commands_per_fsync_sum"));
        Assert.InRange(Delta("leasehold_log_fsync_duration_seconds_count"), 1, 5);
        Assert.Equal(Delta("leasehold_log_fsync_duration_seconds_count"), Delta("leasehold_log_commands_per_fsync_count"));
        Assert.InRange(Delta("leasehold_log_write_duration_seconds_count"), 1, 5);
        Assert.Contains(after.Samples, s => s.Name == "leasehold_log_fsync_duration_seconds_bucket" && s.Labels["le"] == "+Inf");
    }

    [Fact]
    public async Task The_grafana_dashboard_queries_only_metrics_the_server_exports()
    {
        var dashboard = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "deploy", "grafana", "leasehold.json")));
        var queried = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var expr in Exprs(dashboard.RootElement))
        {
            foreach (Match match in MetricName().Matches(expr))
            {
                queried.Add(match.Value);
            }
        }
        Assert.True(queried.Count >= 15, $"the dashboard queries {queried.Count} metrics: {string.Join(", ", queried)}");

        // A server with a configured pool, after traffic that moves every metric once.
        await using var server = await TestServer.StartAsync(["--Leasehold:Pools:0:Path=/pool", "--Leasehold:Pools:0:Ids=r-0..r-2"]);
        var api = new Api(server.Client);
        await WaitUntilAsync(async () => (await api.GetJsonAsync("/v1/resources/pool/r-2")).TryGetProperty("path", out _), "the pool is declared");
        var held = await api.AcquireAsync("/pool/r-0", 60);
        var waiter = server.Client.PostAsync(new Uri("/v1/leases", UriKind.Relative), Json("""{"path": "/pool/r-0", "wait": 15}"""));
        await WaitUntilAsync(async () => (await api.GetJsonAsync("/v1/resources/pool/r-0")).GetProperty("queue").GetArrayLength() == 1, "one waiter");
        using (var released = await api.SendAsync(HttpMethod.Delete, $"/v1/leases/{held.Id}", held.Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, released.StatusCode);
        }
        using (var granted = await Bounded(waiter))
        {
            Assert.Equal(HttpStatusCode.Created, granted.StatusCode);
        }
        using (var session = await server.Client.PostAsync(new Uri("/v1/sessions", UriKind.Relative), Json("""{"ttl": 1}""")))
        {
            Assert.Equal(HttpStatusCode.Created, session.StatusCode);
        }
        var (connection, _) = await RawNative.OpenAsync(server.NativeEndPoint);
        await using (connection)
        {
            await connection.SendAsync(2, new GetLeaseMessage(999_999));
            Assert.Equal(FrameType.Error, (await connection.ReceiveAsync()).Type);
        }
        Scrape scrape = new([]);
        await WaitUntilAsync(async () =>
        {
            scrape = await Scrape.TakeAsync(server.Client);
            return scrape.Sum("leasehold_session_ends_total", "reason=expired") == 1 && scrape.Sum("leasehold_pool_held", "pool=/pool") == 1;
        }, "the session's expiry and the pool's held resource are seen");
        Assert.Equal(3, scrape.Sum("leasehold_pool_resources", "pool=/pool"));

        var exported = scrape.Samples.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        var missing = queried.Where(name => !exported.Contains(name)).ToList();
        Assert.True(missing.Count == 0, $"the dashboard queries metrics the server does not export: {string.Join(", ", missing)}");
    }

    [Fact]
    public async Task Metrics_take_get_only()
    {
        using var response = await PostAsync("/metrics", "{}");
        await AssertProblemAsync(response, HttpStatusCode.MethodNotAllowed, "method-not-allowed");
    }

    private static IEnumerable<string> Exprs(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        yield return property.Value.GetString()!;
                        continue;
                    }
                    foreach (var expr in Exprs(property.Value))
                    {
                        yield return expr;
                    }
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    foreach (var expr in Exprs(item))
                    {
                        yield return expr;
                    }
                }
                break;
        }
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Leasehold.slnx")))
        {
            dir = dir.Parent;
        }
        Assert.True(dir is not null, "the repository root (Leasehold.slnx) was not found above the test's directory");
        return dir!.FullName;
    }

    [GeneratedRegex("leasehold_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
