using System.Diagnostics;
using Leasehold.Client;

namespace Leasehold.DistributedLock.Tests;

/// <summary>
/// The base of the contract tests: one fresh real server per test, clients of it over <see cref="Transport"/> (each
/// abstract test class runs once per transport, through the concrete classes in Transports.cs), and bounded waits.
/// </summary>
public abstract class LockTestBase : IAsyncLifetime
{
    private LockTestServer? _server;
    private LeaseholdClient? _observer;

    /// <summary>The transport the tests of this class go through.</summary>
    protected abstract Transport Transport { get; }

    protected LockTestServer Server => _server ?? throw new InvalidOperationException("the server is not started");

    /// <summary>
    /// A client over <see cref="Transport"/>. Its sessions live 3 s, so that over HTTP (where a lost lease is noticed at
    /// the next keep-alive, every third of that) a revoke is seen within a second.
    /// </summary>
    protected LeaseholdClient CreateClient(Action<LeaseholdClientOptions>? configure = null)
        => Server.CreateClient(Transport, o =>
        {
            o.SessionTtl = TimeSpan.FromSeconds(3);
            configure?.Invoke(o);
        });

    /// <summary>A provider on a client of its own (as another process would have).</summary>
    protected LeaseholdDistributedSynchronizationProvider CreateProvider(LeaseholdDistributedLockOptions? options = null)
        => new(CreateClient(), options);

    public async Task InitializeAsync() => _server = await LockTestServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>The leases the server holds on <paramref name="path"/>, and its queue there (asked by one client of the test's own, not one per call).</summary>
    protected async Task<(int Holders, int Waiters)> StateOfAsync(string path)
    {
        var observer = _observer ??= CreateClient();
        var resource = await observer.GetResourceAsync(path);
        return (resource.Holders.Length, resource.Queue.Length);
    }

    /// <summary>Waits, at most <paramref name="within"/>, for <paramref name="token"/> to fire; fails the test if it does not.</summary>
    protected static async Task AssertFiresAsync(CancellationToken token, TimeSpan within, string what)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (token.Register(() => fired.TrySetResult()))
        {
            var done = await Task.WhenAny(fired.Task, Task.Delay(within));
            Assert.True(done == fired.Task, $"{what}: did not fire within {within.TotalSeconds} s");
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, at most <paramref name="within"/> (default: the fixture's bound).</summary>
    protected static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var deadline = Stopwatch.StartNew();
        var bound = within ?? LockTestServer.Timeout;
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < bound, $"not true within {bound.TotalSeconds} s: {what}");
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }
    }

    /// <summary>Waits until the server has <paramref name="count"/> requests queued on <paramref name="path"/>.</summary>
    protected Task WaitForQueueAsync(string path, int count)
        => WaitUntilAsync(async () => (await StateOfAsync(path)).Waiters == count, $"{count} queued on {path}");

    /// <summary>Bounds a task the test awaits.</summary>
    protected static Task<T> Bounded<T>(Task<T> task) => task.WaitAsync(LockTestServer.Timeout);

    protected static Task<T> Bounded<T>(ValueTask<T> task) => task.AsTask().WaitAsync(LockTestServer.Timeout);

    protected static Task Bounded(Task task) => task.WaitAsync(LockTestServer.Timeout);

    /// <summary>Asserts that <paramref name="task"/> is still running after <paramref name="wait"/>: a bounded look, not a sleep.</summary>
    protected static async Task AssertStillWaitingAsync(Task task, TimeSpan wait, string what)
    {
        var done = await Task.WhenAny(task, Task.Delay(wait));
        Assert.True(done != task, $"{what}: finished ({task.Status}) although it should still wait");
    }
}
