using System.Net;
using System.Text.Json.Nodes;

namespace Leasehold.Server.Tests.Security;

/// <summary>
/// Administration needs the admin right where it acts; the lock right covers one's own leases only; quotas
/// count per principal. Each refusal changes nothing.
/// </summary>
public class AdminAccessTests
{
    private static async Task<(long Id, string Token)> AcquireAsync(SecuredServer server, string principal, string path)
    {
        using var response = await server.SendAsync(principal, HttpMethod.Post, "/v1/leases", $$"""{"path": "{{path}}", "ttl": 60}""");
        var lease = await HttpAssert.ReadJsonAsync(response, HttpStatusCode.Created);
        return (lease.GetProperty("id").GetInt64(), lease.GetProperty("token").GetString()!);
    }

    [Fact]
    public async Task Without_admin_the_admin_routes_are_403_and_change_nothing()
    {
        await using var server = await SecuredServer.StartAsync();
        var (id, _) = await AcquireAsync(server, "ci", "/ci/a");
        foreach (var (method, url) in new[]
        {
            (HttpMethod.Delete, $"/v1/admin/leases/{id}"),
            (HttpMethod.Put, "/v1/admin/drains/ci"),
            (HttpMethod.Get, "/v1/admin/leases"),
            (HttpMethod.Get, "/v1/admin/sessions"),
            (HttpMethod.Delete, "/v1/admin/sessions/1"),
        })
        {
            using var response = await server.SendAsync("ci", method, url);
            await HttpAssert.AssertProblemAsync(response, HttpStatusCode.Forbidden, "forbidden");
            using var anonymous = await server.SendAsync(null, method, url);
            await HttpAssert.AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized, "unauthenticated");
        }
        Assert.Equal([id], await server.HoldersAsync("/ci/a"));
        using var drains = await server.SendAsync("root", HttpMethod.Get, "/v1/admin/drains");
        Assert.Empty((await HttpAssert.ReadJsonAsync(drains, HttpStatusCode.OK)).GetProperty("drains").EnumerateArray());
    }

    [Fact]
    public async Task An_admin_of_a_prefix_revokes_and_drains_there_only_and_the_history_names_who()
    {
        JsonArray rules = [.. SecuredServer.DefaultRules().Select(r => r!.DeepClone()), SecuredServer.Rule(["lab"], "/lab/**", "admin")];
        await using var server = await SecuredServer.StartAsync(rules);
        var (ciLease, _) = await AcquireAsync(server, "ci", "/ci/a");
        var (labLease, _) = await AcquireAsync(server, "ci", "/ci/b");
        using (var refused = await server.SendAsync("lab", HttpMethod.Delete, $"/v1/admin/leases/{ciLease}"))
        {
            await HttpAssert.AssertProblemAsync(refused, HttpStatusCode.Forbidden, "forbidden");
        }
        using (var refused = await server.SendAsync("lab", HttpMethod.Put, "/v1/admin/drains/ci"))
        {
            await HttpAssert.AssertProblemAsync(refused, HttpStatusCode.Forbidden, "forbidden");
        }
        using (var drained = await server.SendAsync("lab", HttpMethod.Put, "/v1/admin/drains/lab/rig-1"))
        {
            Assert.Equal(HttpStatusCode.Created, drained.StatusCode);
        }
        using (var revoked = await server.SendAsync("root", HttpMethod.Delete, $"/v1/admin/leases/{ciLease}"))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        }
        Assert.Empty(await server.HoldersAsync("/ci/a"));
        Assert.Equal([labLease], await server.HoldersAsync("/ci/b"));
        using var history = await server.SendAsync("root", HttpMethod.Get, "/v1/history?prefix=/ci");
        var entry = Assert.Single((await HttpAssert.ReadJsonAsync(history, HttpStatusCode.OK)).GetProperty("entries").EnumerateArray());
        Assert.Equal("root", entry.GetProperty("endedBy").GetString());
        Assert.Equal("ci", entry.GetProperty("principal").GetString());
    }

    [Fact]
    public async Task The_lock_right_covers_ones_own_leases_only()
    {
        JsonArray rules = [.. SecuredServer.DefaultRules().Select(r => r!.DeepClone()), SecuredServer.Rule(["lab"], "/ci/**", "lock")];
        await using var server = await SecuredServer.StartAsync(rules);
        var (id, token) = await AcquireAsync(server, "ci", "/ci/a");
        // lab may lock under /ci, and has the token, but the lease is ci's.
        using (var release = await server.SendAsync("lab", HttpMethod.Delete, $"/v1/leases/{id}", leaseToken: token))
        {
            var problem = await HttpAssert.AssertProblemAsync(release, HttpStatusCode.Forbidden, "forbidden");
            Assert.Contains("admin", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        Assert.Equal([id], await server.HoldersAsync("/ci/a"));
        using var own = await server.SendAsync("ci", HttpMethod.Delete, $"/v1/leases/{id}", leaseToken: token);
        Assert.Equal(HttpStatusCode.NoContent, own.StatusCode);
    }

    [Fact]
    public async Task Keeping_alive_or_closing_another_principals_session_needs_admin()
    {
        await using var server = await SecuredServer.StartAsync();
        using var opened = await server.SendAsync("ci", HttpMethod.Post, "/v1/sessions", """{"ttl": 30}""");
        var session = await HttpAssert.ReadJsonAsync(opened, HttpStatusCode.Created);
        var (id, token) = (session.GetProperty("id").GetInt64(), session.GetProperty("token").GetString());
        using (var keepAlive = await server.SendAsync("lab", HttpMethod.Post, $"/v1/sessions/{id}/keepalive", leaseToken: token))
        {
            await HttpAssert.AssertProblemAsync(keepAlive, HttpStatusCode.Forbidden, "forbidden");
        }
        using (var close = await server.SendAsync("lab", HttpMethod.Delete, $"/v1/sessions/{id}", leaseToken: token))
        {
            await HttpAssert.AssertProblemAsync(close, HttpStatusCode.Forbidden, "forbidden");
        }
        using (var own = await server.SendAsync("ci", HttpMethod.Post, $"/v1/sessions/{id}/keepalive", leaseToken: token))
        {
            Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        }
        using var closed = await server.SendAsync("root", HttpMethod.Delete, $"/v1/sessions/{id}", leaseToken: token);
        Assert.Equal(HttpStatusCode.NoContent, closed.StatusCode);
    }

    [Fact]
    public async Task History_leaves_out_leases_that_held_paths_the_caller_may_not_read()
    {
        JsonArray rules = [SecuredServer.Rule(["ci"], "/ci/**", "lock", "read"), SecuredServer.Rule(["root"], "/**", "admin"), SecuredServer.Rule(["anonymous"], "/warm-up/**", "read")];
        await using var server = await SecuredServer.StartAsync(rules);
        foreach (var body in new[] { """{"paths": ["/ci/a", "/lab/b"]}""", """{"path": "/ci/c"}""" })
        {
            using var acquired = await server.SendAsync("root", HttpMethod.Post, "/v1/leases", body);
            var lease = await HttpAssert.ReadJsonAsync(acquired, HttpStatusCode.Created);
            using var released = await server.SendAsync("root", HttpMethod.Delete, $"/v1/leases/{lease.GetProperty("id").GetInt64()}", leaseToken: lease.GetProperty("token").GetString());
            Assert.Equal(HttpStatusCode.NoContent, released.StatusCode);
        }
        using var asCi = await server.SendAsync("ci", HttpMethod.Get, "/v1/history?prefix=/ci");
        var seen = (await HttpAssert.ReadJsonAsync(asCi, HttpStatusCode.OK)).GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(["/ci/c"], seen.Select(e => string.Join(",", e.GetProperty("paths").EnumerateArray().Select(p => p.GetString()))));
        using var asRoot = await server.SendAsync("root", HttpMethod.Get, "/v1/history?prefix=/ci");
        Assert.Equal(2, (await HttpAssert.ReadJsonAsync(asRoot, HttpStatusCode.OK)).GetProperty("entries").GetArrayLength());
    }

    [Fact]
    public async Task Quotas_count_per_principal()
    {
        JsonArray rules = [.. SecuredServer.DefaultRules().Select(r => r!.DeepClone()), SecuredServer.Rule(["lab"], "/ci/**", "lock")];
        await using var server = await SecuredServer.StartAsync(rules, "--Leasehold:Limits:MaxLeasesPerPrincipal=2", "--Leasehold:Limits:MaxSessionsPerPrincipal=1");
        await AcquireAsync(server, "ci", "/ci/a");
        await AcquireAsync(server, "ci", "/ci/b");
        using (var third = await server.SendAsync("ci", HttpMethod.Post, "/v1/leases", """{"path": "/ci/c"}"""))
        {
            var problem = await HttpAssert.AssertProblemAsync(third, HttpStatusCode.TooManyRequests, "quota-exceeded");
            Assert.Contains("principal ci", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        Assert.Empty(await server.HoldersAsync("/ci/c"));
        // Another principal has its own count.
        await AcquireAsync(server, "lab", "/ci/c");
        using (var session = await server.SendAsync("ci", HttpMethod.Post, "/v1/sessions", """{"ttl": 30}"""))
        {
            Assert.Equal(HttpStatusCode.Created, session.StatusCode);
        }
        using (var second = await server.SendAsync("ci", HttpMethod.Post, "/v1/sessions", """{"ttl": 30}"""))
        {
            await HttpAssert.AssertProblemAsync(second, HttpStatusCode.TooManyRequests, "quota-exceeded");
        }
        using var labSession = await server.SendAsync("lab", HttpMethod.Post, "/v1/sessions", """{"ttl": 30}""");
        Assert.Equal(HttpStatusCode.Created, labSession.StatusCode);
    }
}
