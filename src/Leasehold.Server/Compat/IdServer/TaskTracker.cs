using System.Collections.Concurrent;

namespace Leasehold.Server.Compat.IdServer;

/// <summary>The tasks a listener started (requests, connections), so that stopping can wait for them.</summary>
internal sealed class TaskTracker
{
    private readonly ConcurrentDictionary<Task, byte> _running = new();

    public void Track(Task task)
    {
        _running.TryAdd(task, 0);
        task.ContinueWith(t => _running.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Completes when every task tracked so far has ended (they never throw: each catches its own errors).</summary>
    public Task WhenAll() => Task.WhenAll(_running.Keys);
}
