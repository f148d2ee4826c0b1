using System.Diagnostics;

namespace Leasehold.Client.Tests;

/// <summary>
/// One fresh real server per test (started in <see cref="InitializeAsync"/>, stopped and its data
/// directory deleted in <see cref="DisposeAsync"/>), clients of it, and bounded ways to wait.
/// </summary>
public abstract class ClientTestBase : IAsyncLifetime
{
    private ClientTestServer? _server;

    protected ClientTestServer Server => _server ?? throw new InvalidOperationException("the server is not started");

    /// <summary>Extra server settings for every test of the class.</summary>
    protected virtual string[] ServerArgs => [];

    /// <summary>A path prefix the server answers under only (as behind a reverse proxy), or null.</summary>
    protected virtual string? PathPrefix => null;

    public async Task InitializeAsync() => _server = await ClientTestServer.StartAsync(PathPrefix, ServerArgs);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>Acquire options for <paramref name="path"/>, with a ttl of <paramref name="ttlSeconds"/> or, when null, bound to a session.</summary>
    protected static AcquireOptions PathOptions(string path, double? ttlSeconds)
        => AcquireOptions.ForPath(path) with { Ttl = ttlSeconds is { } s ? TimeSpan.FromSeconds(s) : null };

    /// <summary>Waits, at most <paramref name="within"/>, for <paramref name="token"/> to fire; fails the test if it does not.</summary>
    protected static async Task<TimeSpan> AssertFiresAsync(CancellationToken token, TimeSpan within, string what)
    {
        var clock = Stopwatch.StartNew();
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (token.Register(() => fired.TrySetResult()))
        {
            var done = await Task.WhenAny(fired.Task, Task.Delay(within));
            Assert.True(done == fired.Task, $"{what}: did not fire within {within.TotalSeconds} s");
        }
        return clock.Elapsed;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, at most <paramref name="within"/> (default: the fixture's bound).</summary>
    protected static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var deadline = Stopwatch.StartNew();
        var bound = within ?? ClientTestServer.Timeout;
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < bound, $"not true within {bound.TotalSeconds} s: {what}");
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }
    }

    /// <summary>Bounds a task the test awaits.</summary>
    protected static Task<T> Bounded<T>(Task<T> task) => task.WaitAsync(ClientTestServer.Timeout);

    protected static Task Bounded(Task task) => task.WaitAsync(ClientTestServer.Timeout);
}
