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
}
