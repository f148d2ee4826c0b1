using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Leasehold.Server.Tests.Admin;

/// <summary>Every administrator's action writes one line to the Leasehold.Audit category: who, what, which, outcome.</summary>
public sealed class AuditLogTests
{
    [Fact]
    public async Task Each_action_logs_one_audit_line_with_actor_target_and_outcome()
    {
        var lines = new LineCollector();
        await using var server = await TestServer.StartAsync(
            ["--Logging:LogLevel:Leasehold.Audit=Information"], configureServices: s => s.AddSingleton<ILoggerProvider>(lines));
        var api = new Api(server.Client);
        var lease = await api.AcquireAsync("/rig/7", 600, owner: "job-1");

        (await api.SendAsync(HttpMethod.Delete, $"/v1/admin/leases/{lease.Id}", null)).Dispose();
        (await api.SendAsync(HttpMethod.Delete, $"/v1/admin/leases/{lease.Id}", null)).Dispose();
        (await api.SendAsync(HttpMethod.Put, "/v1/admin/drains/rig", null)).Dispose();
        (await api.SendAsync(HttpMethod.Put, "/v1/admin/drains/rig", null)).Dispose();
        using (var undrain = await api.SendAsync(HttpMethod.Delete, "/v1/admin/drains/rig", null))
        {
            Assert.Equal(HttpStatusCode.OK, undrain.StatusCode);
        }
        (await api.SendAsync(HttpMethod.Delete, "/v1/admin/sessions/99", null)).Dispose();
        (await api.GetJsonAsync("/v1/admin/leases")).GetProperty("leases");

        Assert.Equal(
        [
            $"Admin anonymous revoke lease {lease.Id} (owner job-1, /rig/7): ok",
            $"Admin anonymous revoke lease {lease.Id}: not-found",
            "Admin anonymous drain /rig: ok",
            "Admin anonymous drain /rig: unchanged (already drained)",
            "Admin anonymous undrain /rig: ok",
            "Admin anonymous end-session session 99: not-found",
        ], lines.Of("Leasehold.Audit"));
    }

    /// <summary>Collects formatted log lines by category.</summary>
    private sealed class LineCollector : ILoggerProvider
    {
        private readonly ConcurrentQueue<(string Category, string Line)> _lines = new();

        public string[] Of(string category) => [.. _lines.Where(l => l.Category == category).Select(l => l.Line)];

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<(string, string)> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => lines.Enqueue((category, formatter(state, exception)));
        }
    }
}
