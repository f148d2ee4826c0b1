using System.Net;
using System.Text.Json.Nodes;

namespace Leasehold.Server.Tests.Security;

/// <summary>What a principal may do where: each route checks its right on its paths, denials change nothing.</summary>
public class AuthorizationTests
{
    [Fact]
    public async Task A_principal_on_the_wrong_prefix_is_403_forbidden_and_nothing_is_taken()
    {
        await using var server = await SecuredServer.StartAsync();
        using var response = await server.SendAsync("ci", HttpMethod.Post, "/v1/leases", """{"paths": ["/ci/a", "/lab/b"]}""");
        var problem = await HttpAssert.AssertProblemAsync(response, HttpStatusCode.Forbidden, "forbidden");
        Assert.Contains("ci has no lock right", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await server.HoldersAsync("/ci/a"));
        Assert.Empty(await server.HoldersAsync("/lab/b"));
    }

    [Fact]
    public async Task Renewing_or_releasing_needs_the_lock_right_on_the_lease_paths()
    {
        await using var server = await SecuredServer.StartAsync();
        using var acquired = await server.SendAsync("ci", HttpMethod.Post, "/v1/leases", """{"path": "/ci/a", "ttl": 60}""");
        var lease = await HttpAssert.ReadJsonAsync(acquired, HttpStatusCode.Created);
        var (id, token) = (lease.GetProperty("id").GetInt64(), lease.GetProperty("token").GetString());
        // Even with the token: lab has no right under /ci.
        using var release = await server.SendAsync("lab", HttpMethod.Delete, $"/v1/leases/{id}", leaseToken: token);
        await HttpAssert.AssertProblemAsync(release, HttpStatusCode.Forbidden, "forbidden");
        using var renew = await server.SendAsync(null, HttpMethod.Post, $"/v1/leases/{id}/renew", "{}", token);
        await HttpAssert.AssertProblemAsync(renew, HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Equal([id], await server.HoldersAsync("/ci/a"));
    }

    [Fact]
    public async Task Declaring_needs_declare_and_reading_needs_read()
    {
        await using var server = await SecuredServer.StartAsync();
        using (var declared = await server.SendAsync("lab", HttpMethod.Put, "/v1/resources/lab/phone-1", """{"os": "android"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, declared.StatusCode);
        }
        using (var refused = await server.SendAsync("ci", HttpMethod.Put, "/v1/resources/lab/phone-2", """{"os": "android"}"""))
        {
            await HttpAssert.AssertProblemAsync(refused, HttpStatusCode.Forbidden, "forbidden");
        }
        using (var removal = await server.SendAsync("ci", HttpMethod.Delete, "/v1/resources/lab/phone-1"))
        {
            await HttpAssert.AssertProblemAsync(removal, HttpStatusCode.Forbidden, "forbidden");
        }
        using (var reload = await server.SendAsync("lab", HttpMethod.Post, "/v1/pools/reload"))
        {
            // Reloading reads every configured pool's file: declare on all of them, which lab does not have.
            await HttpAssert.AssertProblemAsync(reload, HttpStatusCode.Forbidden, "forbidden");
        }
        using var list = await server.SendAsync("root", HttpMethod.Get, "/v1/pools/lab/resources.json");
        var resources = await HttpAssert.ReadJsonAsync(list, HttpStatusCode.OK);
        Assert.Equal("phone-1", Assert.Single(resources.EnumerateArray()).GetProperty("id").GetString());
        foreach (var url in new[] { "/v1/stats", "/v1/history", "/v1/resources?prefix=/lab", "/v1/utilization?prefix=/lab", "/v1/fences/lab/phone-1?fence=1", "/v1/pools/lab/resources.json" })
        {
            using var anonymous = await server.SendAsync(null, HttpMethod.Get, url);
            await HttpAssert.AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized, "unauthenticated");
            using var principal = await server.SendAsync("ci", HttpMethod.Get, url);
            Assert.Equal(HttpStatusCode.OK, principal.StatusCode);
        }
    }

    [Fact]
    public async Task A_pool_request_is_checked_on_its_pool()
    {
        await using var server = await SecuredServer.StartAsync();
        using (var declared = await server.SendAsync("lab", HttpMethod.Put, "/v1/resources/lab/phone-1", """{"os": "android"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, declared.StatusCode);
        }
        using var refused = await server.SendAsync("ci", HttpMethod.Post, "/v1/leases", """{"pool": "/lab", "require": {"os": "android"}}""");
        await HttpAssert.AssertProblemAsync(refused, HttpStatusCode.Forbidden, "forbidden");
        Assert.Empty(await server.HoldersAsync("/lab/phone-1"));
        using var granted = await server.SendAsync("lab", HttpMethod.Post, "/v1/leases", """{"pool": "/lab", "require": {"os": "android"}}""");
        Assert.Equal(HttpStatusCode.Created, granted.StatusCode);
    }

    [Fact]
    public async Task Sessions_need_the_lock_right_somewhere()
    {
        JsonArray rules = [SecuredServer.Rule(["ci"], "/ci/**", "lock"), SecuredServer.Rule(["lab"], "/**", "read"), SecuredServer.Rule(["anonymous"], "/warm-up/**", "read")];
        await using var server = await SecuredServer.StartAsync(rules);
        using var reader = await server.SendAsync("lab", HttpMethod.Post, "/v1/sessions", """{"ttl": 30}""");
        await HttpAssert.AssertProblemAsync(reader, HttpStatusCode.Forbidden, "forbidden");
        using var locker = await server.SendAsync("ci", HttpMethod.Post, "/v1/sessions", """{"ttl": 30}""");
        Assert.Equal(HttpStatusCode.Created, locker.StatusCode);
    }

    [Fact]
    public async Task Changed_rules_apply_without_a_restart()
    {
        await using var server = await SecuredServer.StartAsync();
        const string ToLab = """{"path": "/lab/x", "ttl": 60}""";
        using (var before = await server.SendAsync("ci", HttpMethod.Post, "/v1/leases", ToLab))
        {
            await HttpAssert.AssertProblemAsync(before, HttpStatusCode.Forbidden, "forbidden");
        }
        await server.RewriteAsync(security => security["Rules"]!.AsArray().Add(SecuredServer.Rule(["ci"], "/lab/**", "read")));
        using (var read = await server.EventuallyAsync(HttpStatusCode.OK, () => server.SendAsync("ci", HttpMethod.Get, "/v1/resources/lab/x")))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }
        using var after = await server.SendAsync("ci", HttpMethod.Post, "/v1/leases", ToLab);
        await HttpAssert.AssertProblemAsync(after, HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task A_rule_on_one_path_does_not_open_queries_pools_or_drains_under_it()
    {
        JsonArray rules = [SecuredServer.Rule(["ci"], "/ci/x", "read", "lock", "admin"), SecuredServer.Rule(["root"], "/**", "admin"), SecuredServer.Rule(["anonymous"], "/warm-up/**", "read")];
        await using var server = await SecuredServer.StartAsync(rules);
        using (var one = await server.SendAsync("ci", HttpMethod.Get, "/v1/resources/ci/x"))
        {
            Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        }
        foreach (var (method, url, body) in new (HttpMethod, string, string?)[]
        {
            (HttpMethod.Get, "/v1/resources?prefix=/ci/x", null),
            (HttpMethod.Get, "/v1/history?prefix=/ci/x", null),
            (HttpMethod.Get, "/v1/pools/ci/x/resources.json", null),
            (HttpMethod.Post, "/v1/leases", """{"pool": "/ci/x", "require": {}}"""),
            (HttpMethod.Put, "/v1/admin/drains/ci/x", null),
        })
        {
            using var response = await server.SendAsync("ci", method, url, body);
            await HttpAssert.AssertProblemAsync(response, HttpStatusCode.Forbidden, "forbidden");
        }
        using var drains = await server.SendAsync("root", HttpMethod.Get, "/v1/admin/drains");
        Assert.Empty((await HttpAssert.ReadJsonAsync(drains, HttpStatusCode.OK)).GetProperty("drains").EnumerateArray());
    }

    [Fact]
    public async Task Admin_includes_every_other_right()
    {
        await using var server = await SecuredServer.StartAsync();
        using var declared = await server.SendAsync("root", HttpMethod.Put, "/v1/resources/anywhere/r1", """{"x": 1}""");
        Assert.Equal(HttpStatusCode.OK, declared.StatusCode);
        using var acquired = await server.SendAsync("root", HttpMethod.Post, "/v1/leases", """{"path": "/anywhere/r1"}""");
        Assert.Equal(HttpStatusCode.Created, acquired.StatusCode);
    }
}
