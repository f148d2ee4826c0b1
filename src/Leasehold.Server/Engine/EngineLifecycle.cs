namespace Leasehold.Server.Engine;

/// <summary>
/// The writer's part in the host's lifetime, as a hosted service. When the server starts, the engine host's loops start
/// (<see cref="EngineHost.Start()"/>, in <see cref="StartingAsync"/>: every hosted service's <c>StartingAsync</c> runs
/// before any <c>StartAsync</c>, so whatever writes through the engine from <c>StartAsync</c> on, such as the
/// <see cref="Pools.PoolLoader"/>, is answered). When the server starts stopping (before Kestrel waits for requests in
/// progress), every waiting request is answered <c>shutting-down</c>, so no wait holds the shutdown open until its own
/// time runs out. A writer that died has answered them already; a cluster node that does not lead has none. Then every
/// event stream ends (<c>cut-off</c>, <c>shutting-down</c>).
/// </summary>
internal sealed partial class EngineLifecycle(EngineHost host, Events.EventHub events, ILogger<EngineLifecycle> logger) : IHostedLifecycleService
{
    private static readonly TimeSpan DropTimeout = TimeSpan.FromSeconds(5);

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await DropWaitersAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // After the waiters' dequeued events: event streams would hold the shutdown open as waits would.
            events.Stop();
        }
    }

    private async Task DropWaitersAsync(CancellationToken cancellationToken)
    {
        if (host.WriterFailure is not null)
        {
            return;
        }
        try
        {
            var dropped = await host.DropWaitersAsync().WaitAsync(DropTimeout, cancellationToken).ConfigureAwait(false);
            if (dropped > 0)
            {
                LogDropped(dropped);
            }
        }
        catch (Exception ex) when (ex is NotLeaderException or TimeoutException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // Nothing to answer here, or the writer cannot: the waiters' connections close with the server.
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        host.Start();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: answered {Count} waiting requests shutting-down")]
    private partial void LogDropped(int count);
}
