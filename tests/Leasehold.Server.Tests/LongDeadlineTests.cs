using System.Net;

namespace Leasehold.Server.Tests;

/// <summary>
/// Every deadline the engine accepts can be scheduled. A .NET timer cannot be set beyond 2^32-2 ms
/// (49.7 days): a lease or renewal longer than that, once it was the earliest deadline, used to kill the
/// writer loop, so every later request hung, and the data directory froze each restart the same way.
/// </summary>
public sealed class LongDeadlineTests : IAsyncLifetime
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "leasehold-long-" + Guid.NewGuid().ToString("N"));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        if (Directory.Exists(_dataDir))
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData(4_294_968)] // one second past what a timer can be set for
    [InlineData(31_622_400)] // the documented maximum, 366 days
    public async Task A_lease_longer_than_a_timer_can_wait_leaves_the_server_serving_also_after_a_restart(long ttlSeconds)
    {
        long longId;
        await using (var server = await TestServer.StartAsync([], _dataDir))
        {
            var api = new Api(server.Client);
            var held = await api.AcquireAsync("/long/a", ttlSeconds);
            longId = held.Id;
            await api.AssertServesAsync("/long/b");

            // A renewal to the maximum does the same from the other side: the renewed lease becomes the deadline.
            var renewed = await api.AcquireAsync("/long/c", 5);
            using (var renew = await api.SendAsync(HttpMethod.Post, $"/v1/leases/{renewed.Id}/renew", renewed.Token, "{\"ttl\": 31622400}"))
            {
                Assert.Equal(HttpStatusCode.OK, renew.StatusCode);
            }
            await api.AssertServesAsync("/long/d");
        }

        // The same directory starts, and keeps serving past the first wake-up of the expiry timer.
        await using (var server = await TestServer.StartAsync([], _dataDir))
        {
            var api = new Api(server.Client);
            await api.AssertServesAsync("/long/e");
            var lease = await HttpAssert.ReadJsonAsync(await server.Client.GetAsync(new Uri($"/v1/leases/{longId}", UriKind.Relative)), HttpStatusCode.OK);
            Assert.Equal("/long/a", lease.GetProperty("paths")[0].GetString());
            var ready = await HttpAssert.ReadJsonAsync(await server.Client.GetAsync(new Uri("/readyz", UriKind.Relative)), HttpStatusCode.OK);
            Assert.Equal("ok", ready.GetProperty("status").GetString());
        }
    }
}
