using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Leasehold.Server.Tests.Admin;

/// <summary>
/// The authenticated caller's name reaches leases, sessions, history and the administrators' records. The
/// access-control work is not here yet, so a start-up filter stands in for it: it names the caller from a
/// test header, as an authentication handler would.
/// </summary>
public sealed class PrincipalTests
{
    private const string AsHeader = "X-Test-Principal";

    [Fact]
    public async Task Principals_are_recorded_on_leases_sessions_history_and_admin_actions()
    {
        await using var server = await TestServer.StartAsync([], configureServices: s => s.AddTransient<IStartupFilter, NameFromHeader>());
        var alice = server.CreateClient();
        alice.DefaultRequestHeaders.Add(AsHeader, "alice");
        var root = server.CreateClient();
        root.DefaultRequestHeaders.Add(AsHeader, "root");

        var lease = await new Api(alice).AcquireAsync("/p/1", 600, owner: "job");
        var anonymous = await new Api(server.Client).AcquireAsync("/p/2", 600);
        using var opened = await alice.PostAsync(new Uri("/v1/sessions", UriKind.Relative), new StringContent("""{"ttl":60}""", System.Text.Encoding.UTF8, "application/json"));
        var session = await HttpAssert.ReadJsonAsync(opened, HttpStatusCode.Created);

        Assert.Equal("alice", (await new Api(server.Client).GetJsonAsync($"/v1/leases/{lease.Id}")).GetProperty("principal").GetString());
        Assert.Equal("alice", session.GetProperty("principal").GetString());
        var byAlice = await new Api(server.Client).GetJsonAsync("/v1/admin/leases?principal=alice");
        Assert.Equal([lease.Id], byAlice.GetProperty("leases").EnumerateArray().Select(l => l.GetProperty("id").GetInt64()));
        Assert.Single((await new Api(server.Client).GetJsonAsync("/v1/admin/sessions?principal=alice")).GetProperty("sessions").EnumerateArray());

        (await new Api(root).SendAsync(HttpMethod.Delete, $"/v1/admin/leases/{lease.Id}", null)).Dispose();
        using (var drained = await new Api(root).SendAsync(HttpMethod.Put, "/v1/admin/drains/p", null))
        {
            Assert.Equal("root", (await HttpAssert.ReadJsonAsync(drained, HttpStatusCode.Created)).GetProperty("actor").GetString());
        }

        var entry = Assert.Single((await new Api(server.Client).GetJsonAsync("/v1/history")).GetProperty("entries").EnumerateArray());
        Assert.Equal(("alice", "root", "revoked"), (entry.GetProperty("principal").GetString(), entry.GetProperty("endedBy").GetString(), entry.GetProperty("reason").GetString()));
        Assert.Equal([anonymous.Id], await new Api(server.Client).HoldersAsync("/p/2"));
    }

    /// <summary>Names the caller from <see cref="AsHeader"/>, ahead of the server's own pipeline.</summary>
    private sealed class NameFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, following) =>
            {
                if (context.Request.Headers.TryGetValue(AsHeader, out var name))
                {
                    context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, name.ToString())], "test"));
                }
                return following(context);
            });
            next(app);
        };
    }
}
