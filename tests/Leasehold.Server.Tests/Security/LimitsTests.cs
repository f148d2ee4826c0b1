using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Server.Tests.Security;

/// <summary>Quotas and rate limits: beyond a limit a clear 429, and nothing changes.</summary>
public class LimitsTests
{
    [Fact]
    public void Request_limits_are_on_by_default_with_security_only_and_a_set_value_always_counts()
    {
        var defaults = new Limits.LimitsOptions();
        Assert.Equal((10_000, 50_000), defaults.RequestLimits(securityOn: true));
        Assert.Equal((0, 0), defaults.RequestLimits(securityOn: false));
        var set = new Limits.LimitsOptions { MaxPendingPerPrincipal = 5, RequestsPerSecondPerPrincipal = 0 };
        Assert.Equal((5, 0), set.RequestLimits(securityOn: false));
        Assert.Equal((5, 0), set.RequestLimits(securityOn: true));
    }

    [Fact]
    public async Task Beyond_the_lease_quota_an_acquire_is_429_and_takes_nothing()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Durability=memory", "--Leasehold:Limits:MaxLeases=2"]);
        var api = new Api(server.Client);
        await api.AcquireAsync("/a", 60);
        await api.AcquireAsync("/b", 60);
        using var third = await api.SendAsync(HttpMethod.Post, "/v1/leases", null, """{"path": "/c"}""");
        var problem = await HttpAssert.AssertProblemAsync(third, HttpStatusCode.TooManyRequests, "quota-exceeded");
        Assert.Contains("MaxLeases", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await api.HoldersAsync("/c"));
        var stats = await api.GetJsonAsync("/v1/stats");
        Assert.Equal(2, stats.GetProperty("leases").GetInt32());
        // Locker's canhaz meets the same quota, and the server goes on serving.
        using var canhaz = await server.Client.GetAsync(new Uri("/canhaz/d", UriKind.Relative));
        Assert.Equal(HttpStatusCode.TooManyRequests, canhaz.StatusCode);
        Assert.Empty(await api.HoldersAsync("/d"));
        Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Path_memory_is_bounded_by_tree_nodes_and_by_path_characters_per_request()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Durability=memory", "--Leasehold:Limits:MaxPathNodes=10", "--Leasehold:Limits:MaxPathCharsPerLease=40"]);
        var api = new Api(server.Client);
        using (var deep = await api.SendAsync(HttpMethod.Post, "/v1/leases", null, """{"path": "/a/b/c/d/e/f/g/h/i/j/k"}"""))
        {
            Assert.Equal(HttpStatusCode.Created, deep.StatusCode);
        }
        using (var more = await api.SendAsync(HttpMethod.Post, "/v1/leases", null, """{"path": "/x"}"""))
        {
            var problem = await HttpAssert.AssertProblemAsync(more, HttpStatusCode.TooManyRequests, "quota-exceeded");
            Assert.Contains("MaxPathNodes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        using (var declare = await api.SendAsync(HttpMethod.Put, "/v1/resources/y", null, """{"a": 1}"""))
        {
            await HttpAssert.AssertProblemAsync(declare, HttpStatusCode.TooManyRequests, "quota-exceeded");
        }
        Assert.Empty(await api.HoldersAsync("/x"));
        using (var wide = await api.SendAsync(HttpMethod.Post, "/v1/leases", null, """{"paths": ["/a/b/c/d/e/f/g/h/i/j/k", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n"]}"""))
        {
            var problem = await HttpAssert.AssertProblemAsync(wide, HttpStatusCode.BadRequest, "invalid-argument");
            Assert.Contains("MaxPathCharsPerLease", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        // A pool request names its pools and requirements: they count too.
        using (var pooled = await api.SendAsync(HttpMethod.Post, "/v1/leases", null, """{"pool": "/a", "require": {"name": "a-requirement-longer-than-forty-characters"}}"""))
        {
            var problem = await HttpAssert.AssertProblemAsync(pooled, HttpStatusCode.BadRequest, "invalid-argument");
            Assert.Contains("MaxPathCharsPerLease", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_refusal_after_a_release_in_the_same_step_still_answers_the_waiter_that_release_granted()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Durability=memory", "--Leasehold:Limits:MaxPathCharsPerLease=20"]);
        var api = new Api(server.Client);
        var blocker = await api.AcquireAsync("/busy", 60);
        var waiting = api.SendAsync(HttpMethod.Post, "/v1/leases", null, """{"path": "/busy", "wait": 30}""");
        var deadline = DateTime.UtcNow + TestServer.Timeout;
        while ((await api.GetJsonAsync("/v1/stats")).GetProperty("waiters").GetInt32() < 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the waiter never queued");
            await Task.Delay(20);
        }
        var host = server.App.Services.GetRequiredService<Engine.EngineHost>();
        // One step: the release grants the waiter, then an acquire is over a limit and refused unapplied.
        await Assert.ThrowsAsync<Limits.QuotaExceededException>(() => host.ExecuteAsync(w =>
        {
            w.Release(w.Engine.GetLease(blocker.Id)!);
            return w.Run(new Core.AcquireLease { Now = w.Now, Paths = [Core.ResourcePath.TryParse("/a-path-longer-than-twenty-characters", out var p, out _) ? p : null!], Token = 9 }, (e, c) => e.Acquire(c));
        }));
        using var granted = await waiting.WaitAsync(TestServer.Timeout);
        Assert.Equal(HttpStatusCode.Created, granted.StatusCode);
    }

    [Fact]
    public async Task Beyond_the_session_and_waiter_quotas_requests_are_429()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Durability=memory", "--Leasehold:Limits:MaxSessions=1", "--Leasehold:Limits:MaxWaiters=1"]);
        var api = new Api(server.Client);
        using (var first = await api.SendAsync(HttpMethod.Post, "/v1/sessions", null, """{"ttl": 30}"""))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }
        using (var second = await api.SendAsync(HttpMethod.Post, "/v1/sessions", null, """{"ttl": 30}"""))
        {
            await HttpAssert.AssertProblemAsync(second, HttpStatusCode.TooManyRequests, "quota-exceeded");
        }
        var blocker = await api.AcquireAsync("/busy", 60);
        var waiting = api.SendAsync(HttpMethod.Post, "/v1/leases", null, """{"path": "/busy", "wait": 30}""");
        var deadline = DateTime.UtcNow + TestServer.Timeout;
        while ((await api.GetJsonAsync("/v1/stats")).GetProperty("waiters").GetInt32() < 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the first waiter never queued");
            await Task.Delay(20);
        }
        using (var second = await api.SendAsync(HttpMethod.Post, "/v1/leases", null, """{"path": "/busy", "wait": 30}"""))
        {
            await HttpAssert.AssertProblemAsync(second, HttpStatusCode.TooManyRequests, "quota-exceeded");
        }
        Assert.Equal(1, (await api.GetJsonAsync("/v1/stats")).GetProperty("waiters").GetInt32());
        using (var release = await api.SendAsync(HttpMethod.Delete, $"/v1/leases/{blocker.Id}", blocker.Token))
        {
            Assert.Equal(HttpStatusCode.NoContent, release.StatusCode);
        }
        using var granted = await waiting;
        Assert.Equal(HttpStatusCode.Created, granted.StatusCode);
    }

    [Fact]
    public async Task Beyond_the_request_rate_a_principal_gets_429_rate_limited_with_retry_after()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Durability=memory", "--Leasehold:Limits:RequestsPerSecondPerPrincipal=5"]);
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 50 && limited is null; i++)
        {
            var response = await server.Client.GetAsync(new Uri("/v1/resources/x", UriKind.Relative));
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                limited = response;
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                response.Dispose();
            }
        }
        Assert.NotNull(limited);
        var body = await limited.Content.ReadAsStringAsync();
        await HttpAssert.AssertProblemAsync(limited, HttpStatusCode.TooManyRequests, "rate-limited");
        Assert.NotNull(limited.Headers.RetryAfter?.Delta);
        // The problem says it too, for callers that see no headers (a native CALL).
        Assert.Equal((int)limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds, System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("retryAfter").GetInt32());
        limited.Dispose();

        // Through a native CALL, which carries no headers: the RESULT's problem has it.
        var (native, _) = await Native.RawNative.OpenAsync(server.NativeEndPoint);
        await using var n = native;
        string? refused = null;
        for (uint i = 2; i < 60 && refused is null; i++)
        {
            await native.SendAsync(i, new Leasehold.Protocol.Native.CallMessage("GET", "/v1/resources/x", null));
            var result = (await native.ReceiveAsync()).As<Leasehold.Protocol.Native.ResultMessage>();
            if (result.Status == 429)
            {
                refused = System.Text.Encoding.UTF8.GetString(result.Body!);
            }
        }
        Assert.NotNull(refused);
        Assert.InRange(System.Text.Json.JsonDocument.Parse(refused).RootElement.GetProperty("retryAfter").GetInt32(), 1, 2);
        // Probes are never limited.
        using var health = await server.Client.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Beyond_the_requests_in_progress_a_principal_gets_429()
    {
        await using var server = await TestServer.StartAsync(["--Leasehold:Durability=memory", "--Leasehold:Limits:MaxPendingPerPrincipal=1"]);
        var api = new Api(server.Client);
        await api.AcquireAsync("/busy", 60);
        // The one request in progress: an acquire waiting two seconds for /busy.
        var waiting = api.SendAsync(HttpMethod.Post, "/v1/leases", null, """{"path": "/busy", "wait": 2}""");
        var deadline = DateTime.UtcNow + TestServer.Timeout;
        HttpStatusCode status;
        do
        {
            using var response = await server.Client.GetAsync(new Uri("/v1/resources/x", UriKind.Relative));
            status = response.StatusCode;
            if (status == HttpStatusCode.TooManyRequests)
            {
                await HttpAssert.AssertProblemAsync(response, HttpStatusCode.TooManyRequests, "rate-limited");
                break;
            }
            await Task.Delay(20);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        // Once the wait ends, the slot is free again.
        using (var refused = await waiting)
        {
            await HttpAssert.AssertProblemAsync(refused, HttpStatusCode.Conflict, "locked");
        }
        using var after = await server.Client.GetAsync(new Uri("/v1/resources/x", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }
}
