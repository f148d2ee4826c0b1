using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Leasehold.Server.Tests.Security;

namespace Leasehold.Server.Tests.Events;

/// <summary>Reading the event stream takes the read right on the whole prefix.</summary>
public class EventSecurityTests
{
    [Fact]
    public async Task A_caller_without_read_on_the_prefix_gets_403_and_one_without_credentials_401()
    {
        JsonArray rules =
        [
            SecuredServer.Rule(["ci"], "/ci/**", "lock", "read"),
            SecuredServer.Rule(["lab"], "/lab/**", "read"),
            SecuredServer.Rule(["root"], "/**", "admin"),
            SecuredServer.Rule(["anonymous"], "/warm-up/**", "read"),
        ];
        await using var server = await SecuredServer.StartAsync(rules);
        using (var forbidden = await server.SendAsync("lab", HttpMethod.Get, "/v1/events?prefix=/ci"))
        {
            await HttpAssert.AssertProblemAsync(forbidden, HttpStatusCode.Forbidden, "forbidden");
        }
        // The whole tree (sessions' events included) needs read on the whole tree.
        using (var forbidden = await server.SendAsync("ci", HttpMethod.Get, "/v1/events"))
        {
            await HttpAssert.AssertProblemAsync(forbidden, HttpStatusCode.Forbidden, "forbidden");
        }
        using (var anonymous = await server.SendAsync(null, HttpMethod.Get, "/v1/events?prefix=/ci"))
        {
            await HttpAssert.AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized, "unauthenticated");
        }

        // With the right: the stream, and what happens under the prefix.
        var client = server.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.Keys["ci"]);
        await using var stream = await SseStream.OpenAsync(client, "/v1/events?prefix=/ci");
        using (var acquired = await server.SendAsync("ci", HttpMethod.Post, "/v1/leases", """{"path": "/ci/a"}"""))
        {
            Assert.Equal(HttpStatusCode.Created, acquired.StatusCode);
        }
        var granted = await stream.NextEventAsync();
        Assert.Equal("granted", granted.Event);
        Assert.Equal("ci", granted.Json.GetProperty("lease").GetProperty("principal").GetString());
    }

    private static async Task<SseStream> OpenAsAsync(SecuredServer server, string principal, string url)
    {
        var client = server.Server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", server.Keys[principal]);
        return await SseStream.OpenAsync(client, url);
    }

    [Fact]
    public async Task A_change_of_the_security_settings_cuts_every_stream_off_with_credentials_changed()
    {
        await using var server = await SecuredServer.StartAsync();
        await using var ci = await OpenAsAsync(server, "ci", "/v1/events?prefix=/ci");
        await using var root = await OpenAsAsync(server, "root", "/v1/events");
        using (var acquired = await server.SendAsync("ci", HttpMethod.Post, "/v1/leases", """{"path": "/ci/a"}"""))
        {
            Assert.Equal(HttpStatusCode.Created, acquired.StatusCode);
        }
        var granted = await ci.NextEventAsync();
        Assert.Equal("granted", granted.Event);

        // ci loses its read right on /ci: a stream checked at its start must not go on as if nothing changed.
        await server.RewriteAsync(security => security["Rules"] = new JsonArray(SecuredServer.Rule(["root"], "/**", "admin")));
        Assert.Equal("granted", (await root.NextEventAsync()).Event);
        foreach (var stream in new[] { ci, root })
        {
            var cutOff = await stream.NextEventAsync();
            Assert.Equal(("cut-off", "credentials-changed"), (cutOff.Event, cutOff.Json.GetProperty("reason").GetString()));
            Assert.True(await stream.EndsWithinAsync(SecuredServer.Timeout));
        }
        // Checked anew on reconnection.
        using var refused = await server.SendAsync("ci", HttpMethod.Get, "/v1/events?prefix=/ci");
        await HttpAssert.AssertProblemAsync(refused, HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task A_stream_ends_with_credentials_changed_when_its_key_expires()
    {
        var expires = DateTimeOffset.UtcNow.AddSeconds(3);
        await using var server = await SecuredServer.StartAsync(null, $"--Leasehold:Security:ApiKeys:ci-key:Expires={expires:O}");
        await using var ci = await OpenAsAsync(server, "ci", "/v1/events?prefix=/ci");
        await using var root = await OpenAsAsync(server, "root", "/v1/events?prefix=/ci");
        var cutOff = await ci.NextEventAsync();
        Assert.Equal(("cut-off", "credentials-changed"), (cutOff.Event, cutOff.Json.GetProperty("reason").GetString()));
        Assert.True(DateTimeOffset.UtcNow >= expires.AddMilliseconds(-100), $"cut off {(expires - DateTimeOffset.UtcNow).TotalMilliseconds:0} ms before the key expired");
        Assert.True(await ci.EndsWithinAsync(SecuredServer.Timeout));
        // A key without an expiry streams on.
        using (var acquired = await server.SendAsync("root", HttpMethod.Post, "/v1/leases", """{"path": "/ci/b"}"""))
        {
            Assert.Equal(HttpStatusCode.Created, acquired.StatusCode);
        }
        Assert.Equal("granted", (await root.NextEventAsync()).Event);
    }

    [Fact]
    public async Task Session_events_reach_only_callers_with_admin_on_the_root_as_listing_sessions_does()
    {
        await using var server = await SecuredServer.StartAsync();
        await using var reader = await OpenAsAsync(server, "ci", "/v1/events");
        await using var admin = await OpenAsAsync(server, "root", "/v1/events");
        var opened = await server.SendAsync("ci", HttpMethod.Post, "/v1/sessions", """{"ttl": 60, "owner": "worker"}""");
        var session = await HttpAssert.ReadJsonAsync(opened, HttpStatusCode.Created);
        using (var acquired = await server.SendAsync("ci", HttpMethod.Post, "/v1/leases", $$"""{"path": "/ci/s", "session": {{session.GetProperty("id").GetInt64()}}}"""))
        {
            Assert.Equal(HttpStatusCode.Created, acquired.StatusCode);
        }
        Assert.Equal(["session-opened", "granted"], [(await admin.NextEventAsync()).Event!, (await admin.NextEventAsync()).Event!]);
        // The reader of the whole tree gets the lease, not the session (its owner and principal are the admin's to list).
        Assert.Equal("granted", (await reader.NextEventAsync()).Event);
        using (var listing = await server.SendAsync("ci", HttpMethod.Get, "/v1/admin/sessions"))
        {
            await HttpAssert.AssertProblemAsync(listing, HttpStatusCode.Forbidden, "forbidden");
        }
    }
}
