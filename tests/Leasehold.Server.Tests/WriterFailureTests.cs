using Leasehold.Server.Engine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Leasehold.Server.Tests;

/// <summary>
/// If the writer loop itself dies (a bug outside any one request), the server must not go on looking
/// healthy while every request hangs: it answers what is queued, reports failing health, and stops with
/// a failure exit code. The failure is provoked the way it once happened: the expiry timer refuses its time.
/// </summary>
public sealed class WriterFailureTests
{
    [Fact]
    public async Task A_dead_writer_fails_requests_at_once_reports_failing_health_and_stops_the_server()
    {
        await using var server = await TestServer.StartAsync([], configureServices: services => services.AddSingleton<TimeProvider>(new RefusingTimerClock()));
        var api = new Api(server.Client);
        var stopping = server.App.Lifetime.ApplicationStopping;

        // The first deadline arms the timer, which throws on the writer thread, outside any request.
        await api.SendAsync(HttpMethod.Post, "/v1/leases", null, "{\"path\": \"/w/a\", \"ttl\": 60}");

        var stopped = new TaskCompletionSource();
        using (stopping.Register(() => stopped.TrySetResult()))
        {
            await stopped.Task.WaitAsync(TestServer.Timeout);
        }
        var host = server.App.Services.GetRequiredService<EngineHost>();
        Assert.NotNull(host.WriterFailure);
        // Work sent now is refused at once, never left waiting for a loop that is gone.
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => host.ExecuteAsync(w => w.Engine.Leases.Count).WaitAsync(TestServer.Timeout));
        Assert.IsNotType<TimeoutException>(refused);

        var health = server.App.Services.GetRequiredService<HealthCheckService>();
        foreach (var tag in new[] { "live", "ready" })
        {
            var report = await health.CheckHealthAsync(c => c.Tags.Contains(tag));
            Assert.Equal(HealthStatus.Unhealthy, report.Status);
            Assert.Contains("writer stopped", report.Entries["writer"].Description, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_server_whose_writer_died_exits_with_code_70()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "leasehold-writer-" + Guid.NewGuid().ToString("N"));
        try
        {
            var app = LeaseholdApp.Build(["--urls", "http://127.0.0.1:0", "--data-dir", dataDir, "--Logging:LogLevel:Default=None"],
                services => services.AddSingleton<TimeProvider>(new RefusingTimerClock()));
            var started = new TaskCompletionSource();
            app.Lifetime.ApplicationStarted.Register(() => started.TrySetResult());
            var run = LeaseholdApp.RunAsync(app);
            await started.Task.WaitAsync(TestServer.Timeout);
            using var client = new HttpClient { BaseAddress = new Uri(app.Urls.Single()), Timeout = TestServer.Timeout };

            await new Api(client).SendAsync(HttpMethod.Post, "/v1/leases", null, "{\"path\": \"/w/a\", \"ttl\": 60}");

            Assert.Equal(LeaseholdApp.WriterDiedExitCode, await run.WaitAsync(TestServer.Timeout));
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_healthy_server_is_live_and_ready()
    {
        await using var server = await TestServer.StartAsync();
        var api = new Api(server.Client);
        foreach (var url in new[] { "/healthz", "/readyz" })
        {
            var body = await api.GetJsonAsync(url);
            Assert.Equal("ok", body.GetProperty("status").GetString());
            Assert.False(body.TryGetProperty("detail", out _));
        }
    }

    /// <summary>The system clock, with timers that throw when set to any finite time.</summary>
    private sealed class RefusingTimerClock : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new Refusing();

        private sealed class Refusing : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period)
                => dueTime == Timeout.InfiniteTimeSpan ? true : throw new ArgumentOutOfRangeException(nameof(dueTime), "refused by the test clock");

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
