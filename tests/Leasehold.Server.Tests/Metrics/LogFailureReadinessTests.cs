using System.Net;

namespace Leasehold.Server.Tests.Metrics;

/// <summary>A log that can no longer be written makes the server not ready, while it stays alive.</summary>
public sealed class LogFailureReadinessTests
{
    [Fact]
    public async Task A_log_that_cannot_be_written_makes_readyz_503_while_healthz_stays_200()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "leasehold-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        try
        {
            // A snapshot every 2 records cuts the log into a new segment; a directory where that segment's file would
            // go makes creating it fail (for root too), as a full or broken disk would.
            for (var index = 2; index <= 40; index++)
            {
                Directory.CreateDirectory(Path.Combine(dataDir, $"wal-{index:D20}.log"));
            }
            await using var server = await TestServer.StartAsync(["--Leasehold:SnapshotEvery=2"], dataDir);
            var api = new Api(server.Client);
            using (var ready = await server.Client.GetAsync(new Uri("/readyz", UriKind.Relative)))
            {
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            }
            var refused = false;
            for (var i = 0; i < 20 && !refused; i++)
            {
                using var response = await server.Client.PostAsync(new Uri("/v1/leases", UriKind.Relative),
                    new StringContent($$"""{"path": "/fail/{{i}}"}""", System.Text.Encoding.UTF8, "application/json"));
                refused = response.StatusCode != HttpStatusCode.Created;
            }
            Assert.True(refused, "20 acquires were all granted: the log never failed");

            using (var ready = await server.Client.GetAsync(new Uri("/readyz", UriKind.Relative)))
            {
                var body = await HttpAssert.ReadJsonAsync(ready, HttpStatusCode.ServiceUnavailable);
                Assert.Equal("failing", body.GetProperty("status").GetString());
                Assert.StartsWith("the log could not be written", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }
            var live = await api.GetJsonAsync("/healthz");
            Assert.Equal("ok", live.GetProperty("status").GetString());
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }
}
