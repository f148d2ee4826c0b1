using System.Net;
using System.Text.Json.Nodes;
using Leasehold.Server.Tests.Security;

namespace Leasehold.Server.Tests.Metrics;

/// <summary>With security on, <c>/metrics</c> needs the <c>read</c> right on the whole tree, as <c>/v1/stats</c> does.</summary>
public class MetricsAccessTests
{
    [Fact]
    public async Task Metrics_need_the_read_right_on_the_whole_tree_with_security_on()
    {
        JsonArray rules =
        [
            SecuredServer.Rule(["root"], "/**", "read"),
            SecuredServer.Rule(["ci"], "/ci/**", "lock", "read"),
            SecuredServer.Rule(["anonymous"], "/warm-up/**", "read"),
        ];
        await using var server = await SecuredServer.StartAsync(rules);
        using (var anonymous = await server.SendAsync(null, HttpMethod.Get, "/metrics"))
        {
            await HttpAssert.AssertProblemAsync(anonymous, HttpStatusCode.Unauthorized, "unauthenticated");
        }
        using (var partial = await server.SendAsync("ci", HttpMethod.Get, "/metrics"))
        {
            await HttpAssert.AssertProblemAsync(partial, HttpStatusCode.Forbidden, "forbidden");
        }
        using var reader = await server.SendAsync("root", HttpMethod.Get, "/metrics");
        var text = await reader.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, reader.StatusCode);
        // The refusals above were counted, with their codes.
        var scrape = Scrape.Parse(text);
        Assert.Equal(1, scrape.Sum("leasehold_http_requests_total", "route=/metrics", "status=401", "code=unauthenticated"));
        Assert.Equal(1, scrape.Sum("leasehold_http_requests_total", "route=/metrics", "status=403", "code=forbidden"));
    }
}
