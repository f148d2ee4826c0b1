using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Leasehold.Server.Tests;

/// <summary>
/// Live deadlines run on the monotonic clock: a step of the wall clock neither ends nor extends a lease
/// or a wait. The real server runs with an injected clock whose wall time can jump while its monotonic
/// time only moves when the test advances it.
/// </summary>
public sealed class ClockStepTests : IAsyncLifetime
{
    private readonly SteppingClock _clock = new(DateTimeOffset.UtcNow);
    private TestServer? _server;

    private Api Api => new(_server!.Client);

    public async Task InitializeAsync()
        => _server = await TestServer.StartAsync([], configureServices: services => services.AddSingleton<TimeProvider>(_clock));

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_wall_clock_jump_forward_does_not_end_a_lease()
    {
        var lease = await Api.AcquireAsync("/clock/a", 600, "first");
        _clock.StepWallClock(TimeSpan.FromHours(1));
        _clock.Advance(TimeSpan.FromSeconds(1.5));

        Assert.Equal([lease.Id], await Api.HoldersAsync("/clock/a"));
        using var other = await Api.SendAsync(HttpMethod.Post, "/v1/leases", null, "{\"path\": \"/clock/a\", \"owner\": \"second\"}");
        await HttpAssert.AssertProblemAsync(other, HttpStatusCode.Conflict, "locked");
        var got = await Api.GetJsonAsync($"/v1/leases/{lease.Id}");
        Assert.Equal(lease.Fence, got.GetProperty("fence").GetInt64());
    }

    [Fact]
    public async Task A_wall_clock_step_back_does_not_extend_a_lease_or_a_wait()
    {
        var lease = await Api.AcquireAsync("/clock/b", 2, "first");
        var waiting = Api.SendAsync(HttpMethod.Post, "/v1/leases", null, "{\"path\": \"/clock/b\", \"owner\": \"waiter\", \"wait\": 1}");
        await WaitForQueueAsync("/clock/b", 1);

        _clock.StepWallClock(TimeSpan.FromHours(-2));
        _clock.Advance(TimeSpan.FromSeconds(1.1));
        // The wait (1 s) ran out before the lease (2 s) did: the waiter is answered, not left waiting for two hours.
        using (var answer = await waiting.WaitAsync(TestServer.Timeout))
        {
            await HttpAssert.AssertProblemAsync(answer, HttpStatusCode.Conflict, "locked");
        }
        Assert.Equal([lease.Id], await Api.HoldersAsync("/clock/b"));

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(await Api.HoldersAsync("/clock/b"));
        using var gone = await Api.SendAsync(HttpMethod.Get, $"/v1/leases/{lease.Id}", null);
        await HttpAssert.AssertProblemAsync(gone, HttpStatusCode.NotFound, "not-found");
    }

    private async Task WaitForQueueAsync(string path, int length)
    {
        using var cts = new CancellationTokenSource(TestServer.Timeout);
        while ((await Api.GetJsonAsync("/v1/resources" + path)).GetProperty("queue").GetArrayLength() != length)
        {
            await Task.Delay(10, cts.Token);
        }
    }

    [Fact]
    public async Task A_wall_clock_that_went_back_while_the_server_was_down_does_not_stretch_a_lease()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "leasehold-clock-" + Guid.NewGuid().ToString("N"));
        try
        {
            var start = DateTimeOffset.UtcNow;
            long id;
            await using (var first = await TestServer.StartAsync([], dataDir, services => services.AddSingleton<TimeProvider>(new SteppingClock(start))))
            {
                id = (await new Api(first.Client).AcquireAsync("/clock/r", 600)).Id;
            }

            // Restarted with the wall clock two hours behind: recovery gives the lease its full ttl, no more.
            var behind = new SteppingClock(start - TimeSpan.FromHours(2));
            await using var second = await TestServer.StartAsync([], dataDir, services => services.AddSingleton<TimeProvider>(behind));
            var api = new Api(second.Client);
            behind.Advance(TimeSpan.FromSeconds(599));
            Assert.Equal([id], await api.HoldersAsync("/clock/r"));
            behind.Advance(TimeSpan.FromSeconds(2));
            Assert.Empty(await api.HoldersAsync("/clock/r"));
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    /// <summary>A fake clock whose wall time can be stepped without moving its monotonic time.</summary>
    private sealed class SteppingClock(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private TimeSpan _step;

        public void StepWallClock(TimeSpan by) => _step += by;

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + _step;

        // The fake's own timestamp is read through GetUtcNow: keep it on the unstepped time line.
        public override long GetTimestamp() => base.GetUtcNow().UtcTicks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    }
}
