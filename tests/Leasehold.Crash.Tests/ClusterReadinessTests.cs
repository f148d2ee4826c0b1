using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace Leasehold.Crash.Tests;

/// <summary>A cluster node that knows no leader is alive but not ready, and its metrics still answer.</summary>
public sealed class ClusterReadinessTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("leasehold-ready-").FullName;

    public void Dispose() => SharedCluster.DeleteQuietly(_root);

    [Fact]
    public async Task A_node_alone_in_a_cluster_of_three_is_live_but_not_ready_and_its_metrics_answer()
    {
        using var nodes = new ClusterNodes(3, _root);
        // One member of three: no majority, so no leader is ever elected.
        await nodes[0].StartAsync(ClusterTests.Deadline);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        // Across several election timeouts (the default is well under a second), it stays not ready.
        var checks = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(3))
        {
            using var ready = await http.GetAsync(new Uri(nodes[0].BaseAddress, "readyz"));
            var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal("failing", body.GetProperty("status").GetString());
            Assert.Equal("no cluster leader is elected", body.GetProperty("detail").GetString());
            checks++;
            await Task.Delay(200);
        }
        Assert.True(checks >= 5, $"only {checks} readiness checks in 3 s");
        using (var live = await http.GetAsync(new Uri(nodes[0].BaseAddress, "healthz")))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
        // A node without an engine has nothing held: its gauges say 0 rather than failing the scrape.
        using var metrics = await http.GetAsync(new Uri(nodes[0].BaseAddress, "metrics"));
        var text = await metrics.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Contains("leasehold_leases{otel_scope_name=\"Leasehold\"} 0", text, StringComparison.Ordinal);
    }
}
